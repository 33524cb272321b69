"""Prometheus metrics, all on an injected registry and all named ``firekeeper_*``.

Labels are bounded: platform, event kind, action type, rule id (bounded by the
loaded rulesets), gRPC code, store operation, ruleset name and version. Never a
chat id or a user id.

Who records what:
- the gRPC servicer: ``observe_decision`` (events, actions, rule matches by
  mode, evaluation latency, replays), ``observe_error`` (errors by gRPC code), ``inflight``;
- the pipeline / store: ``time_store(operation)`` around each store operation,
  ``set_rulesets`` whenever the set of loaded rulesets changes,
  ``observe_over_budget`` when an event's feature stages ran past their time budget;
- the screening area and admin API: ``observe_promo_signals``, ``observe_join_held``,
  ``track_review_queue`` (the queue depth is read from the store at scrape time);
- the tick scheduler and outbox (``firekeeper.scheduler``, ``firekeeper.api.lifecycle_servicer``):
  ``observe_tick``, ``set_leader``, ``observe_outbox``, ``track_lifecycle`` (chats by
  health status and pending outbox items, read from the store at scrape time);
- the server: ``set_ready``;
- the ruleset reloader (``firekeeper.reload``): ``observe_reload`` and ``set_rulesets``;
- the corrections API (``firekeeper.areas.corrections.admin``): ``observe_correction``, and
  ``track_false_positives`` (each rule's false-positive rate, read from the store at
  scrape time, cached).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.context_managers import Timer
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from firekeeper.domain import ActionType, Decision, Event, EventKind, Platform
from firekeeper.domain.corrections import CorrectionKind, RuleCorrections
from firekeeper.domain.health import HealthStatus
from firekeeper.rules.promo import SIGNALS as PROMO_SIGNALS

TICK_OUTCOMES = ("evaluated", "replayed", "failed")
_KINDS = frozenset(kind.value for kind in EventKind)
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000)
ERROR_CODES = (
    "INVALID_ARGUMENT",
    "NOT_FOUND",
    "FAILED_PRECONDITION",
    "UNAVAILABLE",
    "DEADLINE_EXCEEDED",
    "CANCELLED",
    "RESOURCE_EXHAUSTED",
    "INTERNAL",
    "PERMISSION_DENIED",
)


class Metrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        # observe_decision's labelled children, by their label values (see there)
        self._children: dict[object, Any] = {}
        self.over_budget = Counter(
            "firekeeper_evaluation_over_budget",
            "Events whose feature stages ran past FIREKEEPER_EVALUATION_BUDGET_SECONDS"
            " (later stages then skipped their text checks).",
            ["kind"],
            registry=registry,
        )
        self.events = Counter(
            "firekeeper_events",
            "Events evaluated (replays of stored decisions are not counted again).",
            ["platform", "kind"],
            registry=registry,
        )
        self.actions = Counter(
            "firekeeper_actions",
            "Actions returned to adapters, by type and the rule that asked for them.",
            ["type", "rule"],
            registry=registry,
        )
        self.evaluation_seconds = Histogram(
            "firekeeper_evaluation_seconds",
            "Time to answer one event: its wait for the evaluation thread and its batch,"
            " store I/O included.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.batch_events = Histogram(
            "firekeeper_batch_events",
            "Events in each evaluation batch (unary calls and EvaluateBatch chunks together).",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "firekeeper_errors",
            "Calls and batch entries answered with an error, by gRPC status code.",
            ["code"],
            registry=registry,
        )
        self.store_seconds = Histogram(
            "firekeeper_store_seconds",
            "Time spent in the state store, by operation.",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.rulesets_loaded = Gauge(
            "firekeeper_rulesets_loaded",
            "1 for each ruleset (and version) currently loaded.",
            ["ruleset", "version"],
            registry=registry,
        )
        self.rule_matches = Counter(
            "firekeeper_rule_matches",
            "Rules that matched an event, by rule id and mode (enforce or shadow): a shadow"
            " rule's matches are counted here though its actions are not returned.",
            ["rule", "mode"],
            registry=registry,
        )
        self.ruleset_reloads = Counter(
            "firekeeper_ruleset_reloads",
            "Reloads of the rulesets directory: ok (swapped in) or rejected (the last good"
            " set keeps serving).",
            ["result"],
            registry=registry,
        )
        self.decisions_replayed = Counter(
            "firekeeper_decisions_replayed",
            "Retried events answered with their stored decision.",
            registry=registry,
        )
        self.ready = Gauge(
            "firekeeper_ready",
            "1 when the store is reachable and rulesets are loaded.",
            registry=registry,
        )
        self.inflight = Gauge(
            "firekeeper_inflight_requests",
            "gRPC calls being handled.",
            registry=registry,
        )
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
        # lifecycle: scheduler, outbox, chat health (bounded: statuses and outcomes only)
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
        for platform in Platform:
            for kind in EventKind:
                self.events.labels(platform=platform.value, kind=kind.value)
        for kind in EventKind:
            self.evaluation_seconds.labels(kind=kind.value)
            self.over_budget.labels(kind=kind.value)
        for code in ERROR_CODES:
            self.errors.labels(code=code)
        for result in ("ok", "rejected"):
            self.ruleset_reloads.labels(result=result)
        # admins' corrections (labels: ruleset and rule ids, bounded by the rulesets; kinds)
        self.corrections = Counter(
            "firekeeper_corrections",
            "Admins' corrections stored through this replica, by ruleset, rule and kind"
            " (not_spam and join_was_fine count once for each rule that acted; missed_spam"
            " once, with rule empty).",
            ["ruleset", "rule", "kind"],
            registry=registry,
        )
        # each rule's false-positive rate: read from the store once track_false_positives
        # says how (until then the family is exported without samples)
        self._false_positives = _FalsePositiveRates(lambda: (), 0.0)
        registry.register(self._false_positives)

    def observe_decision(self, event: Event, decision: Decision, seconds: float) -> None:
        """Count one answered event: its latency always; events and actions only when new.

        Each labelled child is looked up once and kept (``_children``): prometheus'
        ``labels()`` costs some 7 µs a call, five or six calls an event. The keys are
        as bounded as the labels (kinds, platforms, action types, the rulesets' rules)."""
        kind = event.kind
        children = self._children
        latency = children.get(kind)
        if latency is None:
            latency = children[kind] = self.evaluation_seconds.labels(kind=kind.value)
        latency.observe(seconds)
        if decision.replayed:
            self.decisions_replayed.inc()
            return
        key: tuple[object, ...] = (kind, event.envelope.platform)
        child = children.get(key)
        if child is None:
            child = children[key] = self.events.labels(
                platform=event.envelope.platform.value, kind=kind.value
            )
        child.inc()
        for action in decision.actions:
            key = ("action", action.type, action.rule_id)
            child = children.get(key)
            if child is None:
                child = children[key] = self.actions.labels(
                    type=ActionType(action.type).value, rule=action.rule_id
                )
            child.inc()
        for match in decision.trace:
            key = ("match", match.rule_id, match.mode)
            child = children.get(key)
            if child is None:
                child = children[key] = self.rule_matches.labels(
                    rule=match.rule_id, mode=match.mode.value
                )
            child.inc()

    def observe_batch(self, events: int, seconds: float) -> None:
        """One evaluation batch of ``events`` ran (for ``seconds``; the per-event time is in
        ``firekeeper_evaluation_seconds``)."""
        self.batch_events.observe(events)

    def observe_over_budget(self, kind: str) -> None:
        """One event (of ``kind``, an ``EventKind`` value) ran past its time budget."""
        if kind in _KINDS:
            self.over_budget.labels(kind=kind).inc()

    def observe_reload(self, ok: bool) -> None:
        """Count one reload of the rulesets directory (``ok``: the new set was swapped in)."""
        self.ruleset_reloads.labels(result="ok" if ok else "rejected").inc()

    def observe_error(self, code: str) -> None:
        """``code``: a gRPC status code name, e.g. ``INVALID_ARGUMENT``."""
        self.errors.labels(code=code).inc()

    def time_store(self, operation: str) -> Timer:
        """``with metrics.time_store("load_context"): ...``; ``operation`` from a fixed set."""
        return self.store_seconds.labels(operation=operation).time()

    def observe_store(self, operation: str, seconds: float) -> None:
        self.store_seconds.labels(operation=operation).observe(seconds)

    def set_rulesets(self, loaded: Iterable[tuple[str, str]]) -> None:
        """Replace the loaded set with ``(name, version)`` pairs."""
        self.rulesets_loaded.clear()
        for name, version in loaded:
            self.rulesets_loaded.labels(ruleset=name, version=version).set(1)

    def set_ready(self, ready: bool) -> None:
        self.ready.set(1 if ready else 0)

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

    def observe_tick(self, event: Event, decision: Decision | None, seconds: float) -> None:
        """One scheduler tick: ``decision`` None when it failed."""
        if decision is None:
            self.ticks.labels(outcome="failed").inc()
            return
        self.ticks.labels(outcome="replayed" if decision.replayed else "evaluated").inc()
        self.observe_decision(event, decision, seconds)

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


_CORRECTION_KINDS = frozenset(k.value for k in CorrectionKind)
FALSE_POSITIVE_RATIO = "firekeeper_rule_false_positive_ratio"


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


@dataclass
class MetricsServer:
    """The ``/metrics`` HTTP endpoint, on a daemon thread."""

    httpd: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.httpd.server_port)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def serve_metrics(registry: CollectorRegistry, port: int, host: str = "127.0.0.1") -> MetricsServer:
    """Serve ``registry`` on ``host:port`` (0: an ephemeral port; see ``MetricsServer.port``)."""
    httpd, thread = start_http_server(port, addr=host, registry=registry)
    return MetricsServer(httpd, thread)
