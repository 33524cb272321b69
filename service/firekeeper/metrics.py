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
- the server: ``set_ready``;
- the ruleset reloader (``firekeeper.reload``): ``observe_reload`` and ``set_rulesets``.

Each governance area's own metrics (screening's held joins, review queue and promotion
signals; lifecycle's ticks, scheduler leader, outbox and chats by status; corrections'
counts and false-positive ratios) are defined in its package (``areas/<area>/metrics.py``,
declared on its ``PACKAGE``) and built on this registry by
``firekeeper.area_registry.metrics``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.context_managers import Timer

from firekeeper.domain import ActionType, Decision, Event, EventKind, Platform

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
