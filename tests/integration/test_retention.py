"""The decision log's window: replays inside it, a clear refusal past it, pruning on ticks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

import firekeeper.pipeline
from firekeeper.area_registry import retention_policies
from firekeeper.domain.chats import ChatRegistration
from firekeeper.domain.events import MessagePosted
from firekeeper.errors import InvalidEvent
from firekeeper.pipeline import RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.scheduler import TickScheduler
from firekeeper.store import Store
from firekeeper.store.leader import AlwaysLeader
from firekeeper.store.models import decisions
from firekeeper.store.retention import Retention
from firekeeper.wiring import build_pipeline
from tests.conftest import RULESETS
from tests.core.builders import KEY, T0, event, message

INDEX = load(RULESETS)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


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


def test_an_event_older_than_the_pruned_mark_is_refused_and_nothing_is_written(
    store: Store,
) -> None:
    clock = Clock(T0 + timedelta(days=31))
    pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=clock, decision_days=30)
    seed = build_pipeline(store, RulesetHolder(INDEX), clock=Clock(T0))
    seed.evaluate(message(eid="m-seed"))  # a decision past the window: something to prune
    Retention(store.engine, policies=retention_policies(), decision_days=30).sweep(
        clock.now
    )  # publishes T0 + 1 day
    with pytest.raises(InvalidEvent) as refused:
        pipeline.evaluate(message(eid="m-old"))
    assert refused.value.field == "envelope.occurred_at"
    assert "30 days" in refused.value.reason and "FIREKEEPER_DECISION_RETENTION_DAYS" in str(
        refused.value
    )
    assert _count(store, decisions) == 1  # the seed's only
    later = event(  # after the mark: decided
        MessagePosted(message_id="m-newer", text="hello"), eid="m-newer", at=T0 + timedelta(days=2)
    )
    assert not pipeline.evaluate(later).replayed


def test_an_old_event_is_evaluated_while_nothing_was_pruned(store: Store) -> None:
    """A fresh store (a newcomer replaying the README's dated example months later)
    refuses nothing: no decision can have been pruned, and sweeps publish no mark."""
    clock = Clock(T0 + timedelta(days=400))
    pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=clock, decision_days=30)
    retention = Retention(store.engine, policies=retention_policies(), decision_days=30)
    retention.sweep(clock.now)
    assert not pipeline.evaluate(message(eid="m-old")).replayed  # decided now: not prunable
    retention.sweep(clock.now + timedelta(hours=1))
    assert store.decisions_pruned_before() is None
    assert not pipeline.evaluate(message(eid="m-older")).replayed


def test_decisions_are_deleted_only_a_grace_after_their_mark_was_published(
    store: Store,
) -> None:
    clock = Clock(T0)
    pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=clock, decision_days=30)
    pipeline.evaluate(message(eid="m1"))
    retention = Retention(store.engine, policies=retention_policies(), decision_days=30)
    now = T0 + timedelta(days=31)
    assert retention.sweep(now).deleted.get("decisions", 0) == 0  # published only
    assert retention.sweep(now + timedelta(seconds=5)).deleted.get("decisions", 0) == 0
    assert retention.sweep(now + timedelta(minutes=3)).deleted["decisions"] == 1
    assert store.decisions_pruned_before() == now - timedelta(days=30)  # nothing newer to prune


def test_without_retention_every_event_is_evaluated(store: Store) -> None:
    clock = Clock(T0 + timedelta(days=3650))
    pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=clock)  # the tools' pipeline
    assert not pipeline.evaluate(message(eid="m-ancient")).replayed


def test_the_leaders_tick_round_sweeps_the_decision_log(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The sweeps below run on a fake clock within a second of real time; in service the
    # mark is published MARK_GRACE (2 minutes) before it is acted on, longer than the
    # pipeline caches it (30 s). Here the pipeline reads it on every event.
    monkeypatch.setattr(firekeeper.pipeline, "MARK_TTL_SECONDS", -1.0)
    clock = Clock(T0)
    pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=clock, decision_days=30)
    store.register_chat(ChatRegistration(KEY, "base", "hobby"))
    pipeline.evaluate(message(eid="m1"))
    retention = Retention(store.engine, policies=retention_policies(), decision_days=30)
    scheduler = TickScheduler(
        store,
        pipeline.evaluate,
        AlwaysLeader(),
        period_seconds=3600,
        clock=clock,
        sweep=retention.sweep,
    )
    clock.now = T0 + timedelta(days=31)
    done = scheduler.run_once()  # publishes the mark; the next round deletes up to it
    assert done is not None and done.complete
    clock.now = T0 + timedelta(days=31, hours=1)
    done = scheduler.run_once()
    assert done is not None and done.complete
    with store.engine.connect() as conn:
        ids = list(conn.execute(sa.select(decisions.c.event_id)).scalars())
    assert "m1" not in ids and len(ids) == 2  # the message's decision went; the ticks' stayed
    with pytest.raises(InvalidEvent):  # and its retry is refused, not evaluated twice
        pipeline.evaluate(message(eid="m1"))
