"""Each area's metrics live in its package and keep their names and labels.

An area declares the class of its metrics on its ``PACKAGE``; the registry builds each
once on the service's registry (``area_registry.metrics``) and the contexts hand them
to the area's and the admin API's factories. What the service exports is what it
exported when ``firekeeper.metrics`` defined them all: dashboards and alerts
(``deploy/``) read these names.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest

from firekeeper.area_package import AreaContext, AreaMetrics
from firekeeper.area_registry import PACKAGES, build, metrics
from firekeeper.areas.corrections.metrics import CorrectionsMetrics
from firekeeper.areas.lifecycle.metrics import LifecycleMetrics
from firekeeper.areas.screening.metrics import ScreeningMetrics
from firekeeper.areas.screening.package import PACKAGE as SCREENING
from firekeeper.domain.chats import ChatRegistration
from firekeeper.domain.corrections import RuleCorrections
from firekeeper.domain.health import HealthStatus
from firekeeper.metrics import Metrics
from firekeeper.pipeline import RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.store import Store
from firekeeper.wiring import build_pipeline
from tests.areas.extra import tables
from tests.areas.extra.metrics import ExtraMetrics
from tests.areas.extra.package import PACKAGE as EXTRA
from tests.conftest import RULESETS
from tests.core.builders import KEY, T0, message

HOLDER = RulesetHolder(load(RULESETS))

# every family an area owns, with its labels, as firekeeper.metrics exported them
AREA_FAMILIES = {
    "firekeeper_joins_held": (),
    "firekeeper_review_queue_depth": (),
    "firekeeper_promo_signals": ("signal",),
    "firekeeper_ticks": ("outcome",),
    "firekeeper_scheduler_leader": (),
    "firekeeper_outbox_pending": (),
    "firekeeper_outbox_delivered": (),
    "firekeeper_outbox_acked": (),
    "firekeeper_chats_by_status": ("status",),
    "firekeeper_corrections": ("kind", "rule", "ruleset"),
    "firekeeper_rule_false_positive_ratio": ("rule", "ruleset"),
}


def _families(registry: CollectorRegistry) -> dict[str, tuple[str, ...]]:
    return {
        f.name: tuple(sorted({label for s in f.samples for label in s.labels}))
        for f in registry.collect()
    }


def test_the_service_metrics_no_longer_define_the_areas_own() -> None:
    registry = CollectorRegistry()
    Metrics(registry)
    assert not set(_families(registry)) & set(AREA_FAMILIES)


def test_each_area_metric_observed_through_its_package_is_exported_as_before() -> None:
    registry = CollectorRegistry()
    observed = metrics(Metrics(registry))
    screening = observed.of(ScreeningMetrics)
    # the screening area its package builds reports to the metrics the registry built
    built = build(AreaContext(metrics=observed))
    assert built.of(SCREENING)._observer is screening
    screening.observe_promo_signals(["payment_link", "not_a_signal"])
    screening.observe_join_held()
    screening.track_review_queue(lambda: 3)
    lifecycle = observed.of(LifecycleMetrics)
    lifecycle.observe_tick(message("hi"), None, 0.01)
    lifecycle.set_leader(True)
    lifecycle.observe_outbox(delivered=2, acked=1)
    lifecycle.track_lifecycle(lambda: {HealthStatus.DORMANT: 2}, lambda: 4)
    corrections = observed.of(CorrectionsMetrics)
    corrections.observe_correction("not_spam", "base", ["r1"])
    corrections.observe_correction("missed_spam", "base", [])
    corrections.track_false_positives(
        lambda: [RuleCorrections("base", "r1", actions=2, false_positives=1)], cache_seconds=0
    )

    families = _families(registry)
    for name, labels in AREA_FAMILIES.items():
        assert families.get(name) == labels, name
    exposition = set(generate_latest(registry).decode().splitlines())
    assert {
        'firekeeper_promo_signals_total{signal="payment_link"} 1.0',
        'firekeeper_promo_signals_total{signal="price"} 0.0',
        "firekeeper_joins_held_total 1.0",
        "firekeeper_review_queue_depth 3.0",
        'firekeeper_ticks_total{outcome="failed"} 1.0',
        'firekeeper_ticks_total{outcome="evaluated"} 0.0',
        "firekeeper_scheduler_leader 1.0",
        "firekeeper_outbox_delivered_total 2.0",
        "firekeeper_outbox_acked_total 1.0",
        "firekeeper_outbox_pending 4.0",
        'firekeeper_chats_by_status{status="dormant"} 2.0',
        'firekeeper_chats_by_status{status="thriving"} 0.0',
        'firekeeper_corrections_total{kind="not_spam",rule="r1",ruleset="base"} 1.0',
        'firekeeper_corrections_total{kind="missed_spam",rule="",ruleset="base"} 1.0',
        'firekeeper_rule_false_positive_ratio{rule="r1",ruleset="base"} 0.5',
    } <= exposition


def test_area_metrics_are_found_by_class_and_built_once_per_registry() -> None:
    service = Metrics(CollectorRegistry())
    observed = metrics(service)
    assert [type(m) for m in observed.areas] == [
        LifecycleMetrics,
        ScreeningMetrics,
        CorrectionsMetrics,
    ]
    assert [p.metrics for p in PACKAGES] == [LifecycleMetrics, ScreeningMetrics, CorrectionsMetrics]
    assert observed.service is service
    assert observed.get(ExtraMetrics) is None
    assert AreaContext().metrics_of(ScreeningMetrics) is None  # the tools observe nothing
    with pytest.raises(LookupError, match="ExtraMetrics"):
        AreaMetrics(service).of(ExtraMetrics)
    with pytest.raises(ValueError, match="Duplicated"):
        metrics(service)  # prometheus refuses the same names twice on one registry


def test_a_new_area_brings_its_metrics_through_its_registration(store: Store) -> None:
    packages = (*PACKAGES, EXTRA)
    tables.metadata.create_all(store.engine)
    registry = CollectorRegistry()
    observed = metrics(Metrics(registry), packages)
    areas = build(AreaContext(rulesets=HOLDER, metrics=observed), packages)
    assert areas.of(EXTRA).metrics is observed.of(ExtraMetrics)
    pipeline = build_pipeline(store, HOLDER, clock=lambda: T0, areas=areas)
    pipeline.register_chat(
        ChatRegistration(key=KEY, kind="hobby", member_count=30, created_at=T0 - timedelta(days=9))
    )
    for i, text in enumerate(["hello", "again"]):
        pipeline.evaluate(message(text, eid=f"m{i}"))
    with store.engine.connect() as conn:
        kept = conn.execute(sa.select(sa.func.count()).select_from(tables.seen)).scalar_one()
    assert kept == 2
    assert registry.get_sample_value("firekeeper_extra_messages_seen_total") == 2.0
