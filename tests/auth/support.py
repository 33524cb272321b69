"""Builders for the auth tests: certificates made at test time, credentials files, requests.

Nothing secret is committed: every key and certificate is generated here, in a
temporary directory, with the ``cryptography`` package.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.app import run_service
from firekeeper.auth.credentials import token_hash
from firekeeper.auth.policy import REQUEST_MODULES
from firekeeper.config import Settings
from firekeeper.server import Bound

NOW = dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Pem:
    cert: Path
    key: Path

    @property
    def cert_bytes(self) -> bytes:
        return self.cert.read_bytes()

    @property
    def key_bytes(self) -> bytes:
        return self.key.read_bytes()


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(
    directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey
) -> Pem:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Pem(cert_path, key_path)


class Authority:
    """A throwaway CA that signs server and client certificates."""

    def __init__(self, directory: Path, name: str = "Firekeeper Test CA") -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(minutes=5))
            .not_valid_after(NOW + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            # what Python 3.13's strict verification (VERIFY_X509_STRICT) asks of a CA
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        self.pem = _write(directory, name.replace(" ", "_"), self.cert, self.key)

    def issue(self, stem: str, cn: str, *, server: bool) -> Pem:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(cn))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(minutes=5))
            .not_valid_after(NOW + dt.timedelta(days=1))
            # Python 3.13's strict verification wants the issuer's key id on a leaf
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        return _write(self.directory, stem, builder.sign(self.key, hashes.SHA256()), key)


def credential(
    name: str,
    token: str | None,
    tenants: list[str] | str,
    roles: list[str],
    **extra: Any,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"name": name, "tenants": tenants, "roles": roles, **extra}
    if token is not None:
        entry["token_sha256"] = token_hash(token)
    return entry


def write_credentials(path: Path, entries: list[dict[str, Any]]) -> Path:
    path.write_text(yaml.safe_dump({"credentials": entries}), encoding="utf-8")
    return path


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {token}"),)


# ---------------------------------------------------------------- every method


def all_methods() -> list[MethodDescriptor]:
    """Every method of every service in the Firekeeper descriptors."""
    return [
        method
        for module in REQUEST_MODULES
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
    ]


def method_path(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def _fill(message: Message, tenant: str, depth: int = 0) -> bool:
    """Set every ``tenant`` to ``tenant``, every platform to Telegram and every id to
    something, in ``message`` and the messages under it (one element of each list).
    True when some tenant field was set."""
    found = False
    descriptor: Descriptor = message.DESCRIPTOR
    for field in descriptor.fields:
        if field.message_type is not None and field.message_type.full_name.startswith("google."):
            continue
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.message_type.GetOptions().map_entry or depth > 4:
                continue
            if field.is_repeated:
                child = getattr(message, field.name).add()
            else:
                child = getattr(message, field.name)
            found = _fill(child, tenant, depth + 1) or found
        elif field.name == "tenant":
            setattr(message, field.name, tenant)
            found = True
        elif field.enum_type is not None and field.enum_type.name == "Platform":
            if not field.is_repeated:
                setattr(message, field.name, pb.PLATFORM_TELEGRAM)
        elif field.enum_type is not None and not field.is_repeated:
            setattr(message, field.name, 1)  # the first real value (kinds, resolutions)
        elif field.type == FieldDescriptor.TYPE_STRING:
            if field.is_repeated:
                getattr(message, field.name).append("x1")
            elif field.containing_oneof is None:
                setattr(message, field.name, "x1")
    return found


def request_for(method: MethodDescriptor, tenant: str) -> tuple[Message, bool]:
    """A request of ``method`` naming ``tenant`` everywhere it names one, and whether it does."""
    message = GetMessageClass(method.input_type)()
    return message, _fill(message, tenant)


# ---------------------------------------------------------------- the composed service


class Service:
    """``firekeeper.app.run_service`` on port 0 with ``settings``, for ``async with``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stop = asyncio.Event()
        self.bound: asyncio.Future[Bound] = asyncio.get_running_loop().create_future()
        self.task: asyncio.Task[int] | None = None

    async def __aenter__(self) -> str:
        self.task = asyncio.create_task(
            run_service(self.settings, stop_event=self.stop, on_ready=self.bound.set_result)
        )
        done, _ = await asyncio.wait({self.task, self.bound}, return_when=asyncio.FIRST_COMPLETED)
        if self.task in done:
            self.task.result()  # raises the start-up error
        return self.bound.result().grpc_address

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        assert await self.task == 0


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


async def call(
    channel: grpc.aio.Channel,
    method: MethodDescriptor,
    request: Message,
    metadata: tuple[tuple[str, str], ...] = (),
) -> grpc.StatusCode:
    """Call any method (unary or server-streaming) and return the status it ends with."""
    response_type = GetMessageClass(method.output_type)
    path = method_path(method)
    try:
        if method.server_streaming:
            stream = channel.unary_stream(
                path,
                request_serializer=_serialize,
                response_deserializer=response_type.FromString,
            )(request, metadata=metadata, timeout=5)
            async for _ in stream:
                break
            stream.cancel()
        else:
            await channel.unary_unary(
                path,
                request_serializer=_serialize,
                response_deserializer=response_type.FromString,
            )(request, metadata=metadata, timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK
