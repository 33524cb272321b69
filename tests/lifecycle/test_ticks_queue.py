"""Ticks go through the server's batcher (``firekeeper.lifecycle_runtime.QueuedTicks``):
on SQLite the scheduler is not a second writer beside the Evaluate calls."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from prometheus_client import CollectorRegistry

from firekeeper.api.batcher import Batcher
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2_grpc as lpb_grpc
from firekeeper.api.lifecycle_servicer import LifecycleServices
from firekeeper.areas.lifecycle.admin import LifecycleService
from firekeeper.config import Settings
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event, EventKind
from firekeeper.lifecycle_runtime import ManualTicks, QueuedTicks
from firekeeper.metrics import Metrics
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.scheduler import ChatSelection, QueueNotRunning, TickScheduler, run_ticks
from firekeeper.server import Server
from firekeeper.store import Store, create_store
from firekeeper.store.leader import AlwaysLeader
from firekeeper.wiring import build_pipeline
from tests.conftest import RULESETS
from tests.lifecycle.builders import KEY, T0, message, registration

INDEX = load(RULESETS)
CHATS = 12


class Watched:
    """The pipeline, counting ``evaluate_batch`` calls that run at the same time and
    noting the thread and the event kinds of each."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline
        self._lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.threads: set[str] = set()
        self.kinds: list[EventKind] = []

    def evaluate_batch(
        self, events: Sequence[Event], *, explain: bool | Sequence[bool] = False
    ) -> list[Decision | Exception]:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
            self.kinds.extend(e.kind for e in events)
        try:
            return self._pipeline.evaluate_batch(events, explain=explain)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = create_store(f"sqlite:///{tmp_path}/fk.db")
    store.migrate()
    yield store
    store.close()


def _chats(pipeline: Pipeline) -> list[str]:
    ids = [f"chat-{n}" for n in range(CHATS)]
    for chat_id in ids:
        pipeline.register_chat(registration("goal", key=replace(KEY, chat_id=chat_id)))
    return ids


def _message(chat_id: str, eid: str, minutes: int) -> Event:
    event = message(f"hello {minutes}", T0 + timedelta(minutes=minutes))
    return replace(event, envelope=replace(event.envelope, event_id=eid, chat_id=chat_id))


def test_ticks_and_evaluate_calls_share_the_one_writer_on_sqlite(sqlite_store: Store) -> None:
    pipeline = build_pipeline(sqlite_store, RulesetHolder(INDEX), clock=lambda: T0)
    ids = _chats(pipeline)
    watched = Watched(pipeline)
    batcher = Batcher(watched, batch_max=8)  # one evaluation thread, as on SQLite
    batcher.start()
    ticks = QueuedTicks()
    ticks.attach(batcher)
    scheduler = TickScheduler(
        sqlite_store,
        ticks.evaluate,
        AlwaysLeader(),
        period_seconds=3600,
        clock=lambda: T0 + timedelta(hours=2),
    )
    try:
        # a tick round on the scheduler's thread while four callers send messages
        with ThreadPoolExecutor(max_workers=5) as pool:
            round_ = pool.submit(scheduler.run_once)
            calls = [
                pool.submit(
                    lambda c=c: [
                        batcher.submit(
                            [_message(ids[(c + n) % CHATS], f"{c}-{n}", n)]
                        ).future.result()
                        for n in range(20)
                    ]
                )
                for c in range(4)
            ]
            done = round_.result()
            answers = [a for call in calls for batch in call.result() for a in batch]
    finally:
        batcher.close()
    assert done is not None and done.complete and done.evaluated == CHATS
    assert all(isinstance(a.outcome, Decision) for a in answers) and len(answers) == 80
    assert watched.kinds.count(EventKind.CHAT_TICK) == CHATS  # every tick went through
    assert watched.threads == {"firekeeper-evaluation"}  # only the batcher's thread
    assert watched.most == 1  # never two evaluations at once


def test_a_round_before_the_queue_runs_is_put_off(sqlite_store: Store) -> None:
    pipeline = build_pipeline(sqlite_store, RulesetHolder(INDEX))
    _chats(pipeline)
    ticks = QueuedTicks()
    scheduler = TickScheduler(
        sqlite_store, ticks.evaluate, AlwaysLeader(), period_seconds=3600, clock=lambda: T0
    )
    early = scheduler.run_once()
    assert early is not None and not early.complete and early.evaluated == 0
    batcher = Batcher(pipeline)
    batcher.start()
    ticks.attach(batcher)
    try:
        again = scheduler.run_once()  # the same period, now through the queue
    finally:
        batcher.close()
    assert again is not None and again.complete and again.evaluated == CHATS


