"""The lifecycle part of the running service: scheduler task, Outbox/Health services, gauges.

``firekeeper.app`` builds one :class:`LifecycleRuntime` and runs the server inside
``async with runtime.running():``; the scheduler task starts before the server
listens and stops (giving up its lock) after the server has drained.

Ticks (the scheduler's and the Scheduler.RunTicks RPC's) are evaluated through the
server's batcher (:class:`QueuedTicks`), the queue every Evaluate and EvaluateBatch
call goes through: on SQLite, with its one evaluation thread, a tick never runs
beside an Evaluate call. That thread is not SQLite's only writer: the retention sweep,
RegisterChat, history import and admin writes still write from other threads, and
queue on SQLite's write lock (``BEGIN IMMEDIATE``), which is safe. Until the server
hands its batcher over, once it has closed it, and when it does not answer a tick
within ``TICK_WAIT_SECONDS``, a tick round is put off to the next check.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from firekeeper.api.batcher import Batcher, Closed, NotReached
from firekeeper.api.lifecycle_servicer import LifecycleServices
from firekeeper.area_registry import retention_policies
from firekeeper.areas.lifecycle.admin import LifecycleService, Wakeups
from firekeeper.areas.lifecycle.metrics import LifecycleMetrics
from firekeeper.config import Settings
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event
from firekeeper.pipeline import RulesetHolder
from firekeeper.scheduler import (
    ChatSelection,
    ManualRound,
    QueueNotRunning,
    TickScheduler,
    run_ticks,
)
from firekeeper.store import Store
from firekeeper.store.leader import Leadership, leadership_for
from firekeeper.store.retention import Retention

log = logging.getLogger("firekeeper.scheduler")


# How long a tick waits for the server's queue to answer before its round is put off.
# A tick waits for at most the batch running and its own (the batcher's fairness), which
# take milliseconds to a few seconds; a queue silent for this long has a stalled or dead
# evaluation thread. It also bounds how long shutdown waits for the scheduler's thread.
TICK_WAIT_SECONDS = 30.0


def _utcnow() -> datetime:
    return datetime.now(UTC)


class QueuedTicks:
    """Ticks evaluated through the server's batcher (``evaluate``, handed to the
    scheduler and to RunTicks), once the server has handed it over (``attach``).
    ``wait_seconds``: how long a tick waits for its answer (``TICK_WAIT_SECONDS``)."""

    def __init__(self, *, wait_seconds: float = TICK_WAIT_SECONDS) -> None:
        if wait_seconds <= 0:
            raise ValueError("a tick's wait for the queue must be positive")
        self.wait_seconds = wait_seconds
        self._lock = threading.Lock()
        self._batcher: Batcher | None = None

    def attach(self, batcher: Batcher) -> None:
        """The server's batcher, started: ticks go through it from now on."""
        with self._lock:
            self._batcher = batcher

    def evaluate(self, event: Event) -> Decision:
        """The tick's decision, evaluated in a batch of the server's queue (waiting for
        it like any caller); ``QueueNotRunning`` before ``attach``, once the batcher
        is closed, or when it has not answered within ``wait_seconds`` (the tick is then
        withdrawn if not yet taken into a batch; if it was, its decision stands and the
        next round replays it); the event's own error as the pipeline raised it."""
        with self._lock:
            batcher = self._batcher
        if batcher is None:
            raise QueueNotRunning("the server's evaluation queue has not started yet")
        call = batcher.submit([event])
        try:
            (answer,) = call.future.result(timeout=self.wait_seconds)
        except Closed as exc:
            raise QueueNotRunning("the server's evaluation queue is closed") from exc
        except TimeoutError as exc:  # concurrent.futures.TimeoutError is TimeoutError
            call.cancelled = True  # not evaluated later for nobody, if not yet taken
            log.warning(
                "the evaluation queue did not answer a tick in time",
                extra={"event_id": event.envelope.event_id, "seconds": self.wait_seconds},
            )
            raise QueueNotRunning(
                f"the server's evaluation queue did not answer within {self.wait_seconds:g} s"
            ) from exc
        outcome = answer.outcome
        if isinstance(outcome, Exception):
            raise outcome
        if isinstance(outcome, NotReached):  # only a call with a deadline; ticks have none
            raise QueueNotRunning("the tick was not reached before the queue stopped")
        return outcome


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
