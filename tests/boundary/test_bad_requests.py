"""Every bad request of issue 9 item 6, sent to the real service over loopback, is
answered INVALID_ARGUMENT with its field path, and the stored state is unchanged
(SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2_grpc as lpb_grpc
from firekeeper.api.gen.firekeeper.v1 import screening_pb2 as spb
from firekeeper.api.gen.firekeeper.v1 import screening_pb2_grpc as spb_grpc
from firekeeper.api.status import FIELD_METADATA_KEY

from .support import Service, evaluate, register, service

KEY = pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="acme", chat_id="c1")


async def _refused(call: Any) -> tuple[str, str]:
    """The field path and message of an INVALID_ARGUMENT answer."""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, info.value.details()
    # the standard carrier: a BadRequest in grpc-status-details-bin, as any gRPC client reads it
    status = rpc_status.from_call(info.value)  # type: ignore[arg-type]
    assert status is not None, info.value.details()
    violations = [
        v
        for d in status.details
        if d.Unpack(bad := error_details_pb2.BadRequest())
        for v in bad.field_violations
    ]
    field = violations[0].field if violations else ""
    # the deprecated firekeeper-field trailer says the same (percent-encoded when not ASCII)
    fields = dict(info.value.trailing_metadata() or ())
    assert unquote(str(fields.get(FIELD_METADATA_KEY, ""))) == field
    return field, str(info.value.details())


async def _state(svc: Service) -> pb.ChatState:
    return await pb_grpc.GovernanceStub(svc.channel).GetChat(pb.GetChatRequest(key=KEY))


async def test_bad_requests_are_refused_with_field_paths(store_url: str) -> None:
    async with service(store_url) as svc:
        gov = pb_grpc.GovernanceStub(svc.channel)
        await gov.RegisterChat(register())
        before = await _state(svc)

        cases = {
            "event.message_posted.text": gov.Evaluate(
                evaluate("e1", message_posted={"message_id": "m", "text": "a\x00b"})
            ),
            "chat_id": gov.RegisterChat(register(chat_id="c\x00")),
            "params['hard\\x00']": gov.RegisterChat(register(params={"hard\x00": "1"})),
            "event.envelope.actor.display_name": gov.Evaluate(
                _with_actor_name(evaluate("e2"), "Una\x00")
            ),
            "ids[0]": lpb_grpc.OutboxStub(svc.channel).Ack(
                lpb.AckRequest(
                    platform=pb.PLATFORM_TELEGRAM, tenant="acme", ids=["9999999999999999999"]
                )
            ),
            "member_count": gov.RegisterChat(register(member_count=str(2**53))),
            "event.chat_updated.platform_member_count": gov.Evaluate(
                evaluate("e3", chat_updated={"platform_member_count": str(2**63 - 1)})
            ),
            "event.envelope.occurred_at": gov.Evaluate(
                evaluate("e4", occurred_at="0001-01-01T00:00:00Z")
            ),
            "created_at": gov.RegisterChat(register(created_at="2100-01-01T00:00:00Z")),
            "hard_cap": gov.RegisterChat(register(params={"hard_cap": "1" * 400})),
            "page_token": spb_grpc.ScreeningStub(svc.channel).ListHeldJoins(
                spb.ListHeldJoinsRequest(tenant="acme", page_token="²")
            ),
        }
        for path, call in cases.items():
            field, message = await _refused(call)
            assert field == path or message.startswith(path) or f"'{path}'" in message, (
                path,
                field,
                message,
            )

        # The chat is as it was, and joins still work (2**63 - 1 had broken them).
        after = await _state(svc)
        assert after == before
        joined = await gov.Evaluate(evaluate("e5", member_joined={"member": {"id": "u9"}}))
        assert not joined.decision.replayed
        assert (await _state(svc)).member_count == before.member_count + 1
        assert " ERROR " not in svc.text_log.getvalue()


async def test_one_bad_event_of_a_batch_fails_only_itself(store_url: str) -> None:
    async with service(store_url) as svc:
        gov = pb_grpc.GovernanceStub(svc.channel)
        await gov.RegisterChat(register())
        good = evaluate("b1").event
        bad = evaluate("b2", message_posted={"message_id": "m", "text": "nul \x00 here"}).event
        reply = await gov.EvaluateBatch(pb.EvaluateBatchRequest(events=[good, bad]))
        first, second = reply.results
        assert first.decision.event_id == "b1"
        assert second.error.code == "INVALID_ARGUMENT"
        assert second.error.field == "events[1].message_posted.text"


def _with_actor_name(request: pb.EvaluateRequest, name: str) -> pb.EvaluateRequest:
    request.event.envelope.actor.display_name = name
    return request


async def test_counts_past_2_31_are_kept(store_url: str) -> None:
    """Member counts are BIGINT (migration 0006): 2**31 and 2**53 - 1 fit."""
    async with service(store_url) as svc:
        gov = pb_grpc.GovernanceStub(svc.channel)
        state = await gov.RegisterChat(register(member_count=str(2**31)))
        assert state.member_count == 2**31
        await gov.Evaluate(evaluate("e1", chat_updated={"platform_member_count": str(2**53 - 1)}))
        assert (await _state(svc)).member_count == 2**53 - 1
        joined = await gov.Evaluate(evaluate("e2", member_joined={"member": {"id": "u9"}}))
        assert joined.decision.event_id == "e2"


async def test_undecodable_bytes_get_invalid_argument_and_one_warning(store_url: str) -> None:
    async with service(store_url) as svc:
        call = svc.channel.unary_unary("/firekeeper.v1.Governance/Evaluate")
        for _ in range(3):
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await call(b"\xff\xff\xff\xff secret payload")
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # A lone surrogate, as UTF-8 cannot hold it (CESU-style bytes): field 1, length 3.
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await svc.channel.unary_unary("/firekeeper.v1.Governance/GetChat")(
                b"\x0a\x05\x12\x03\xed\xa0\x80"
            )
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        text = svc.text_log.getvalue()
        warnings = [line for line in text.splitlines() if "undecodable request" in line]
        assert len(warnings) == 4 and all(" WARNING " in w for w in warnings)
        assert "secret payload" not in svc.log() and "Traceback" not in text