def test_a_round_after_the_queue_closed_is_put_off(sqlite_store: Store) -> None:
    pipeline = build_pipeline(sqlite_store, RulesetHolder(INDEX))
    _chats(pipeline)
    batcher = Batcher(pipeline)
    batcher.start()
    ticks = QueuedTicks()
    ticks.attach(batcher)
    batcher.close()
    scheduler = TickScheduler(
        sqlite_store, ticks.evaluate, AlwaysLeader(), period_seconds=3600, clock=lambda: T0
    )
    late = scheduler.run_once()
    assert late is not None and not late.complete and late.evaluated == 0 and late.failed == 0
    assert late.put_off


def test_a_ticks_own_error_reaches_the_scheduler(sqlite_store: Store) -> None:
    pipeline = build_pipeline(sqlite_store, RulesetHolder(INDEX))
    _chats(pipeline)

    class Failing:
        def evaluate_batch(
            self, events: Sequence[Event], *, explain: bool | Sequence[bool] = False
        ) -> list[Decision | Exception]:
            return [ValueError("this chat's ruleset fails") for _ in events]

    batcher = Batcher(Failing())
    batcher.start()
    ticks = QueuedTicks()
    ticks.attach(batcher)
    try:
        with pytest.raises(ValueError, match="ruleset fails"):
            ticks.evaluate(_message("chat-0", "t1", 0))  # any event: the port fails it
    finally:
        batcher.close()


class Recorded:
    """A scheduler observer noting each tick it is told of (``None``: a failed one)."""

    def __init__(self) -> None:
        self.ticks: list[Decision | None] = []
        self.rounds = 0

    def observe_tick(self, event: Event, decision: Decision | None, seconds: float) -> None:
        self.ticks.append(decision)

    def set_leader(self, leading: bool) -> None:
        return None

    def after_round(self) -> None:
        self.rounds += 1


