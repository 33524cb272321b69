"""A batch that runs out of time keeps the decisions it made."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest
from prometheus_client import CollectorRegistry

from firekeeper.api.servicer import GovernanceServicer, _Guard, _Stopped
from firekeeper.api.status import ErrorStatus
from firekeeper.domain import Decision, Event
from firekeeper.metrics import Metrics
from tests.api.support import FakePort, event


class SlowPort(FakePort):
    def evaluate(self, event: Event) -> Decision:
        time.sleep(0.05)
        return super().evaluate(event)


def _servicer(port: FakePort) -> GovernanceServicer:
    return GovernanceServicer(port, Metrics(CollectorRegistry()), ThreadPoolExecutor(1))


def test_decisions_made_before_the_deadline_are_returned_and_the_rest_marked() -> None:
    port = SlowPort()
    parsed: list[Event | ErrorStatus] = [event(event_id=f"e{i}") for i in range(10)]
    outcomes = _servicer(port)._evaluate_all(_Guard(0.12), parsed)
    decided = [o for o in outcomes if isinstance(o, tuple)]
    rest = [o for o in outcomes if isinstance(o, ErrorStatus)]
    assert len(outcomes) == 10 and 1 <= len(decided) < 10
    assert outcomes[: len(decided)] == decided  # decided ones come first, in order
    assert all(r.code == grpc.StatusCode.DEADLINE_EXCEEDED for r in rest)
    assert "send it again" in rest[0].message
    assert port.evaluated == [f"e{i}" for i in range(len(decided))]


def test_a_batch_that_decided_nothing_fails_as_a_whole() -> None:
    guard = _Guard(None)
    guard.cancelled.set()
    port = FakePort()
    with pytest.raises(_Stopped):
        _servicer(port)._evaluate_all(guard, [event(event_id="e0")])
    assert port.evaluated == []
