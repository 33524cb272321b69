"""The batcher: one evaluation thread, calls coalesced into batches, fair, in order."""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import Future

import pytest

from firekeeper.api.batcher import NOT_REACHED, Answer, Batcher, Closed, Stopped, _shares
from firekeeper.domain import Decision, Event
from tests.api.support import FakePort, event


def _ids(answers: list[Answer]) -> list[str]:
    return [a.outcome.event_id for a in answers if isinstance(a.outcome, Decision)]


def _result(future: Future[list[Answer]]) -> list[Answer]:
    return future.result(timeout=10)


@pytest.fixture
def gated() -> FakePort:
    """A port whose event "gate" blocks until released, so calls pile up behind it."""
    port = FakePort()
    port.blocked["gate"] = threading.Event()
    return port


def test_a_lone_call_goes_at_once_in_a_batch_of_its_own() -> None:
    port = FakePort()
    # the wait is only after a batch: had the lone call waited, _result's 10 s would fail
    batcher = Batcher(port, batch_max=100, wait_seconds=30.0)
    batcher.start()
    try:
        answers = _result(batcher.submit([event(event_id="a")]).future)
    finally:
        batcher.close()
    assert _ids(answers) == ["a"] and port.batches == [1]
    assert threading.current_thread().name != "firekeeper-evaluation"


def test_calls_arriving_while_a_batch_runs_share_the_next_batch(gated: FakePort) -> None:
    batcher = Batcher(gated, batch_max=100)
    batcher.start()
    try:
        first = batcher.submit([event(event_id="gate")])
        assert gated.entered.wait(5)
        calls = [batcher.submit([event(event_id=f"u{i}")]) for i in range(5)]
        batch = batcher.submit([event(event_id=f"b{i}") for i in range(3)])
        gated.blocked["gate"].set()
        assert _ids(_result(first.future)) == ["gate"]
        assert [_ids(_result(c.future)) for c in calls] == [[f"u{i}"] for i in range(5)]
        assert _ids(_result(batch.future)) == ["b0", "b1", "b2"]
    finally:
        batcher.close()
    assert gated.batches == [1, 8]  # one evaluate_batch for everything that waited
    assert gated.evaluated == ["gate", "u0", "u1", "u2", "u3", "u4", "b0", "b1", "b2"]


def test_a_big_batch_call_is_split_and_unary_calls_get_into_the_next_batch(
    gated: FakePort,
) -> None:
    batcher = Batcher(gated, batch_max=10)
    batcher.start()
    try:
        first = batcher.submit([event(event_id="gate")])
        assert gated.entered.wait(5)
        big = batcher.submit([event(event_id=f"b{i:02}") for i in range(40)])
        unary = [batcher.submit([event(event_id=f"u{i}")]) for i in range(3)]
        gated.blocked["gate"].set()
        _result(first.future)
        assert [_ids(_result(c.future)) for c in unary] == [["u0"], ["u1"], ["u2"]]
        assert _ids(_result(big.future)) == [f"b{i:02}" for i in range(40)]  # in order
    finally:
        batcher.close()
    assert max(gated.batches) == 10 and sum(gated.batches) == 44
    # the unary calls were in the batch right after the gate, not behind all 40
    second = gated.evaluated[1:11]
    assert {"u0", "u1", "u2"} <= set(second)
    assert [e for e in gated.evaluated if e.startswith("b")] == [f"b{i:02}" for i in range(40)]


def test_one_events_error_is_its_own() -> None:
    port = FakePort()
    port.failures["bad"] = ValueError("boom")
    batcher = Batcher(port)
    batcher.start()
    try:
        answers = _result(batcher.submit([event(event_id=i) for i in ("a", "bad", "c")]).future)
    finally:
        batcher.close()
    assert isinstance(answers[1].outcome, ValueError)
    assert _ids(answers) == ["a", "c"]


def test_a_batch_that_fails_as_a_whole_fails_each_event() -> None:
    class Broken(FakePort):
        def evaluate_batch(self, events: object, *, explain: object = False) -> list[object]:  # type: ignore[override]
            raise RuntimeError("store gone")

    batcher = Batcher(Broken())
    batcher.start()
    try:
        answers = _result(batcher.submit([event(event_id="a"), event(event_id="b")]).future)
    finally:
        batcher.close()
    assert all(isinstance(a.outcome, RuntimeError) for a in answers) and len(answers) == 2


