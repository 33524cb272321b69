"""The decision log's window: replays inside it, a clear refusal past it, pruning on ticks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from firekeeper.domain.chats import ChatRegistration
from firekeeper.errors import InvalidEvent
from firekeeper.pipeline import RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.scheduler import TickScheduler
from firekeeper.store import Store, create_store
from firekeeper.store.leader import AlwaysLeader
from firekeeper.store.models import chats, decisions
from firekeeper.store.retention import Retention
from firekeeper.wiring import build_pipeline
from tests.conftest import RULESETS
from tests.core.builders import KEY, T0, message

INDEX = load(RULESETS)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = create_store(store_url)
    s.migrate()
    yield s
    s.close()


def _count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_retry_inside_the_window_is_a_replay_even_as_the_event_ages(store: Store) -> None:
    clock = Clock(T0)
    pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=clock, decision_days=30)
    first = pipeline.evaluate(message(eid="m1"))
    clock.now = T0 + timedelta(days=45)  # stored, not swept yet: still the stored decision
    again = pipeline.evaluate(message(eid="m1"))
    assert again.replayed and again.actions == first.actions


def test_an_event_older_than_the_window_is_refused_and_nothing_is_written(store: Store) -> None:
    clock = Clock(T0 + timedelta(days=31))
    pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=clock, decision_days=30)
    with pytest.raises(InvalidEvent) as refused:
        pipeline.evaluate(message(eid="m-old"))
    assert refused.value.field == "envelope.occurred_at"
    assert "30 days" in refused.value.reason and "FIREKEEPER_DECISION_RETENTION_DAYS" in str(
        refused.value
    )
    assert _count(store, decisions) == 0 and _count(store, chats) == 0
    clock.now = T0 + timedelta(days=29)
    assert not pipeline.evaluate(message(eid="m-old")).replayed  # inside the window: decided


def test_without_retention_every_event_is_evaluated(store: Store) -> None:
    clock = Clock(T0 + timedelta(days=3650))
    pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=clock)  # the tools' pipeline
    assert not pipeline.evaluate(message(eid="m-ancient")).replayed


def test_the_leaders_tick_round_sweeps_the_decision_log(store: Store) -> None:
    clock = Clock(T0)
    pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=clock, decision_days=30)
    store.register_chat(ChatRegistration(KEY, "base", "hobby"))
    pipeline.evaluate(message(eid="m1"))
    retention = Retention(store.engine, decision_days=30)
    scheduler = TickScheduler(
        store,
        pipeline.evaluate,
        AlwaysLeader(),
        period_seconds=3600,
        clock=clock,
        sweep=retention.sweep,
    )
    clock.now = T0 + timedelta(days=31)
    done = scheduler.run_once()
    assert done is not None and done.complete
    with store.engine.connect() as conn:
        ids = list(conn.execute(sa.select(decisions.c.event_id)).scalars())
    assert "m1" not in ids and len(ids) == 1  # the message's decision went; the tick's stayed
    with pytest.raises(InvalidEvent):  # and its retry is refused, not evaluated twice
        pipeline.evaluate(message(eid="m1"))
