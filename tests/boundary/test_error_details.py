"""Refusals carry the standard ``google.rpc`` details in ``grpc-status-details-bin``.

A plain gRPC client (a grpc channel and the generated stubs, none of firekeeper.client)
decodes them with grpcio-status (``grpc_status.rpc_status.from_call``), as grpcurl, Go's
``status.FromError`` and Java's ``StatusProto.fromThrowable`` do; the Python client
raises typed errors carrying the same details.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.status import FIELD_METADATA_KEY, MAX_DETAILS_BYTES, details_size, status_for
from firekeeper.client import FirekeeperClient, InvalidArgument, NotFound
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.errors import (
    AlreadyResolved,
    Diagnostic,
    HeldJoinNotFound,
    RulesetError,
    StoreUnavailable,
)

from .support import evaluate, register, service


def _plain_call(address: str, call: Callable[[pb_grpc.GovernanceStub], Any]) -> grpc.RpcError:
    """``call`` on a plain synchronous channel and stub; the error it raised."""
    with grpc.insecure_channel(address) as channel:
        try:
            call(pb_grpc.GovernanceStub(channel))
        except grpc.RpcError as exc:
            return exc
    raise AssertionError("the call succeeded")


def _detail(status: status_pb2.Status, kind: type[Message]) -> Any:
    found = []
    for detail in status.details:
        message = kind()
        if detail.Unpack(message):
            found.append(message)
    assert len(found) == 1, (kind.__name__, status)
    return found[0]


async def test_a_plain_client_reads_bad_request_resource_and_error_info(store_url: str) -> None:
    async with service(store_url) as svc:
        await pb_grpc.GovernanceStub(svc.channel).RegisterChat(register())

        def nul_text(stub: pb_grpc.GovernanceStub) -> Any:
            return stub.Evaluate(
                evaluate("e1", message_posted={"message_id": "m", "text": "a\x00b"}), timeout=5
            )

        err = await asyncio.to_thread(_plain_call, svc.address, nul_text)
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
        status = rpc_status.from_call(err)  # type: ignore[arg-type]
        assert status is not None and status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
        bad = _detail(status, error_details_pb2.BadRequest)
        [violation] = bad.field_violations
        assert violation.field == "event.message_posted.text"
        assert "NUL" in violation.description
        info = _detail(status, error_details_pb2.ErrorInfo)
        assert (info.reason, info.domain) == ("INVALID_FIELD", "firekeeper")
        # the deprecated trailer is still sent, for clients of 0.1
        trailer = dict(err.trailing_metadata() or ())  # type: ignore[attr-defined]
        assert trailer[FIELD_METADATA_KEY] == "event.message_posted.text"

        # a converter's refusal (not the boundary's): a creation time in the future
        def future(stub: pb_grpc.GovernanceStub) -> Any:
            return stub.RegisterChat(register(created_at="2100-01-01T00:00:00Z"), timeout=5)

        status = rpc_status.from_call(await asyncio.to_thread(_plain_call, svc.address, future))  # type: ignore[arg-type]
        assert status is not None
        [violation] = _detail(status, error_details_pb2.BadRequest).field_violations
        assert violation.field == "created_at" and violation.description

        def unknown_chat(stub: pb_grpc.GovernanceStub) -> Any:
            key = pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="acme", chat_id="nope")
            return stub.GetChat(pb.GetChatRequest(key=key), timeout=5)

        err = await asyncio.to_thread(_plain_call, svc.address, unknown_chat)
        assert err.code() == grpc.StatusCode.NOT_FOUND  # type: ignore[attr-defined]
        status = rpc_status.from_call(err)  # type: ignore[arg-type]
        assert status is not None
        resource = _detail(status, error_details_pb2.ResourceInfo)
        assert resource.resource_type == "firekeeper.v1.Chat"
        assert "nope" in resource.resource_name
        assert _detail(status, error_details_pb2.ErrorInfo).reason == "CHAT_NOT_FOUND"

        def unknown_ruleset(stub: pb_grpc.GovernanceStub) -> Any:
            return stub.RegisterChat(register(chat_id="c2", ruleset="no-such-ruleset"), timeout=5)

        status = rpc_status.from_call(
            await asyncio.to_thread(_plain_call, svc.address, unknown_ruleset)  # type: ignore[arg-type]
        )
        assert status is not None
        resource = _detail(status, error_details_pb2.ResourceInfo)
        assert (resource.resource_type, resource.resource_name) == (
            "firekeeper.v1.Ruleset",
            "no-such-ruleset",
        )

        # bytes that are no message: ErrorInfo, and no BadRequest (there is no field)
        with pytest.raises(grpc.aio.AioRpcError) as info_:
            await svc.channel.unary_unary("/firekeeper.v1.Governance/Evaluate")(b"\xff\xff")
        status = rpc_status.from_call(info_.value)  # type: ignore[arg-type]
        assert status is not None
        assert _detail(status, error_details_pb2.ErrorInfo).reason == "UNDECODABLE_REQUEST"
        assert not any(d.Is(error_details_pb2.BadRequest.DESCRIPTOR) for d in status.details)


async def test_the_python_client_raises_typed_errors_with_the_details(store_url: str) -> None:
    async with service(store_url) as svc:

        def calls() -> tuple[InvalidArgument, NotFound]:
            with FirekeeperClient(svc.address, timeout=5) as client:
                with pytest.raises(InvalidArgument) as bad:
                    client.get_chat(ChatKey(Platform.TELEGRAM, "acme", "c\x00"))
                with pytest.raises(NotFound) as missing:
                    client.get_chat(ChatKey(Platform.TELEGRAM, "acme", "absent"))
            return bad.value, missing.value

        bad, missing = await asyncio.to_thread(calls)
        assert bad.field == "key.chat_id" and bad.field_violations[0].field == "key.chat_id"
        assert "NUL" in bad.reason
        assert bad.error_info is not None and bad.error_info.reason == "INVALID_FIELD"
        assert (
            missing.resource is not None and missing.resource.resource_type == "firekeeper.v1.Chat"
        )
        assert missing.error_info is not None and missing.error_info.reason == "CHAT_NOT_FOUND"
        assert missing.field == "" and missing.field_violations == ()


def test_a_long_ruleset_error_keeps_its_details_under_the_bound() -> None:
    diagnostics = [
        Diagnostic(f"rules-{i}.yaml", i + 1, 3, "unknown field " + "x" * 80, f"rules[{i}].when")
        for i in range(300)
    ]
    status = status_for(RulesetError(diagnostics)).rich_status()
    assert 0 < details_size(status) <= MAX_DETAILS_BYTES
    failure = _detail(status, error_details_pb2.PreconditionFailure)
    assert 1 <= len(failure.violations) < 300  # the first ones, whole
    assert failure.violations[0].subject == "rules-0.yaml:1:3"
    assert failure.violations[0].description.startswith("rules[0].when: unknown field")
    assert _detail(status, error_details_pb2.ErrorInfo).reason == "RULESET_INVALID"


def test_each_error_maps_to_its_standard_details(caplog: pytest.LogCaptureFixture) -> None:
    held = status_for(HeldJoinNotFound("telegram/acme/c1", "u9")).rich_status()
    resource = _detail(held, error_details_pb2.ResourceInfo)
    assert (resource.resource_type, resource.resource_name) == (
        "firekeeper.v1.HeldJoin",
        "telegram/acme/c1/u9",
    )
    done = status_for(AlreadyResolved("telegram/acme/c1", "u9", "approved")).rich_status()
    [violation] = _detail(done, error_details_pb2.PreconditionFailure).violations
    assert (violation.type, violation.subject) == ("ALREADY_RESOLVED", "telegram/acme/c1/u9")
    assert "approved" in violation.description
    down = status_for(StoreUnavailable("connection refused")).rich_status()
    assert down.code == grpc.StatusCode.UNAVAILABLE.value[0]
    assert _detail(down, error_details_pb2.RetryInfo).retry_delay.ToMilliseconds() == 100
    assert _detail(down, error_details_pb2.ErrorInfo).reason == "STORE_UNAVAILABLE"
    bug = status_for(RuntimeError("boom"), context="test")
    ref = _detail(bug.rich_status(), error_details_pb2.RequestInfo).request_id
    assert ref and f"(ref {ref})" in bug.message and ref in caplog.text
    assert _detail(bug.rich_status(), error_details_pb2.ErrorInfo).metadata["ref"] == ref
    assert "boom" not in bug.message  # the traceback goes to the log only
