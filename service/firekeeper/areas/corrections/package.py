"""The corrections area, as the registry sees it (``firekeeper.area_registry``)."""

from __future__ import annotations

from firekeeper.area_package import AreaContext, AreaPackage
from firekeeper.areas.corrections import queries
from firekeeper.areas.corrections.area import CorrectionsArea, SampleCache
from firekeeper.areas.corrections.pure.features import TEXT_CHECKS


def area(context: AreaContext) -> CorrectionsArea:
    """The service's keeps a tenant's samples a few seconds (its Corrections API drops
    them on a report); the tools' reads the store at every message."""
    return CorrectionsArea(SampleCache() if context.cached else SampleCache(ttl_seconds=0))


PACKAGE = AreaPackage("corrections", (queries,), area, text_checks=TEXT_CHECKS)
