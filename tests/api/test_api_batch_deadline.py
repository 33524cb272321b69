"""A batch that runs out of time keeps the decisions it made (through the batcher)."""

from __future__ import annotations

import asyncio
import threading
import time

import grpc
import pytest
from prometheus_client import CollectorRegistry

from firekeeper.api import convert
from firekeeper.api.batcher import Batcher, Stopped
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.servicer import GovernanceServicer
from firekeeper.domain import Decision, Event
from firekeeper.metrics import Metrics
from tests.api.support import FakePort, event
from tests.api.test_api_servicer import Aborted, FakeContext


class SlowPort(FakePort):
    def evaluate(self, event: Event) -> Decision:
        time.sleep(0.05)
        return super().evaluate(event)


async def test_decisions_made_before_the_deadline_are_returned_and_the_rest_marked() -> None:
    port = SlowPort()
    batcher = Batcher(port, batch_max=1)  # one event a batch: the deadline is seen between events
    batcher.start()
    svc = GovernanceServicer(port, Metrics(CollectorRegistry()), None, batcher)  # type: ignore[arg-type]
    events = [convert.event_to_proto(event(event_id=f"e{i}")) for i in range(10)]
    try:
        response = await svc.EvaluateBatch(
            pb.EvaluateBatchRequest(events=events),
            FakeContext(remaining=0.12),  # type: ignore[arg-type]
        )
    finally:
        batcher.close()
    decided = [r for r in response.results if r.HasField("decision")]
    rest = [r for r in response.results if r.HasField("error")]
    assert len(response.results) == 10 and 1 <= len(decided) < 10
    assert list(response.results[: len(decided)]) == decided  # decided ones first, in order
    assert all(r.error.code == grpc.StatusCode.DEADLINE_EXCEEDED.name for r in rest)
    assert "send it again" in rest[0].error.message
    assert port.evaluated == [f"e{i}" for i in range(len(decided))]


async def test_a_batch_that_decided_nothing_fails_as_a_whole() -> None:
    port = FakePort()
    batcher = Batcher(port)  # never started: the call waits, and its caller goes away
    call = batcher.submit([event(event_id="e0")])
    call.cancelled = True
    batcher.start()
    try:
        with pytest.raises(Stopped):
            await asyncio.wrap_future(call.future)
    finally:
        batcher.close()
    assert port.evaluated == []


async def test_an_expired_batch_call_is_deadline_exceeded_and_not_evaluated() -> None:
    port = FakePort()
    gate = port.blocked["first"] = threading.Event()
    batcher = Batcher(port)
    batcher.start()
    svc = GovernanceServicer(port, Metrics(CollectorRegistry()), None, batcher)  # type: ignore[arg-type]
    first = batcher.submit([event(event_id="first")])
    assert await asyncio.to_thread(port.entered.wait, 5)
    context = FakeContext(remaining=0.05)
    late = asyncio.ensure_future(
        svc.EvaluateBatch(
            pb.EvaluateBatchRequest(events=[convert.event_to_proto(event(event_id="late"))]),
            context,  # type: ignore[arg-type]
        )
    )
    await asyncio.sleep(0.15)  # its deadline passes while "first" holds the thread
    gate.set()
    with pytest.raises(Aborted, match="deadline"):
        await late
    assert context.code == grpc.StatusCode.DEADLINE_EXCEEDED
    await asyncio.wrap_future(first.future)
    batcher.close()
    assert port.evaluated == ["first"]
