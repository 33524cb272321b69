"""Ticks go through the server's batcher (``firekeeper.lifecycle_runtime.QueuedTicks``):
on SQLite the scheduler is not a second writer beside the Evaluate calls."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from firekeeper.api.batcher import Batcher
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event, EventKind
from firekeeper.lifecycle_runtime import QueuedTicks
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.scheduler import TickScheduler
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
    assert late is not None and not late.complete and late.evaluated == 0 and late.failed == 1


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
