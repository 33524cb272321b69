"""A real grpc.aio server on port 0 with a fake GovernancePort."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.servicer import MAX_BATCH
from firekeeper.domain import MessagePosted, Platform
from firekeeper.domain.chats import ChatKey
from firekeeper.errors import (
    Diagnostic,
    RulesetError,
    StoreUnavailable,
    UnknownRuleset,
)

from .conftest import Running, StartServer
from .support import PAYLOADS, event

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def request(event_id: str = "e1", **kw: object) -> pb.EvaluateRequest:
    return pb.EvaluateRequest(event=convert.event_to_proto(event(event_id=event_id, **kw)))  # type: ignore[arg-type]


async def test_evaluate_returns_the_decision(running: Running) -> None:
    response = await running.stub.Evaluate(request("e1"))
    decision = convert.decision_from_proto(response.decision)
    assert decision.event_id == "e1"
    assert [a.type.value for a in decision.actions] == ["warn_user", "mute"]
    assert decision.actions[1].duration_seconds == 600
    assert [m.rule_id for m in decision.trace] == ["promo.too_early", "topic.drift"]
    assert (decision.ruleset, decision.ruleset_version, decision.replayed) == ("hobby", "3", False)
    assert running.port.evaluated == ["e1"]

    again = await running.stub.Evaluate(request("e1"))
    assert again.decision.replayed


async def test_evaluate_batch_keeps_order_and_isolates_bad_events(running: Running) -> None:
    running.port.failures["e4"] = StoreUnavailable("connection refused")
    running.port.failures["e5"] = RuntimeError("secret stack detail")
    events = [
        convert.event_to_proto(event(p, event_id=f"e{i}"))
        for i, p in enumerate(
            [
                PAYLOADS["message_posted"],
                PAYLOADS["member_joined"],
                PAYLOADS["chat_updated"],
                PAYLOADS["role_changed"],
                PAYLOADS["member_left"],
                PAYLOADS["join_requested"],
            ]
        )
    ]
    events[1].envelope.platform = 99  # type: ignore[assignment]
    events[3].ClearField("role_changed")
    response = await running.stub.EvaluateBatch(pb.EvaluateBatchRequest(events=events))

    kinds = [r.WhichOneof("result") for r in response.results]
    assert kinds == ["decision", "error", "decision", "error", "error", "error"]
    assert response.results[0].decision.event_id == "e0"
    assert response.results[2].decision.event_id == "e2"
    bad = response.results[1].error
    assert (bad.code, bad.field) == ("INVALID_ARGUMENT", "events[1].envelope.platform")
    assert "unknown platform" in bad.message
    assert response.results[3].error.field == "events[3].payload"
    assert response.results[4].error.code == "UNAVAILABLE"
    internal = response.results[5].error
    assert internal.code == "INTERNAL" and "secret" not in internal.message
    # the bad events never reached the port; the others were evaluated in order
    assert running.port.evaluated == ["e0", "e2", "e4", "e5"]
    assert running.sample("firekeeper_errors_total", code="INVALID_ARGUMENT") == 2


async def test_empty_and_oversized_batches(running: Running) -> None:
    empty = await running.stub.EvaluateBatch(pb.EvaluateBatchRequest())
    assert list(empty.results) == []
    one = convert.event_to_proto(event())
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.stub.EvaluateBatch(pb.EvaluateBatchRequest(events=[one] * (MAX_BATCH + 1)))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "at most 500" in (info.value.details() or "")
    assert running.port.evaluated == []


async def test_invalid_argument_carries_the_field_path(running: Running) -> None:
    bad = request()
    bad.event.envelope.event_id = ""
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.stub.Evaluate(bad)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == "event.envelope.event_id: required"
    assert ("firekeeper-field", "event.envelope.event_id") in tuple(
        info.value.trailing_metadata() or ()
    )
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.stub.Evaluate(pb.EvaluateRequest())
    assert info.value.details() == "event: required"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (StoreUnavailable("db down"), grpc.StatusCode.UNAVAILABLE),
        (UnknownRuleset("nope", ["hobby"]), grpc.StatusCode.NOT_FOUND),
        (RulesetError([Diagnostic("a.yaml", 3, 5, "bad")]), grpc.StatusCode.FAILED_PRECONDITION),
        (RuntimeError("password=hunter2"), grpc.StatusCode.INTERNAL),
    ],
)
async def test_errors_map_to_status_codes(
    running: Running, error: Exception, code: grpc.StatusCode, caplog: pytest.LogCaptureFixture
) -> None:
    running.port.failures["e1"] = error
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.stub.Evaluate(request("e1"))
    assert info.value.code() == code
    if code == grpc.StatusCode.INTERNAL:
        assert "hunter2" not in (info.value.details() or "")
        assert "internal error (ref " in (info.value.details() or "")
        assert "hunter2" in caplog.text  # the traceback is in the log, not on the wire
    else:
        assert info.value.details() == str(error)
    assert running.sample("firekeeper_errors_total", code=code.name) == 1


async def test_register_get_chat_and_list_rulesets(running: Running) -> None:
    key = pb.ChatKey(platform=pb.PLATFORM_DISCORD, tenant="acme", chat_id="g1")
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.stub.GetChat(pb.GetChatRequest(key=key))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND

    state = await running.stub.RegisterChat(
        pb.RegisterChatRequest(
            platform=pb.PLATFORM_DISCORD,
            tenant="acme",
            chat_id="g1",
            kind=pb.CHAT_KIND_HOBBY,
            params={"max_members": "120"},
            member_count=7,
        )
    )
    assert state.kind == pb.CHAT_KIND_HOBBY and state.size_tier == "small"
    assert dict(state.params) == {"max_members": "120"}
    fetched = await running.stub.GetChat(pb.GetChatRequest(key=key))
    assert fetched == state
    assert running.port.chats[ChatKey(Platform.DISCORD, "acme", "g1")].chat.member_count == 7

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.stub.GetChat(pb.GetChatRequest(key=pb.ChatKey(tenant="acme", chat_id="g")))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.details() == "key.platform: required: the platform is unspecified"

    rulesets = await running.stub.ListRulesets(pb.ListRulesetsRequest())
    assert [(r.name, r.rule_count, r.params[0].name) for r in rulesets.rulesets] == [
        ("hobby", 12, "max_members")
    ]


async def test_metrics_change_after_calls(running: Running) -> None:
    labels = {"platform": "telegram", "kind": "message.posted"}
    assert running.sample("firekeeper_events_total", **labels) == 0  # initialised up front
    await running.stub.Evaluate(request("e1"))
    await running.stub.Evaluate(request("e1"))  # a retry: replayed, not counted again
    assert running.sample("firekeeper_events_total", **labels) == 1
    assert running.sample("firekeeper_actions_total", type="mute", rule="promo.too_early") == 1
    assert running.sample("firekeeper_decisions_replayed_total") == 1
    assert running.sample("firekeeper_evaluation_seconds_count", kind="message.posted") == 2
    assert running.sample("firekeeper_inflight_requests") == 0
    assert running.sample("firekeeper_ready") == 1


async def test_health_serving_once_ready(running: Running) -> None:
    health: Any = health_pb2_grpc.HealthStub(running.channel)
    for service in ("", "firekeeper.v1.Governance"):
        reply = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert reply.status == SERVING

    running.port.is_ready = False
    await _wait_for_status(health, NOT_SERVING)
    assert running.sample("firekeeper_ready") == 0
    running.port.ready_error = StoreUnavailable("db down")
    running.port.is_ready = True
    await asyncio.sleep(0.15)
    assert (await health.Check(health_pb2.HealthCheckRequest())).status == NOT_SERVING
    running.port.ready_error = None
    await _wait_for_status(health, SERVING)


async def _wait_for_status(health: Any, want: int) -> None:
    for _ in range(100):
        if (await health.Check(health_pb2.HealthCheckRequest())).status == want:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"health never became {want}")


async def test_reflection_lists_the_services(running: Running) -> None:
    stub: Any = reflection_pb2_grpc.ServerReflectionStub(running.channel)  # type: ignore[arg-type]
    call = stub.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name async for r in call for s in r.list_services_response.service}
    assert {"firekeeper.v1.Governance", "grpc.health.v1.Health"} <= names


async def test_expired_deadline_is_not_evaluated(running: Running) -> None:
    call = asyncio.ensure_future(running.stub.Evaluate(request("late"), timeout=0.05))
    await asyncio.sleep(0)  # the call is on its way ...
    time.sleep(0.2)  # ... and the server's loop is busy until its deadline has passed
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    await asyncio.sleep(0.05)
    assert running.port.evaluated == []


async def test_deadline_passed_while_waiting_for_a_worker(start_server: StartServer) -> None:
    run = await start_server(workers=1)
    gate = run.port.blocked["slow"] = threading.Event()
    slow = asyncio.ensure_future(run.stub.Evaluate(request("slow")))
    assert await asyncio.to_thread(run.port.entered.wait, 5)
    with pytest.raises(grpc.aio.AioRpcError) as info:  # queued behind "slow" on the one worker
        await run.stub.Evaluate(request("queued"), timeout=0.2)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    gate.set()
    await slow
    await asyncio.sleep(0.1)
    assert run.port.evaluated == ["slow"]  # "queued" was never evaluated


async def test_graceful_stop_drains_in_flight_calls_and_reports_not_serving(
    running: Running,
) -> None:
    health: Any = health_pb2_grpc.HealthStub(running.channel)
    watch = health.Watch(health_pb2.HealthCheckRequest(service="firekeeper.v1.Governance"))
    assert (await watch.read()).status == SERVING

    gate = running.port.blocked["slow"] = threading.Event()
    slow = asyncio.ensure_future(running.stub.Evaluate(request("slow")))
    assert await asyncio.to_thread(running.port.entered.wait, 5)

    stopping = asyncio.ensure_future(running.server.stop(5))
    assert (await watch.read()).status == NOT_SERVING
    watch.cancel()
    await asyncio.sleep(0.1)
    assert not stopping.done()  # waiting for the slow call
    with pytest.raises(grpc.aio.AioRpcError):  # no new calls are accepted
        await running.stub.Evaluate(request("new"), timeout=2)
    gate.set()
    response = await slow
    assert response.decision.event_id == "slow"
    await asyncio.wait_for(stopping, 5)
    assert "new" not in running.port.evaluated


async def test_max_message_bytes_is_enforced(start_server: StartServer) -> None:
    run = await start_server(max_message_bytes=2048)
    big = request("big", payload=MessagePosted(message_id="m1", text="x" * 4000))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await run.stub.Evaluate(big)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert run.port.evaluated == []
    await run.stub.Evaluate(request("small"))


async def test_unary_and_batch_calls_waiting_together_share_one_batch(running: Running) -> None:
    gate = running.port.blocked["gate"] = threading.Event()
    first = asyncio.ensure_future(running.stub.Evaluate(request("gate")))
    assert await asyncio.to_thread(running.port.entered.wait, 5)
    unary = [asyncio.ensure_future(running.stub.Evaluate(request(f"u{i}"))) for i in range(3)]
    events = [convert.event_to_proto(event(event_id=f"b{i}")) for i in range(4)]
    batch = asyncio.ensure_future(
        running.stub.EvaluateBatch(pb.EvaluateBatchRequest(events=events))
    )
    for _ in range(500):  # until all seven events wait behind the gate
        if running.server.batcher.waiting == 7:
            break
        await asyncio.sleep(0.01)
    assert running.server.batcher.waiting == 7
    gate.set()
    assert (await first).decision.event_id == "gate"
    assert [(await u).decision.event_id for u in unary] == ["u0", "u1", "u2"]
    assert [r.decision.event_id for r in (await batch).results] == [f"b{i}" for i in range(4)]
    assert running.port.batches == [1, 7]  # one evaluate_batch for all that waited
    assert running.sample("firekeeper_batch_events_count") == 2
    assert running.sample("firekeeper_batch_events_sum") == 8
