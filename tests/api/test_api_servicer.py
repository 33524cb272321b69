"""The servicer alone, with a fake context: deadlines and cancellation reach the batcher."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import pytest
from prometheus_client import CollectorRegistry

from firekeeper.api import convert
from firekeeper.api.batcher import Batcher
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.servicer import GovernanceServicer
from firekeeper.metrics import Metrics

from .support import FakePort, event


class Aborted(Exception):
    pass


class FakeContext:
    def __init__(self, remaining: float | None) -> None:
        self.remaining = remaining
        self.code: grpc.StatusCode | None = None

    def time_remaining(self) -> float | None:
        return self.remaining

    async def abort(self, code: grpc.StatusCode, details: str = "", metadata: Any = ()) -> None:
        self.code = code
        raise Aborted(details)


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=1)
    yield pool
    pool.shutdown(wait=True, cancel_futures=True)


def servicer(
    port: FakePort, executor: ThreadPoolExecutor, *, batch_max: int = 1
) -> tuple[GovernanceServicer, Metrics]:
    """A servicer whose batcher takes ``batch_max`` events a batch (1: a deadline or a
    cancellation is seen between events)."""
    metrics = Metrics(CollectorRegistry())
    batcher = Batcher(port, batch_max=batch_max, observer=metrics)
    batcher.start()
    executor.submit(lambda: None)  # the pool's thread exists before the test's work
    _batchers.append(batcher)
    return GovernanceServicer(port, metrics, executor, batcher), metrics


_batchers: list[Batcher] = []


@pytest.fixture(autouse=True)
def _close_batchers() -> Iterator[None]:
    yield
    while _batchers:
        _batchers.pop().close()


async def test_deadline_passed_on_arrival_does_no_work(executor: ThreadPoolExecutor) -> None:
    port = FakePort()
    svc, metrics = servicer(port, executor)
    context = FakeContext(remaining=0.0)
    with pytest.raises(Aborted, match="deadline"):
        await svc.Evaluate(pb.EvaluateRequest(event=convert.event_to_proto(event())), context)  # type: ignore[arg-type]
    assert context.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert port.evaluated == []
    assert (
        metrics.registry.get_sample_value("firekeeper_errors_total", {"code": "DEADLINE_EXCEEDED"})
        == 1
    )


async def test_no_deadline_means_no_limit(executor: ThreadPoolExecutor) -> None:
    port = FakePort()
    svc, _ = servicer(port, executor)
    request = pb.EvaluateRequest(event=convert.event_to_proto(event()))
    response = await svc.Evaluate(request, FakeContext(remaining=None))  # type: ignore[arg-type]
    assert response.decision.event_id == "e1"


async def test_a_cancelled_batch_stops_between_events(executor: ThreadPoolExecutor) -> None:
    port = FakePort()
    gate = port.blocked["e0"] = threading.Event()
    svc, _ = servicer(port, executor)
    events = [convert.event_to_proto(event(event_id=f"e{i}")) for i in range(3)]
    call = asyncio.ensure_future(
        svc.EvaluateBatch(pb.EvaluateBatchRequest(events=events), FakeContext(None))  # type: ignore[arg-type]
    )
    assert await asyncio.to_thread(port.entered.wait, 5)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    gate.set()
    await asyncio.to_thread(_wait_idle, _batchers[-1])
    assert port.evaluated == ["e0"]


def _wait_idle(batcher: Batcher) -> None:
    for _ in range(500):
        if not batcher.busy and not batcher.waiting:
            return
        time.sleep(0.01)
    raise AssertionError("the batcher never went idle")
