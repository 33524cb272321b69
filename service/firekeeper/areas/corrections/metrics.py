"""The corrections area's metrics, on the service's registry (built once by
``firekeeper.area_registry.metrics``; declared on ``PACKAGE``). Labels: ruleset and
rule ids (bounded by the rulesets) and correction kinds.

Who records what: the Corrections API (``admin.CorrectionsAdmin``) ``observe_correction``;
its factory ``track_false_positives`` (each rule's false-positive rate, read from the
store at scrape time, cached).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable

from prometheus_client import Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from firekeeper.domain.corrections import CorrectionKind, RuleCorrections
from firekeeper.metrics import Metrics

FALSE_POSITIVE_RATIO = "firekeeper_rule_false_positive_ratio"
_CORRECTION_KINDS = frozenset(k.value for k in CorrectionKind)


class CorrectionsMetrics:
    """``firekeeper_corrections`` and ``firekeeper_rule_false_positive_ratio``
    (implements ``admin.CorrectionObserver``)."""

    def __init__(self, metrics: Metrics) -> None:
        registry = metrics.registry
        self.corrections = Counter(
            "firekeeper_corrections",
            "Admins' corrections stored through this replica, by ruleset, rule and kind"
            " (not_spam and join_was_fine count once for each rule that acted; missed_spam"
            " once, with rule empty).",
            ["ruleset", "rule", "kind"],
            registry=registry,
        )
        # read from the store once track_false_positives says how (until then the family
        # is exported without samples)
        self._false_positives = _FalsePositiveRates(lambda: (), 0.0)
        registry.register(self._false_positives)

    def observe_correction(self, kind: str, ruleset: str, rule_ids: Iterable[str]) -> None:
        """One stored correction (``kind``: a ``CorrectionKind`` value)."""
        if kind not in _CORRECTION_KINDS:
            return
        rules = list(rule_ids) or [""]
        for rule in rules:
            self.corrections.labels(ruleset=ruleset, rule=rule, kind=kind).inc()

    def track_false_positives(
        self, read: Callable[[], Iterable[RuleCorrections]], *, cache_seconds: float = 30.0
    ) -> None:
        """Export ``firekeeper_rule_false_positive_ratio`` per ruleset and rule from ``read``
        (the store's per-rule report), read at scrape time and cached ``cache_seconds``."""
        self._false_positives.use(read, cache_seconds)


class _FalsePositiveRates(Collector):
    """Each rule's false positives / actions, from the store, for rules that acted."""

    def __init__(self, read: Callable[[], Iterable[RuleCorrections]], seconds: float) -> None:
        self._read = read
        self._seconds = seconds
        self._lock = threading.Lock()
        self._at = -math.inf
        self._rows: list[RuleCorrections] = []

    def use(self, read: Callable[[], Iterable[RuleCorrections]], seconds: float) -> None:
        with self._lock:
            self._read, self._seconds, self._at = read, seconds, -math.inf

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            FALSE_POSITIVE_RATIO,
            "Per ruleset and rule, over the last 30 days: decisions whose actions admins"
            " corrected as not_spam or join_was_fine / decisions in which the rule acted"
            " (read from the store at scrape time; every replica reports the same value).",
            labels=["ruleset", "rule"],
        )

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return [self._family()]

    def collect(self) -> Iterable[GaugeMetricFamily]:
        with self._lock:
            now = time.monotonic()
            if now - self._at >= self._seconds:
                try:
                    self._rows, self._at = list(self._read()), now
                except Exception:  # a scrape must not fail because the database is away
                    self._rows, self._at = [], now
            rows = self._rows
        family = self._family()
        for r in rows:
            rate = r.false_positive_rate
            if r.rule_id and rate is not None:
                family.add_metric([r.ruleset, r.rule_id], rate)
        return [family]
