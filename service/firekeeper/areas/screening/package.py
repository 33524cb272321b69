"""The screening area, as the registry sees it (``firekeeper.area_registry``)."""

from __future__ import annotations

from firekeeper.area_package import AdminApi, AreaContext, AreaPackage, ServiceContext
from firekeeper.areas.screening import tables
from firekeeper.areas.screening.admin import ScreeningAdmin
from firekeeper.areas.screening.area import ScreeningArea
from firekeeper.areas.screening.metrics import ScreeningMetrics
from firekeeper.areas.screening.pure.vocabulary import FIELDS
from firekeeper.areas.screening.retention import RETENTION


def area(context: AreaContext) -> ScreeningArea:
    return ScreeningArea(
        phishing_domains=context.phishing_domains,
        observer=context.metrics_of(ScreeningMetrics),
        spam_model=context.spam_model,
    )


def admin(context: ServiceContext, area: ScreeningArea) -> AdminApi:
    """The Screening API over ``ScreeningAdmin``; the review queue's depth a gauge."""
    port = ScreeningAdmin(context.store)
    context.metrics.of(ScreeningMetrics).track_review_queue(port.queue_depth)
    return AdminApi(port, "firekeeper.api.screening_servicer:ScreeningServices")


PACKAGE = AreaPackage(
    "screening",
    (tables,),
    area,
    retention=RETENTION,
    admin=admin,
    metrics=ScreeningMetrics,
    vocabulary=FIELDS,
)
