"""The lifecycle part of the running service: scheduler task, Outbox/Health services, gauges.

``firekeeper.app`` builds one :class:`LifecycleRuntime` and runs the server inside
``async with runtime.running():``; the scheduler task starts before the server
listens and stops (giving up its lock) after the server has drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from firekeeper.api.lifecycle_servicer import LifecycleServices
from firekeeper.area_registry import retention_policies
from firekeeper.areas.lifecycle.admin import LifecycleService, Wakeups
from firekeeper.areas.lifecycle.metrics import LifecycleMetrics
from firekeeper.config import Settings
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event
from firekeeper.pipeline import RulesetHolder
from firekeeper.scheduler import ChatSelection, ManualRound, TickScheduler, run_ticks
from firekeeper.store import Store
from firekeeper.store.leader import Leadership, leadership_for
from firekeeper.store.retention import Retention

log = logging.getLogger("firekeeper.scheduler")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Observer:
    """Scheduler reports: metrics, and a wake-up for outbox streams after each round."""

    def __init__(self, metrics: LifecycleMetrics, wakeups: Wakeups) -> None:
        self._metrics = metrics
        self._wakeups = wakeups

    def observe_tick(self, event: Event, decision: Decision | None, seconds: float) -> None:
        self._metrics.observe_tick(event, decision, seconds)

    def set_leader(self, leading: bool) -> None:
        self._metrics.set_leader(leading)

    def after_round(self) -> None:
        self._wakeups.notify()


class ManualTicks:
    """The Scheduler.RunTicks port: a tick round for a named time, on any replica
    (no leadership needed: the events are the scheduler's own, so nothing is
    decided twice). Every replica serves it, whether or not it runs the scheduler."""

    def __init__(
        self,
        store: Store,
        evaluate: Callable[[Event], Decision],
        observer: _Observer,
        *,
        period_seconds: int,
    ) -> None:
        self._store = store
        self._evaluate = evaluate
        self._observer = observer
        self.period_seconds = period_seconds

    def run_ticks(self, at: datetime, selection: ChatSelection) -> ManualRound:
        return run_ticks(
            self._store,
            self._evaluate,
            period_seconds=self.period_seconds,
            at=at,
            selection=selection,
            observer=self._observer,
        )


class LifecycleRuntime:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        evaluate: Callable[[Event], Decision],
        rulesets: RulesetHolder,
        metrics: LifecycleMetrics,
        *,
        clock: Callable[[], datetime] = _utcnow,
        leadership: Leadership | None = None,
    ) -> None:
        self.service = LifecycleService(
            store, rulesets, clock=clock, lease_seconds=settings.outbox_lease_seconds
        )
        observer = _Observer(metrics, self.service.wakeups)
        self.ticks = ManualTicks(store, evaluate, observer, period_seconds=settings.tick_seconds)
        self.api = LifecycleServices(
            self.service,
            poll_seconds=settings.outbox_poll_seconds,
            ticks=self.ticks,
            observer=metrics,
        )
        metrics.track_lifecycle(self.service.status_counts, self.service.pending)
        metrics.set_leader(False)
        self.scheduler: TickScheduler | None = None
        if settings.scheduler:
            self.scheduler = TickScheduler(
                store,
                evaluate,
                leadership or leadership_for(store.engine),
                period_seconds=settings.tick_seconds,
                clock=clock,
                observer=observer,
                sweep=Retention(
                    store.engine,
                    decision_days=settings.decision_retention_days,
                    policies=retention_policies(),
                ).sweep,
            )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[LifecycleRuntime]:
        """The scheduler runs (when enabled) for the duration of the block."""
        if self.scheduler is None:
            yield self
            return
        stop = asyncio.Event()
        # one thread of its own: ticks never wait behind the RPC workers, nor block them
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="firekeeper-scheduler")
        task = asyncio.create_task(self.scheduler.run(stop, executor), name="firekeeper-ticks")
        log.info(
            "scheduler started",
            extra={"tick_seconds": self.scheduler.period_seconds, "node": self.scheduler.node},
        )
        try:
            yield self
        finally:
            stop.set()
            try:
                await task
            finally:
                executor.shutdown(wait=True)
