"""The corrections area, as the registry sees it (``firekeeper.area_registry``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firekeeper.area_package import AdminApi, AreaContext, AreaPackage, ServiceContext
from firekeeper.areas.corrections import queries
from firekeeper.areas.corrections.admin import CorrectionsAdmin
from firekeeper.areas.corrections.area import CorrectionsArea, SampleCache
from firekeeper.areas.corrections.metrics import CorrectionsMetrics
from firekeeper.areas.corrections.pure.features import TEXT_CHECKS
from firekeeper.areas.corrections.pure.vocabulary import FIELDS

FALSE_POSITIVE_DAYS = 30  # the window of firekeeper_rule_false_positive_ratio


def area(context: AreaContext) -> CorrectionsArea:
    """The service's keeps a tenant's samples a few seconds (its Corrections API drops
    them on a report); the tools' reads the store at every message."""
    return CorrectionsArea(SampleCache() if context.cached else SampleCache(ttl_seconds=0))


def admin(context: ServiceContext, area: CorrectionsArea) -> AdminApi:
    """The Corrections API over ``CorrectionsAdmin``, which shares the area's sample
    cache (a report is seen at the next message); the false-positive ratios a gauge."""
    observed = context.metrics.of(CorrectionsMetrics)
    port = CorrectionsAdmin(context.store, area.cache, observer=observed)

    def last_days() -> datetime:
        return datetime.now(UTC) - timedelta(days=FALSE_POSITIVE_DAYS)

    observed.track_false_positives(lambda: port.rule_report(since=last_days()))
    return AdminApi(port, "firekeeper.api.corrections_servicer:CorrectionsServices")


PACKAGE = AreaPackage(
    "corrections",
    (queries,),
    area,
    text_checks=TEXT_CHECKS,
    admin=admin,
    metrics=CorrectionsMetrics,
    vocabulary=FIELDS,
)
