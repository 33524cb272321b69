"""The screening area, as the registry sees it (``firekeeper.area_registry``)."""

from __future__ import annotations

from firekeeper.area_package import AreaContext, AreaPackage
from firekeeper.areas.screening import tables
from firekeeper.areas.screening.area import ScreeningArea
from firekeeper.areas.screening.retention import RETENTION


def area(context: AreaContext) -> ScreeningArea:
    return ScreeningArea(
        phishing_domains=context.phishing_domains,
        observer=context.metrics,
        spam_model=context.spam_model,
    )


PACKAGE = AreaPackage("screening", (tables,), area, retention=RETENTION)
