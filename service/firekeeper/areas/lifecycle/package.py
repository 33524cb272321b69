"""The lifecycle area, as the registry sees it (``firekeeper.area_registry``)."""

from __future__ import annotations

from firekeeper.area_package import AreaContext, AreaPackage
from firekeeper.areas.lifecycle import onboarding, queries
from firekeeper.areas.lifecycle.area import LifecycleArea
from firekeeper.areas.lifecycle.metrics import LifecycleMetrics
from firekeeper.areas.lifecycle.pure.features import TEXT_CHECKS
from firekeeper.areas.lifecycle.pure.vocabulary import FIELDS


def area(context: AreaContext) -> LifecycleArea:
    return LifecycleArea(context.rulesets)


# its metrics are recorded by the tick scheduler, the Outbox service and the runtime
# that runs them (firekeeper.lifecycle_runtime), which read them from AreaMetrics
PACKAGE = AreaPackage(
    "lifecycle",
    (queries, onboarding),
    area,
    text_checks=TEXT_CHECKS,
    metrics=LifecycleMetrics,
    vocabulary=FIELDS,
)
