"""The extra area, as the registry sees it: the one module an area adds for it."""

from __future__ import annotations

from firekeeper.area_package import AreaContext, AreaPackage
from tests.areas.extra import tables
from tests.areas.extra.area import TEXT_CHECKS, ExtraArea
from tests.areas.extra.metrics import ExtraMetrics
from tests.areas.extra.vocabulary import FIELDS


def area(context: AreaContext) -> ExtraArea:
    return ExtraArea("cached" if context.cached else "tools", context.metrics_of(ExtraMetrics))


PACKAGE = AreaPackage(
    "extra",
    (tables,),
    area,
    text_checks=TEXT_CHECKS,
    retention=tables.RETENTION,
    metrics=ExtraMetrics,
    vocabulary=FIELDS,
)