class Silent:
    """An evaluation port that never answers until ``release`` is set (a stalled thread),
    noting the event kinds it was given."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.kinds: list[EventKind] = []

    def evaluate_batch(
        self, events: Sequence[Event], *, explain: bool | Sequence[bool] = False
    ) -> list[Decision | Exception]:
        self.kinds.extend(e.kind for e in events)
        self.release.wait(30)
        return [RuntimeError("released") for _ in events]


def test_a_put_off_round_counts_no_failed_tick(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    pipeline = build_pipeline(sqlite_store, RulesetHolder(INDEX))
    _chats(pipeline)
    observer = Recorded()
    scheduler = TickScheduler(
        sqlite_store,
        QueuedTicks().evaluate,  # never attached: the queue is not running
        AlwaysLeader(),
        period_seconds=3600,
        clock=lambda: T0,
        observer=observer,
    )
    with caplog.at_level(logging.DEBUG, logger="firekeeper"):
        early = scheduler.run_once()
    assert early is not None and early.put_off and not early.complete
    assert (early.evaluated, early.replayed, early.failed) == (0, 0, 0)
    assert observer.ticks == []  # no tick reported, so no "failed" in the ticks metric
    put_off = [r for r in caplog.records if r.getMessage() == "tick round put off"]
    assert len(put_off) == 1 and put_off[0].levelno == logging.INFO
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_queue_that_never_answers_puts_the_round_off_in_time(sqlite_store: Store) -> None:
    pipeline = build_pipeline(sqlite_store, RulesetHolder(INDEX))
    _chats(pipeline)
    silent = Silent()
    batcher = Batcher(silent)
    batcher.start()
    ticks = QueuedTicks(wait_seconds=0.2)
    ticks.attach(batcher)
    scheduler = TickScheduler(
        sqlite_store, ticks.evaluate, AlwaysLeader(), period_seconds=3600, clock=lambda: T0
    )
    try:
        start = time.monotonic()
        stalled = scheduler.run_once()  # the first tick is taken, and never answered
        took = time.monotonic() - start
        # a tick still queued behind the stalled batch is withdrawn when its wait ends
        with pytest.raises(QueueNotRunning, match=r"did not answer within 0\.2 s"):
            ticks.evaluate(_message("chat-1", "queued", 0))
    finally:
        silent.release.set()
        batcher.close()
    assert took < 5
    assert stalled is not None and stalled.put_off and not stalled.complete
    assert stalled.failed == 0 and stalled.evaluated == 0
    assert silent.kinds == [EventKind.CHAT_TICK]  # the withdrawn message never ran


async def test_the_scheduler_stops_though_the_queue_never_answers(sqlite_store: Store) -> None:
    pipeline = build_pipeline(sqlite_store, RulesetHolder(INDEX))
    _chats(pipeline)
    silent = Silent()
    batcher = Batcher(silent)
    batcher.start()
    ticks = QueuedTicks(wait_seconds=0.2)
    ticks.attach(batcher)
    scheduler = TickScheduler(
        sqlite_store, ticks.evaluate, AlwaysLeader(), period_seconds=3600, clock=lambda: T0
    )
    stop = asyncio.Event()
    executor = ThreadPoolExecutor(max_workers=1)
    try:
        task = asyncio.create_task(scheduler.run(stop, executor))
        await asyncio.sleep(0.05)  # the round is waiting on the silent queue
        stop.set()
        await asyncio.wait_for(task, 5)  # without a bound on the wait: forever
    finally:
        silent.release.set()
        batcher.close()
        executor.shutdown(wait=True)
    assert not scheduler.leading


def test_a_manual_round_the_queue_does_not_run_is_put_off_in_one_line(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    pipeline = build_pipeline(sqlite_store, RulesetHolder(INDEX))
    _chats(pipeline)
    observer = Recorded()
    with (
        caplog.at_level(logging.DEBUG, logger="firekeeper"),
        pytest.raises(QueueNotRunning, match="not started"),
    ):
        run_ticks(
            sqlite_store,
            QueuedTicks().evaluate,
            period_seconds=3600,
            at=T0,
            selection=ChatSelection(),
            observer=observer,
        )
    assert observer.ticks == []  # no chat counted as a failed tick
    records = [r for r in caplog.records if r.name == "firekeeper.scheduler"]
    assert [(r.levelno, r.getMessage()) for r in records] == [
        (logging.INFO, "manual tick round put off")
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


@pytest.fixture
async def unqueued_server(sqlite_store: Store) -> AsyncIterator[lpb_grpc.SchedulerAsyncStub]:
    """A server whose RunTicks goes through a queue that is not running (never attached)."""
    pipeline = build_pipeline(sqlite_store, RulesetHolder(INDEX))
    _chats(pipeline)
    service = LifecycleService(sqlite_store, RulesetHolder(INDEX))
    manual = ManualTicks(
        sqlite_store,
        QueuedTicks().evaluate,
        Recorded(),  # type: ignore[arg-type]
        period_seconds=3600,
    )
    settings = Settings(grpc_address="127.0.0.1:0", metrics_port=None)
    server = Server(
        settings,
        pipeline,
        Metrics(CollectorRegistry()),
        services=[LifecycleServices(service, poll_seconds=0.05, ticks=manual)],
        readiness_interval=60,
    )
    port = await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield lpb_grpc.SchedulerStub(channel)  # type: ignore[misc]
    finally:
        await channel.close()
        await server.stop(1)


async def test_run_ticks_on_a_queue_not_running_answers_unavailable(
    unqueued_server: lpb_grpc.SchedulerAsyncStub, caplog: pytest.LogCaptureFixture
) -> None:
    request = lpb.RunTicksRequest()
    request.at.FromDatetime(T0)
    with (
        caplog.at_level(logging.DEBUG, logger="firekeeper"),
        pytest.raises(grpc.aio.AioRpcError) as raised,
    ):
        await unqueued_server.RunTicks(request, timeout=10)
    error = raised.value
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert "put off" in (error.details() or "")
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info) and info.reason == "EVALUATION_QUEUE_NOT_RUNNING"
    assert any(d.Is(error_details_pb2.RetryInfo.DESCRIPTOR) for d in status.details)
    # one line for the round, none per chat, no traceback
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    put_off = [r for r in caplog.records if r.getMessage() == "manual tick round put off"]
    assert len(put_off) == 1