def test_after_a_failed_batch_a_call_s_later_events_are_not_run_out_of_order() -> None:
    """The first chunk of a call fails as a whole (the store): its later events must not
    be decided before the failed ones, which the caller sends again; they get the same
    error."""

    class FailsFirst(FakePort):
        def evaluate_batch(self, events: object, *, explain: object = False) -> list[object]:  # type: ignore[override]
            self.batches.append(len(events))  # type: ignore[arg-type]
            if len(self.batches) == 1:
                raise RuntimeError("store gone")
            return super().evaluate_batch(events, explain=explain)  # type: ignore[arg-type]

    port = FailsFirst()
    batcher = Batcher(port, batch_max=2)
    batcher.start()
    try:
        call = batcher.submit([event(event_id=i) for i in ("m0", "m1", "m2", "m3")])
        answers = _result(call.future)
    finally:
        batcher.close()
    assert [type(a.outcome) for a in answers] == [RuntimeError] * 4
    assert port.evaluated == []  # m2 and m3 were never decided ahead of m0 and m1


def test_a_call_whose_deadline_passed_while_queued_is_not_evaluated(gated: FakePort) -> None:
    batcher = Batcher(gated)
    batcher.start()
    try:
        first = batcher.submit([event(event_id="gate")])
        assert gated.entered.wait(5)
        late = batcher.submit([event(event_id="late")], deadline=time.monotonic() + 0.05)
        on_time = batcher.submit([event(event_id="fine")])
        time.sleep(0.1)
        gated.blocked["gate"].set()
        with pytest.raises(Stopped):
            _result(late.future)
        assert _ids(_result(on_time.future)) == ["fine"]
        _result(first.future)
    finally:
        batcher.close()
    assert "late" not in gated.evaluated


def test_a_call_stopped_part_way_keeps_its_decisions_and_marks_the_rest(gated: FakePort) -> None:
    batcher = Batcher(gated, batch_max=2)
    batcher.start()
    try:
        first = batcher.submit([event(event_id="gate")])
        assert gated.entered.wait(5)
        gated.blocked["e1"] = threading.Event()
        gated.entered.clear()
        call = batcher.submit([event(event_id=f"e{i}") for i in range(6)])
        gated.blocked["gate"].set()
        assert gated.entered.wait(5)  # e0, e1 are in a batch; e1 blocks it
        call.cancelled = True
        gated.blocked["e1"].set()
        answers = _result(call.future)
        _result(first.future)
    finally:
        batcher.close()
    assert _ids(answers) == ["e0", "e1"]
    assert [a.outcome for a in answers[2:]] == [NOT_REACHED] * 4
    assert "e2" not in gated.evaluated


def test_explain_flags_reach_the_port_per_event() -> None:
    seen: list[object] = []

    class Recording(FakePort):
        def evaluate_batch(self, events, *, explain=False):  # type: ignore[no-untyped-def]
            seen.append(list(explain))
            return super().evaluate_batch(events, explain=explain)

    batcher = Batcher(Recording())
    batcher.start()
    try:
        _result(batcher.submit([event(event_id="a"), event(event_id="b")], [True, False]).future)
    finally:
        batcher.close()
    assert seen == [[True, False]]


async def test_a_closed_batcher_refuses_and_ends_what_waits(gated: FakePort) -> None:
    batcher = Batcher(gated)
    batcher.start()
    first = batcher.submit([event(event_id="gate")])
    assert await asyncio.to_thread(gated.entered.wait, 5)
    queued = asyncio.ensure_future(batcher.evaluate([event(event_id="queued")]))
    await asyncio.sleep(0.05)
    batcher.close()
    gated.blocked["gate"].set()
    with pytest.raises(Closed):
        await queued
    assert _ids(await asyncio.wrap_future(first.future)) == ["gate"]  # the running batch ended
    with pytest.raises(Closed):
        await batcher.evaluate([event(event_id="after")])
    assert "queued" not in gated.evaluated


async def test_a_cancelled_caller_is_not_evaluated(gated: FakePort) -> None:
    batcher = Batcher(gated)
    batcher.start()
    try:
        first = batcher.submit([event(event_id="gate")])
        assert await asyncio.to_thread(gated.entered.wait, 5)
        gone = asyncio.ensure_future(batcher.evaluate([event(event_id="gone")]))
        await asyncio.sleep(0.05)
        gone.cancel()
        with pytest.raises(asyncio.CancelledError):
            await gone
        gated.blocked["gate"].set()
        await asyncio.wrap_future(first.future)
        after = await batcher.evaluate([event(event_id="after")])
    finally:
        batcher.close()
    assert _ids(after) == ["after"] and "gone" not in gated.evaluated


