"""TLS, mutual TLS, certificate rotation and fair share, on a real server over loopback.

The server runs around the API tests' fake port; certificates are made at test
time by ``support.Authority``.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.auth.interceptor import STATUS_DETAILS_KEY, retry_metadata
from firekeeper.client import AsyncFirekeeperClient, Backoff, FirekeeperClient, tls_credentials
from firekeeper.client._auth import retry_hint
from firekeeper.config import Settings
from firekeeper.metrics import Metrics
from firekeeper.server import Server
from tests.api.support import FakePort

from .support import Authority, bearer, credential, write_credentials

LIST = pb.ListRulesetsRequest()


class Started:
    def __init__(self, server: Server, registry: CollectorRegistry) -> None:
        self.server, self.registry = server, registry
        self.address = f"127.0.0.1:{server.port}"

    def sample(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
async def serve(tmp_path: Path) -> AsyncIterator[Any]:
    servers: list[Server] = []

    async def start(**overrides: Any) -> Started:
        options: dict[str, Any] = {
            "grpc_address": "127.0.0.1:0",
            "metrics_port": None,
            "workers": 2,
            "grace_seconds": 1,
            "credentials_check_seconds": 0,
        }
        registry = CollectorRegistry()
        server = Server(
            Settings(**{**options, **overrides}),
            FakePort(),
            Metrics(registry),
            readiness_interval=0.05,
        )
        await server.start()
        servers.append(server)
        return Started(server, registry)

    yield start
    for server in servers:
        await server.stop(0)


@pytest.fixture
def pki(tmp_path: Path) -> Authority:
    return Authority(tmp_path)


def _creds_file(tmp_path: Path, **limits: Any) -> Path:
    return write_credentials(
        tmp_path / "credentials.yaml",
        [
            credential("acme", "token-acme", ["acme"], ["adapter"], **limits),
            credential("other", "token-other", ["other"], ["adapter"]),
            {
                "name": "by-cert",
                "client_cert": "adapter.acme",
                "tenants": ["acme"],
                "roles": ["adapter"],
            },
        ],
    )


async def test_tls_serves_verified_clients_and_refuses_plaintext(
    serve: Any, pki: Authority, tmp_path: Path
) -> None:
    server_pem = pki.issue("server", "localhost", server=True)
    started = await serve(
        tls_cert=str(server_pem.cert),
        tls_key=str(server_pem.key),
        credentials_file=str(_creds_file(tmp_path)),
    )
    tls = grpc.ssl_channel_credentials(root_certificates=pki.pem.cert_bytes)
    async with grpc.aio.secure_channel(started.address, tls) as channel:
        answer = await pb_grpc.GovernanceStub(channel).ListRulesets(
            LIST, metadata=bearer("token-acme"), timeout=5
        )
        assert [r.name for r in answer.rulesets] == ["hobby"]  # FakePort's
    async with grpc.aio.insecure_channel(started.address) as plain:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await pb_grpc.GovernanceStub(plain).ListRulesets(LIST, timeout=2)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    (tmp_path / "stranger").mkdir()
    stranger = Authority(tmp_path / "stranger", name="Someone Else")
    wrong = grpc.ssl_channel_credentials(root_certificates=stranger.pem.cert_bytes)
    async with grpc.aio.secure_channel(started.address, wrong) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await pb_grpc.GovernanceStub(channel).ListRulesets(LIST, timeout=2)
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_mutual_tls_names_the_caller_by_its_certificate(
    serve: Any, pki: Authority, tmp_path: Path
) -> None:
    server_pem = pki.issue("server", "localhost", server=True)
    started = await serve(
        tls_cert=str(server_pem.cert),
        tls_key=str(server_pem.key),
        tls_client_ca=str(pki.pem.cert),
        credentials_file=str(_creds_file(tmp_path)),
    )
    client = pki.issue("client", "adapter.acme", server=False)
    unknown = pki.issue("unknown", "someone.else", server=False)
    mtls = grpc.ssl_channel_credentials(pki.pem.cert_bytes, client.key_bytes, client.cert_bytes)
    async with grpc.aio.secure_channel(started.address, mtls) as channel:
        stub = pb_grpc.GovernanceStub(channel)
        await stub.ListRulesets(LIST, timeout=5)  # no token: the certificate is the credential
        key = pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="other", chat_id="1")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.GetChat(pb.GetChatRequest(key=key), timeout=5)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "'by-cert'" in (err.value.details() or "")
    nameless = grpc.ssl_channel_credentials(
        pki.pem.cert_bytes, unknown.key_bytes, unknown.cert_bytes
    )
    async with grpc.aio.secure_channel(started.address, nameless) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await pb_grpc.GovernanceStub(channel).ListRulesets(LIST, timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    no_cert = grpc.ssl_channel_credentials(pki.pem.cert_bytes)
    async with grpc.aio.secure_channel(started.address, no_cert) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await pb_grpc.GovernanceStub(channel).ListRulesets(
                LIST, metadata=bearer("token-acme"), timeout=2
            )
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE  # the handshake fails


async def test_a_replaced_certificate_serves_new_connections_without_restart(
    serve: Any, pki: Authority, tmp_path: Path
) -> None:
    first = pki.issue("server", "localhost", server=True)
    started = await serve(
        tls_cert=str(first.cert),
        tls_key=str(first.key),
        credentials_file=str(_creds_file(tmp_path)),
    )
    (tmp_path / "new").mkdir()
    newer_ca = Authority(tmp_path / "new", name="Rotated CA")
    rotated = newer_ca.issue("server", "localhost", server=True)
    first.cert.write_bytes(rotated.cert_bytes)
    first.key.write_bytes(rotated.key_bytes)
    new_trust = grpc.ssl_channel_credentials(root_certificates=newer_ca.pem.cert_bytes)
    async with grpc.aio.secure_channel(started.address, new_trust) as channel:
        await pb_grpc.GovernanceStub(channel).ListRulesets(
            LIST, metadata=bearer("token-acme"), timeout=5
        )
    old_trust = grpc.ssl_channel_credentials(root_certificates=pki.pem.cert_bytes)
    async with grpc.aio.secure_channel(started.address, old_trust) as channel:
        with pytest.raises(grpc.aio.AioRpcError):
            await pb_grpc.GovernanceStub(channel).ListRulesets(LIST, timeout=2)


def _retry_delay(err: grpc.aio.AioRpcError) -> float:
    raw = dict(err.trailing_metadata() or ())[STATUS_DETAILS_KEY]
    status = status_pb2.Status.FromString(raw)  # type: ignore[arg-type]
    infos = [error_details_pb2.RetryInfo() for _ in status.details]
    found = [
        info for info, detail in zip(infos, status.details, strict=True) if detail.Unpack(info)
    ]
    assert len(found) == 1, status  # ErrorInfo and QuotaFailure come with it, in any order
    quota, why = error_details_pb2.QuotaFailure(), error_details_pb2.ErrorInfo()
    assert any(d.Unpack(quota) for d in status.details), status
    assert quota.violations[0].subject.startswith("credential:")
    assert any(d.Unpack(why) for d in status.details)
    assert why.reason in ("RATE_LIMITED", "CONCURRENCY") and why.domain == "firekeeper"
    return float(found[0].retry_delay.ToNanoseconds()) / 1e9


async def test_a_flood_gets_resource_exhausted_with_retry_info_and_others_are_served(
    serve: Any, tmp_path: Path
) -> None:
    started = await serve(
        credentials_file=str(_creds_file(tmp_path, rate_limit=1, rate_burst=3)),
    )
    async with grpc.aio.insecure_channel(started.address) as channel:
        stub = pb_grpc.GovernanceStub(channel)
        for _ in range(3):
            await stub.ListRulesets(LIST, metadata=bearer("token-acme"), timeout=5)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListRulesets(LIST, metadata=bearer("token-acme"), timeout=5)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "rate limit of 1 per second" in (err.value.details() or "")
        assert 0.5 < _retry_delay(err.value) <= 1.0
        # another tenant's adapter has its own bucket
        await stub.ListRulesets(LIST, metadata=bearer("token-other"), timeout=5)
    assert (
        started.sample("firekeeper_auth_rejections_total", credential="acme", reason="rate_limited")
        == 1
    )
    assert started.sample("firekeeper_credential_rate_limit", credential="acme") == 1
    assert started.sample("firekeeper_credential_rate_limit", credential="other") == 200


async def test_calls_in_flight_past_the_limit_are_refused(serve: Any, tmp_path: Path) -> None:
    started = await serve(credentials_file=str(_creds_file(tmp_path, max_concurrent=1)))
    port: FakePort = started.server._port  # type: ignore[assignment]
    gate = threading.Event()
    port.blocked["tg:slow"] = gate
    event = pb.Event()
    event.envelope.MergeFrom(
        pb.Envelope(event_id="tg:slow", platform=pb.PLATFORM_TELEGRAM, tenant="acme", chat_id="1")
    )
    event.envelope.occurred_at.FromSeconds(1_700_000_000)
    event.envelope.actor.id = "u"
    event.message_posted.message_id = "m"
    async with grpc.aio.insecure_channel(started.address) as channel:
        stub = pb_grpc.GovernanceStub(channel)
        slow = asyncio.ensure_future(
            stub.Evaluate(
                pb.EvaluateRequest(event=event), metadata=bearer("token-acme"), timeout=10
            )
        )
        await asyncio.to_thread(port.entered.wait, 5)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.ListRulesets(LIST, metadata=bearer("token-acme"), timeout=5)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert _retry_delay(err.value) > 0
        gate.set()
        await slow
        await stub.ListRulesets(LIST, metadata=bearer("token-acme"), timeout=5)  # released
    assert (
        started.sample("firekeeper_auth_rejections_total", credential="acme", reason="concurrency")
        == 1
    )


async def test_the_client_sends_its_token_over_tls_and_waits_as_retry_info_asks(
    serve: Any, pki: Authority, tmp_path: Path
) -> None:
    server_pem = pki.issue("server", "localhost", server=True)
    started = await serve(
        tls_cert=str(server_pem.cert),
        tls_key=str(server_pem.key),
        credentials_file=str(_creds_file(tmp_path, rate_limit=2, rate_burst=1)),
    )
    tls = tls_credentials(ca=pki.pem.cert)
    hurried = Backoff(initial=0.001, maximum=0.001, jitter=0.0)
    async with AsyncFirekeeperClient(
        f"localhost:{started.server.port}", token="token-acme", credentials=tls, backoff=hurried
    ) as client:
        await client.list_rulesets()
        start = time.monotonic()
        await client.list_rulesets()  # refused once, then sent again after the hint
        waited = time.monotonic() - start
    assert waited >= 0.4  # the hint (about 0.5 s), not the 1 ms backoff
    # one refusal, not a retry storm
    assert (
        started.sample("firekeeper_auth_rejections_total", credential="acme", reason="rate_limited")
        == 1
    )

    def blocking() -> int:
        with FirekeeperClient(
            f"localhost:{started.server.port}", token="token-other", credentials=tls
        ) as sync_client:
            return len(sync_client.list_rulesets())

    assert await asyncio.to_thread(blocking) == 1
    with pytest.raises(ValueError, match="cannot read"):
        tls_credentials(ca=tmp_path / "missing.pem")


def test_a_retry_hint_is_read_from_the_status_details() -> None:
    metadata = retry_metadata("slow down", 1.25)
    assert retry_hint(metadata) == 1.25
    assert retry_hint(()) is None and retry_hint([(STATUS_DETAILS_KEY, b"\xff\xff")]) is None
    assert retry_hint(retry_metadata("x", 3600)) == 60.0  # capped


async def test_the_health_port_is_plaintext_and_serves_health_only(
    serve: Any, pki: Authority, tmp_path: Path
) -> None:
    server_pem = pki.issue("server", "localhost", server=True)
    started = await serve(
        tls_cert=str(server_pem.cert),
        tls_key=str(server_pem.key),
        credentials_file=str(_creds_file(tmp_path)),
        health_address="127.0.0.1:0",
    )
    async with grpc.aio.insecure_channel(f"127.0.0.1:{started.server.health_port}") as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="firekeeper.v1.Governance"), timeout=5
        )
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await pb_grpc.GovernanceStub(channel).ListRulesets(
                LIST, metadata=bearer("token-acme"), timeout=5
            )
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
