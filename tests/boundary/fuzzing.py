"""Hypothesis strategies built from the proto descriptors, a live service in a thread,
and the status classes the fuzz suites accept."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from google.protobuf.message import Message
from hypothesis import strategies as st

from firekeeper.api.gen.firekeeper.v1 import admin_pb2, lifecycle_pb2, screening_pb2
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.app import run_service
from firekeeper.server import Bound

from .support import REGISTER, settings_for

ALLOWED = frozenset(
    {
        grpc.StatusCode.OK,
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.ALREADY_EXISTS,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
    }
)
# A server stream that has nothing to send within the client's deadline ends so.
ALLOWED_STREAM = ALLOWED | {grpc.StatusCode.DEADLINE_EXCEEDED}

METHODS: tuple[MethodDescriptor, ...] = tuple(
    method
    for module in (pb, screening_pb2, lifecycle_pb2, admin_pb2)
    for service in module.DESCRIPTOR.services_by_name.values()
    for method in service.methods
)


def path_of(method: MethodDescriptor) -> str:
    return f"/{method.containing_service.full_name}/{method.name}"


def message_class(descriptor: Descriptor) -> type[Message]:
    return message_factory.GetMessageClass(descriptor)


# ---------------------------------------------------------------- strategies

NASTY_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\n",
    "e1\n2026-01-01T00:00:00.000Z INFO forged: admin=true",
    "\x1b[31m",
    "²",
    "٣",
    "9" * 19,
    "9" * 400,
    "-1",
    "tick:1",
    "acme",
    "c1",
    "u1",
    "x" * 300,
    "x" * 5000,
    "界" * 20_000,
    "\u2028",
    "\U0001f525",
]
_INT_EDGES = [0, 1, -1, 2**31 - 1, -(2**31), 2**31, 2**53 - 1, 2**53, 2**63 - 1, -(2**63)]
_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_ENUM: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _scalar(field: FieldDescriptor) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_STRING:
        # protobuf cannot carry a lone surrogate in a str; raw bytes try those
        return st.one_of(
            st.sampled_from(NASTY_STRINGS), st.text(st.characters(codec="utf-8"), max_size=30)
        )
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=40)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return st.floats(width=32 if field.type == FieldDescriptor.TYPE_FLOAT else 64)
    low, high = _RANGES[field.type]
    edges = [v for v in _INT_EDGES if low <= v <= high]
    if field.type == FieldDescriptor.TYPE_ENUM:
        assert field.enum_type is not None
        edges += [v.number for v in field.enum_type.values] + [99, 12345]
    return st.one_of(st.sampled_from(edges), st.integers(low, high))


def _value(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        assert field.message_type is not None
        return messages(field.message_type, depth + 1)
    return _scalar(field)


@st.composite
def _build(draw: st.DrawFn, descriptor: Descriptor, depth: int) -> Message:
    msg = message_class(descriptor)()
    for field in descriptor.fields:
        if not draw(st.booleans()):  # missing fields are a case too
            continue
        entry = field.message_type if field.type == FieldDescriptor.TYPE_MESSAGE else None
        if entry is not None and entry.GetOptions().map_entry:
            key = _scalar(entry.fields_by_name["key"])
            value = _value(entry.fields_by_name["value"], depth)
            mapping = getattr(msg, field.name)
            for k, v in draw(st.dictionaries(key, value, max_size=3)).items():
                if isinstance(v, Message):
                    mapping[k].CopyFrom(v)
                else:
                    mapping[k] = v
        elif field.is_repeated:
            items = draw(st.lists(_value(field, depth), max_size=3))
            target = getattr(msg, field.name)
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                for item in items:
                    target.add().CopyFrom(item)
            else:
                target.extend(items)
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            getattr(msg, field.name).CopyFrom(draw(_value(field, depth)))
        else:
            setattr(msg, field.name, draw(_scalar(field)))
    return msg


def messages(descriptor: Descriptor, depth: int = 0) -> st.SearchStrategy[Message]:
    """Any message of this type, field by field; past depth 4 an empty one."""
    if depth > 4:
        return st.just(message_class(descriptor)())
    return _build(descriptor, depth)


# Valid requests to start from: a random message merged into one of these reaches
# past the first required-field check, so the fuzz gets deep into the converters.
_EVENT = {
    "envelope": {
        "event_id": "f1",
        "platform": "PLATFORM_TELEGRAM",
        "tenant": "acme",
        "chat_id": "c1",
        "occurred_at": "2026-11-24T09:30:00Z",
        "actor": {"id": "u1", "display_name": "Una"},
    },
    "message_posted": {"message_id": "m1", "text": "hello"},
}
_KEY = {"platform": "PLATFORM_TELEGRAM", "tenant": "acme", "chat_id": "c1"}
TEMPLATES: dict[str, dict[str, Any]] = {
    "Evaluate": {"event": _EVENT},
    "EvaluateBatch": {"events": [_EVENT]},
    "RegisterChat": REGISTER,
    "GetChat": {"key": _KEY},
    "ListHeldJoins": {"tenant": "acme"},
    "ResolveHeldJoin": {"chat": _KEY, "user_id": "u1", "resolution": "RESOLUTION_APPROVE"},
    "AddBlocklistEntries": {
        "tenant": "acme",
        "entries": [{"kind": "BLOCKLIST_KIND_DOMAIN", "value": "spam.example"}],
    },
    "RemoveBlocklistEntries": {
        "tenant": "acme",
        "entries": [{"kind": "BLOCKLIST_KIND_DOMAIN", "value": "spam.example"}],
    },
    "ListBlocklist": {"tenant": "acme"},
    "SetChatScreening": {"chat": _KEY, "allowed_domains": ["example.org"]},
    "GetChatScreening": {"chat": _KEY},
    "StreamActions": {"platform": "PLATFORM_TELEGRAM", "tenant": "acme"},
    "Ack": {"platform": "PLATFORM_TELEGRAM", "tenant": "acme", "ids": ["1"]},
    "GetChatHealth": {"key": _KEY},
}


def template(method: MethodDescriptor) -> Message:
    msg = message_class(method.input_type)()
    json_format.ParseDict(TEMPLATES.get(method.name, {}), msg)
    return msg


@st.composite
def requests(draw: st.DrawFn) -> tuple[MethodDescriptor, Message]:
    method = draw(st.sampled_from(METHODS))
    noise = draw(messages(method.input_type))
    if draw(st.booleans()):
        base = template(method)
        base.MergeFrom(noise)
        return method, base
    return method, noise


@st.composite
def payloads(draw: st.DrawFn) -> tuple[MethodDescriptor, bytes]:
    """Raw request bytes: random, or a valid request's bytes cut, flipped or spliced."""
    method = draw(st.sampled_from(METHODS))
    if draw(st.booleans()):
        return method, draw(st.binary(max_size=300))
    data = bytearray(template(method).SerializeToString())
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["flip", "cut", "insert", "surrogate"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "cut":
            del data[at:]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        else:  # a string field holding a lone surrogate, as CESU bytes
            data[at:at] = b"\x0a\x03\xed\xa0\x80"
    return method, bytes(data)


# ---------------------------------------------------------------- calling


@dataclass
class Tally:
    counts: Counter[str]

    def add(self, code: grpc.StatusCode) -> None:
        self.counts[code.name] += 1

    def summary(self, title: str) -> str:
        total = sum(self.counts.values())
        rows = ", ".join(f"{name} {n}" for name, n in self.counts.most_common())
        return f"{title}: {total} calls: {rows}"


def call(
    channel: grpc.Channel, method: MethodDescriptor, request: bytes, timeout: float = 5.0
) -> grpc.StatusCode:
    """Send ``request`` (serialised) to ``method``; the status code of the answer."""
    path = path_of(method)
    try:
        if method.server_streaming:
            stream = channel.unary_stream(path)(request, timeout=0.3)
            for _ in stream:
                break  # one item is enough: the request was accepted
            stream.cancel()
        else:
            channel.unary_unary(path)(request, timeout=timeout)
    except grpc.RpcError as exc:
        return exc.code()  # type: ignore[no-any-return]
    return grpc.StatusCode.OK


@contextmanager
def live_service(store_url: str) -> Iterator[str]:
    """The real service (``run_service``) on its own thread and event loop."""
    ready = threading.Event()
    where: list[Bound] = []
    failed: list[BaseException] = []
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    def on_ready(bound: Bound) -> None:
        where.append(bound)
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(
                run_service(settings_for(store_url), stop_event=stop, on_ready=on_ready)
            )
        except BaseException as exc:
            failed.append(exc)
            ready.set()
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="fuzz-service", daemon=True)
    thread.start()
    ready.wait(60)
    if failed:
        raise failed[0]
    try:
        yield where[0].grpc_address
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(30)