@pytest.mark.parametrize(
    ("wants", "room", "shares"),
    [
        ([500], 100, [100]),
        ([500, 1, 1, 1], 100, [97, 1, 1, 1]),
        ([1, 500, 1], 10, [1, 8, 1]),
        ([50, 50], 10, [5, 5]),
        ([3, 50, 50], 10, [3, 4, 3]),
        ([1] * 5, 3, [1, 1, 1, 0, 0]),
        ([2, 0, 2], 10, [2, 0, 2]),
    ],
)
def test_the_room_is_shared_equally_in_arrival_order(
    wants: list[int], room: int, shares: list[int]
) -> None:
    assert _shares(wants, room) == shares


def test_a_call_cut_short_by_shutdown_keeps_its_decisions_and_says_why(gated: FakePort) -> None:
    batcher = Batcher(gated, batch_max=2)
    batcher.start()
    first = batcher.submit([event(event_id="gate")])
    assert gated.entered.wait(5)
    gated.blocked["e1"] = threading.Event()
    gated.entered.clear()
    call = batcher.submit([event(event_id=f"e{i}") for i in range(4)])
    gated.blocked["gate"].set()
    assert gated.entered.wait(5)  # e0, e1 are in a batch
    batcher.close()
    gated.blocked["e1"].set()
    answers = _result(call.future)
    _result(first.future)
    assert _ids(answers) == ["e0", "e1"]
    assert all(isinstance(a.outcome, Closed) for a in answers[2:]) and len(answers) == 4


def test_after_a_batch_the_thread_waits_for_more_up_to_the_setting(gated: FakePort) -> None:
    batcher = Batcher(gated, batch_max=3, wait_seconds=30.0)
    batcher.start()
    try:
        first = batcher.submit([event(event_id="gate")])
        assert gated.entered.wait(5)
        two = [batcher.submit([event(event_id=f"u{i}")]) for i in range(2)]
        gated.blocked["gate"].set()
        _result(first.future)
        time.sleep(0.1)  # the two wait on: fewer than batch_max, and the wait is long
        assert gated.batches == [1] and batcher.waiting == 2
        third = batcher.submit([event(event_id="u2")])  # a full batch: it goes at once
        assert [_ids(_result(c.future)) for c in [*two, third]] == [["u0"], ["u1"], ["u2"]]
    finally:
        batcher.close()
    assert gated.batches == [1, 3]


def test_with_two_threads_calls_run_side_by_side_and_each_keeps_its_order(
    gated: FakePort,
) -> None:
    batcher = Batcher(gated, batch_max=2, threads=2)
    batcher.start()
    try:
        first = batcher.submit([event(event_id="gate")])
        assert gated.entered.wait(5)  # one thread is held by the gate ...
        call = batcher.submit([event(event_id=f"e{i}") for i in range(5)])
        answers = _result(call.future)  # ... the other runs this call, a chunk at a time
        assert not first.future.done() and batcher.busy == 1
        gated.blocked["gate"].set()
        _result(first.future)
    finally:
        batcher.close()
    assert _ids(answers) == [f"e{i}" for i in range(5)]
    assert [e for e in gated.evaluated if e != "gate"] == [f"e{i}" for i in range(5)]
    assert sorted(gated.batches) == [1, 1, 2, 2]  # chunks of one call never run at once


def test_with_two_threads_one_calls_chunks_never_run_at_once() -> None:
    class Overlap(FakePort):
        def __init__(self) -> None:
            super().__init__()
            self.active = self.peak = 0
            self.guard = threading.Lock()

        def evaluate(self, event: Event) -> Decision:
            with self.guard:
                self.active += 1
                self.peak = max(self.peak, self.active)
            time.sleep(0.01)  # long enough for a second thread to join in, if it could
            with self.guard:
                self.active -= 1
            return super().evaluate(event)

    port = Overlap()
    batcher = Batcher(port, batch_max=2, threads=2)
    batcher.start()
    try:
        answers = _result(batcher.submit([event(event_id=f"e{i}") for i in range(6)]).future)
    finally:
        batcher.close()
    assert _ids(answers) == [f"e{i}" for i in range(6)] and port.peak == 1
    assert port.batches == [2, 2, 2]
