"""The tick scheduler: one leader per database, takeover, idempotent rounds, the loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from firekeeper.areas.lifecycle.admin import LifecycleService
from firekeeper.areas.lifecycle.metrics import LifecycleMetrics
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event, Platform
from firekeeper.errors import StoreUnavailable
from firekeeper.metrics import Metrics
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.scheduler import TickScheduler
from firekeeper.store import Store, create_store
from firekeeper.store.leader import AdvisoryLock, AlwaysLeader, leadership_for, lock_key
from firekeeper.wiring import build_pipeline
from tests.lifecycle.builders import KEY, T0, registration
from tests.lifecycle.conftest import INDEX


@pytest.fixture
def replicas(postgres_url: str) -> Iterator[list[Store]]:
    stores = [create_store(postgres_url) for _ in range(3)]
    stores[0].migrate()
    yield stores
    for s in stores:
        s.close()


def _kill_holder(store: Store) -> None:
    """Terminate the database session that holds the scheduler lock (a replica dies)."""
    with store.engine.connect() as conn:
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        key = lock_key(str(schema))
        pid = conn.execute(
            sa.text(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = :hi AND objid = :lo AND objsubid = 1"
            ),
            {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF},
        ).scalar_one()
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        conn.commit()
        # pg_terminate_backend only signals; wait (bounded) until the session is gone.
        # pg_stat_activity is read once per transaction, so each look is its own one.
        for _ in range(100):
            conn.commit()
            alive = conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
            if not alive:
                return
            time.sleep(0.05)
        raise AssertionError(f"backend {pid} still alive 5 s after pg_terminate_backend")


def test_two_replicas_never_both_lead_and_the_second_takes_over(replicas: list[Store]) -> None:
    a, b = AdvisoryLock(replicas[0].engine), AdvisoryLock(replicas[1].engine)
    assert a.ensure() and a.ensure()
    assert not b.ensure() and not b.ensure()
    a.release()  # a stops (graceful shutdown)
    assert b.ensure() and not a.ensure()
    b.release()


def test_a_replica_that_dies_loses_the_lock_to_the_other(replicas: list[Store]) -> None:
    a, b = AdvisoryLock(replicas[0].engine), AdvisoryLock(replicas[1].engine)
    assert a.ensure() and not b.ensure()
    _kill_holder(replicas[2])
    assert b.ensure()  # the lock went with the dead session
    assert not a.ensure()  # and a notices at its next check
    b.release()


def test_other_schemas_do_not_contend(replicas: list[Store], postgres_base_url: str) -> None:
    a = AdvisoryLock(replicas[0].engine)
    other = create_store(postgres_base_url)  # the public schema: another deployment
    try:
        b = AdvisoryLock(other.engine)
        assert a.ensure() and b.ensure()
        b.release()
    finally:
        other.close()
        a.release()


def _scheduler(store: Store, clock: list[datetime], node: str) -> tuple[TickScheduler, Pipeline]:
    pipeline = build_pipeline(store, RulesetHolder(INDEX))
    ticks = TickScheduler(
        store,
        pipeline.evaluate,
        leadership_for(store.engine),
        period_seconds=3600,
        clock=lambda: clock[0],
        node=node,
    )
    return ticks, pipeline


def test_concurrent_schedulers_run_each_period_once(replicas: list[Store]) -> None:
    clock = [T0]
    first, pipeline = _scheduler(replicas[0], clock, "a")
    second, _ = _scheduler(replicas[1], clock, "b")
    pipeline.register_chat(registration("goal", params={"owner_silent_days": "0"}))
    leaders: list[int] = []
    rounds: list[object] = []
    barrier = threading.Barrier(2)

    def run(s: TickScheduler) -> None:
        for _ in range(6):
            barrier.wait()
            result = s.run_once()
            if result is not None:
                rounds.append(result)
            barrier.wait()
            leaders.append(int(first.leading) + int(second.leading))

    for hour in range(3):
        clock[0] = T0 + timedelta(hours=hour)
        threads = [threading.Thread(target=run, args=(s,)) for s in (first, second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert max(leaders) == 1 and len(rounds) == 3  # one round per period, by one replica
    assert first.leading != second.leading
    service = LifecycleService(replicas[0], RulesetHolder(INDEX))
    items = service.claim(Platform.TELEGRAM, KEY.tenant, "adapter")
    assert [i.action.rule_id for i in items] == ["lifecycle.owner_silent"]  # reminded once
    leader = first if first.leading else second
    follower = second if leader is first else first
    leader.resign()  # the leader stops
    clock[0] = T0 + timedelta(hours=3)
    assert follower.run_once() is not None and follower.leading
    follower.resign()


def test_a_new_leader_does_not_redo_a_finished_period(replicas: list[Store]) -> None:
    clock = [T0]
    first, pipeline = _scheduler(replicas[0], clock, "a")
    pipeline.register_chat(registration("growth"))
    assert first.run_once() is not None
    first.resign()
    second, _ = _scheduler(replicas[1], clock, "b")
    assert second.run_once() is None and second.leading  # leads, but the period is done
    clock[0] = T0 + timedelta(hours=1)
    result = second.run_once()
    assert result is not None and result.evaluated == 1
    second.resign()


async def test_the_scheduler_loop_ticks_and_stops(store_url: str) -> None:
    store = create_store(store_url)
    store.migrate()
    registry = CollectorRegistry()
    metrics = LifecycleMetrics(Metrics(registry))
    try:
        pipeline = build_pipeline(store, RulesetHolder(INDEX))
        pipeline.register_chat(registration("goal", params={"owner_silent_days": "0"}))
        ticks = TickScheduler(
            store,
            pipeline.evaluate,
            leadership_for(store.engine),
            period_seconds=1,
            observer=metrics,
        )
        assert ticks.check_seconds() == 0.1
        stop = asyncio.Event()
        executor = ThreadPoolExecutor(max_workers=1)
        task = asyncio.create_task(ticks.run(stop, executor))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if registry.get_sample_value("firekeeper_ticks_total", {"outcome": "evaluated"}):
                break
        assert registry.get_sample_value("firekeeper_scheduler_leader") == 1
        assert registry.get_sample_value(
            "firekeeper_events_total", {"platform": "telegram", "kind": "chat.tick"}
        )
        stop.set()
        await asyncio.wait_for(task, 5)
        executor.shutdown()
        assert registry.get_sample_value("firekeeper_scheduler_leader") == 0
    finally:
        store.close()


def test_sqlite_has_one_process_so_it_always_leads(tmp_path: Path) -> None:
    store = create_store(f"sqlite:///{tmp_path}/fk.db")
    try:
        assert isinstance(leadership_for(store.engine), AlwaysLeader)
    finally:
        store.close()


def test_a_failed_tick_is_retried_in_the_same_period(store_url: str) -> None:
    store = create_store(store_url)
    store.migrate()
    try:
        pipeline = build_pipeline(store, RulesetHolder(INDEX))
        pipeline.register_chat(registration("goal"))
        calls: list[str] = []

        def flaky(event: Event) -> Decision:
            calls.append(event.envelope.event_id)
            if len(calls) == 1:
                raise StoreUnavailable("a passing database blip")
            return pipeline.evaluate(event)

        clock = [T0]
        ticks = TickScheduler(
            store, flaky, AlwaysLeader(), period_seconds=3600, clock=lambda: clock[0]
        )
        first = ticks.run_once()
        assert first is not None and first.failed == 1 and not first.complete
        second = ticks.run_once()
        assert second is not None and second.complete and second.evaluated == 1
        assert calls == [calls[0], calls[0]]  # the same tick id, tried again
        assert ticks.run_once() is None  # now the period is done
    finally:
        store.close()
