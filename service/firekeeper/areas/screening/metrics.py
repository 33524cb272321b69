"""The screening area's metrics, on the service's registry (built once by
``firekeeper.area_registry.metrics``; declared on ``PACKAGE``).

Who records what: the area (after its transaction commits) ``observe_promo_signals``
and ``observe_join_held``; its admin API's factory ``track_review_queue`` (the queue
depth is read from the store at scrape time).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from prometheus_client import Counter, Gauge

from firekeeper.metrics import Metrics
from firekeeper.rules.promo import SIGNALS as PROMO_SIGNALS


class ScreeningMetrics:
    """``firekeeper_joins_held``, ``firekeeper_review_queue_depth``,
    ``firekeeper_promo_signals`` (implements ``area.ScreeningObserver``)."""

    def __init__(self, metrics: Metrics) -> None:
        registry = metrics.registry
        self.joins_held = Counter(
            "firekeeper_joins_held",
            "Joins a rule put into the review queue (hold_for_review).",
            registry=registry,
        )
        self.review_queue_depth = Gauge(
            "firekeeper_review_queue_depth",
            "Held joins waiting for an admin, across the store (read at scrape time).",
            registry=registry,
        )
        self.promo_signals = Counter(
            "firekeeper_promo_signals",
            "Messages showing each promotion signal (firekeeper.rules.promo).",
            ["signal"],
            registry=registry,
        )
        for signal in PROMO_SIGNALS:
            self.promo_signals.labels(signal=signal)

    def observe_promo_signals(self, signals: Iterable[str]) -> None:
        """One message's promotion signals (names from ``firekeeper.rules.promo.SIGNALS``)."""
        for signal in signals:
            if signal in PROMO_SIGNALS:
                self.promo_signals.labels(signal=signal).inc()

    def observe_join_held(self) -> None:
        self.joins_held.inc()

    def track_review_queue(self, depth: Callable[[], int]) -> None:
        """Read the queue depth at scrape time; NaN when the store cannot say."""

        def read() -> float:
            try:
                return float(depth())
            except Exception:  # a scrape must not fail because the database is away
                return math.nan

        self.review_queue_depth.set_function(read)
