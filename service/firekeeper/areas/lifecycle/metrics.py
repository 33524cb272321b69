"""The lifecycle area's metrics, on the service's registry (built once by
``firekeeper.area_registry.metrics``; declared on ``PACKAGE``). Labels bounded: tick
outcomes and health statuses only.

Who records what: the tick scheduler (``firekeeper.scheduler``, through
``firekeeper.lifecycle_runtime``) ``observe_tick`` and ``set_leader``; the Outbox
service (``firekeeper.api.lifecycle_servicer``) ``observe_outbox``; the runtime
``track_lifecycle`` (chats by health status and pending outbox items, read from the
store at scrape time).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping

from prometheus_client import Counter, Gauge

from firekeeper.domain import Decision, Event
from firekeeper.domain.health import HealthStatus
from firekeeper.metrics import Metrics

TICK_OUTCOMES = ("evaluated", "replayed", "failed")


class LifecycleMetrics:
    """``firekeeper_ticks``, ``firekeeper_scheduler_leader``, ``firekeeper_outbox_*``,
    ``firekeeper_chats_by_status`` (implements ``firekeeper.scheduler.TickObserver``).
    A tick's decision is also counted as any other on the service's metrics."""

    def __init__(self, metrics: Metrics) -> None:
        self._service = metrics
        registry = metrics.registry
        self.ticks = Counter(
            "firekeeper_ticks",
            "chat.tick events the scheduler evaluated on this replica, by outcome.",
            ["outcome"],
            registry=registry,
        )
        self.scheduler_leader = Gauge(
            "firekeeper_scheduler_leader",
            "1 on the replica that runs the tick scheduler (exactly one per database).",
            registry=registry,
        )
        self.outbox_pending = Gauge(
            "firekeeper_outbox_pending",
            "Outbox actions not yet acknowledged by an adapter, across the store (read at"
            " scrape time; every replica reports the same value).",
            registry=registry,
        )
        self.outbox_delivered = Counter(
            "firekeeper_outbox_delivered",
            "Outbox items sent on a stream by this replica (redeliveries included).",
            registry=registry,
        )
        self.outbox_acked = Counter(
            "firekeeper_outbox_acked",
            "Outbox items adapters acknowledged through this replica.",
            registry=registry,
        )
        self.chats_by_status = Gauge(
            "firekeeper_chats_by_status",
            "Chats by the health status of their latest tick (read at scrape time; every"
            " replica reports the same value).",
            ["status"],
            registry=registry,
        )
        for outcome in TICK_OUTCOMES:
            self.ticks.labels(outcome=outcome)
        for status in HealthStatus:
            self.chats_by_status.labels(status=status.value)

    def observe_tick(self, event: Event, decision: Decision | None, seconds: float) -> None:
        """One scheduler tick: ``decision`` None when it failed."""
        if decision is None:
            self.ticks.labels(outcome="failed").inc()
            return
        self.ticks.labels(outcome="replayed" if decision.replayed else "evaluated").inc()
        self._service.observe_decision(event, decision, seconds)

    def set_leader(self, leading: bool) -> None:
        self.scheduler_leader.set(1 if leading else 0)

    def after_round(self) -> None:
        return None

    def observe_outbox(self, *, delivered: int = 0, acked: int = 0) -> None:
        if delivered:
            self.outbox_delivered.inc(delivered)
        if acked:
            self.outbox_acked.inc(acked)

    def track_lifecycle(
        self,
        status_counts: Callable[[], Mapping[HealthStatus, int]],
        pending: Callable[[], int],
        *,
        cache_seconds: float = 10.0,
    ) -> None:
        """Read chats by status and pending outbox items from the store at scrape time
        (status counts cached ``cache_seconds``); NaN when the store cannot say."""
        counts = _Cached(status_counts, cache_seconds)
        for status in HealthStatus:

            def read(status: HealthStatus = status) -> float:
                found = counts.get()
                return math.nan if found is None else float(found.get(status, 0))

            self.chats_by_status.labels(status=status.value).set_function(read)

        def read_pending() -> float:
            try:
                return float(pending())
            except Exception:
                return math.nan

        self.outbox_pending.set_function(read_pending)


class _Cached:
    """A store read shared by several gauge children within one scrape."""

    def __init__(self, read: Callable[[], Mapping[HealthStatus, int]], seconds: float) -> None:
        self._read = read
        self._seconds = seconds
        self._lock = threading.Lock()
        self._at = -math.inf
        self._value: Mapping[HealthStatus, int] = {}

    def get(self) -> Mapping[HealthStatus, int] | None:
        """The cached counts, refreshed when stale; None when the store cannot say."""
        with self._lock:
            now = time.monotonic()
            if now - self._at >= self._seconds:
                try:
                    self._value, self._at = dict(self._read()), now
                except Exception:  # a scrape must not fail because the database is away
                    return None
            return self._value
