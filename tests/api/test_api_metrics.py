"""Metrics on an injected registry, and the /metrics endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

from prometheus_client import CollectorRegistry

from firekeeper.domain import Action, ActionType, Decision
from firekeeper.domain.decisions import RuleMatch, RuleMode
from firekeeper.metrics import Metrics, serve_metrics

from .support import event, http_get


def test_known_labels_start_at_zero() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    get = registry.get_sample_value
    assert get("firekeeper_events_total", {"platform": "wecom", "kind": "join.requested"}) == 0
    assert get("firekeeper_errors_total", {"code": "UNAVAILABLE"}) == 0
    assert get("firekeeper_evaluation_seconds_count", {"kind": "member.left"}) == 0


def test_store_timing_and_rulesets() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    with metrics.time_store("load_context"):
        pass
    metrics.observe_store("commit", 0.004)
    get = registry.get_sample_value
    assert get("firekeeper_store_seconds_count", {"operation": "load_context"}) == 1
    assert get("firekeeper_store_seconds_sum", {"operation": "commit"}) == 0.004
    metrics.set_rulesets([("hobby", "3"), ("work", "1")])
    metrics.set_rulesets([("hobby", "4")])
    assert get("firekeeper_rulesets_loaded", {"ruleset": "hobby", "version": "4"}) == 1
    assert get("firekeeper_rulesets_loaded", {"ruleset": "hobby", "version": "3"}) is None


def test_observe_decision_counts_new_decisions_once() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    decision = Decision(
        "e1", (Action(ActionType.BAN, "spam.link"),), (), "hobby", "1", datetime.now(UTC)
    )
    metrics.observe_decision(event(), decision, 0.002)
    metrics.observe_decision(event(), dataclasses.replace(decision, replayed=True), 0.001)
    get = registry.get_sample_value
    assert get("firekeeper_actions_total", {"type": "ban", "rule": "spam.link"}) == 1
    assert get("firekeeper_events_total", {"platform": "telegram", "kind": "message.posted"}) == 1
    assert get("firekeeper_decisions_replayed_total") == 1


def test_observe_decision_keeps_each_labelled_child_apart() -> None:
    """The children looked up once and kept: each label set still counts only its own."""
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    now = datetime.now(UTC)
    shadow = RuleMatch("spam.link", RuleMode.SHADOW, "", ())
    enforce = RuleMatch("spam.link", RuleMode.ENFORCE, "", ())
    ban = Decision("e1", (Action(ActionType.BAN, "spam.link"),), (enforce,), "hobby", "1", now)
    warn = Decision(
        "e2", (Action(ActionType.WARN_USER, "spam.link"),), (shadow,), "hobby", "1", now
    )
    for decision in (ban, ban, warn, ban):
        metrics.observe_decision(event(), decision, 0.002)
    get = registry.get_sample_value
    assert get("firekeeper_actions_total", {"type": "ban", "rule": "spam.link"}) == 3
    assert get("firekeeper_actions_total", {"type": "warn_user", "rule": "spam.link"}) == 1
    assert get("firekeeper_rule_matches_total", {"rule": "spam.link", "mode": "enforce"}) == 3
    assert get("firekeeper_rule_matches_total", {"rule": "spam.link", "mode": "shadow"}) == 1
    assert get("firekeeper_events_total", {"platform": "telegram", "kind": "message.posted"}) == 4
    latency = {"kind": "message.posted"}
    assert get("firekeeper_evaluation_seconds_count", latency) == 4


async def test_metrics_endpoint_on_an_ephemeral_port() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    server = serve_metrics(registry, 0)
    try:
        assert server.port > 0
        body = await asyncio.to_thread(http_get, f"http://127.0.0.1:{server.port}/metrics")
        assert "firekeeper_errors_total" in body
    finally:
        await asyncio.to_thread(server.close)
