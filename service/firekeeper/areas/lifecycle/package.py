"""The lifecycle area, as the registry sees it (``firekeeper.area_registry``)."""

from __future__ import annotations

from firekeeper.area_package import AreaContext, AreaPackage
from firekeeper.areas.lifecycle import onboarding, queries
from firekeeper.areas.lifecycle.area import LifecycleArea
from firekeeper.areas.lifecycle.pure.features import TEXT_CHECKS


def area(context: AreaContext) -> LifecycleArea:
    return LifecycleArea(context.rulesets)


PACKAGE = AreaPackage("lifecycle", (queries, onboarding), area, text_checks=TEXT_CHECKS)
