"""The one list of governance area packages, and what the rest reads from it.

Each area declares itself in its own ``areas/<area>/package.py`` (``PACKAGE``, a
``firekeeper.area_package.AreaPackage``); :data:`PACKAGES` lists them, one line each,
in evaluation order. The core and the store do not import the areas (they sit below
them); what they need from every area is assembled here:

- :func:`build`: every area's ``Area[S]`` for one ``AreaContext``, in order
  (``firekeeper.wiring`` builds the pipeline of the service and the tools with it);
- :func:`metrics`: every area's own metrics, built once on the service's registry
  beside the service's (handed to the areas and their admin APIs in their contexts);
- :func:`admin_apis`: the admin API of every area that has one (the service adds
  their gRPC services: ``firekeeper.api.area_services.bind``);
- :data:`VOCABULARY`: the fields rules may read, the core's then each area's, built
  once at import (an immutable value): what rulesets are compiled and checked against
  (``firekeeper.rulesets_dir``), what ``firekeeper vocabulary``, the JSON Schema and
  explain print;
- :func:`text_checks`: the core's checks on user text and each area's
  (``tests/rules/test_text_timing.py`` times every one);
- :func:`metadata`: the store's tables and every area's, for alembic's
  ``env.py`` and the schema test (importing an area's tables module registers them);
- :func:`retention_policies`: what the retention sweep prunes, the decision
  log's and each area's tables' (``firekeeper.store.retention.Retention``).

Adding an area: its package under ``firekeeper/areas/`` and one line in
:data:`PACKAGES` (docs/architecture.md, "Adding an area").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import sqlalchemy as sa

from firekeeper.area_package import AdminApi, AreaContext, AreaMetrics, AreaPackage, ServiceContext
from firekeeper.areas.corrections.package import PACKAGE as CORRECTIONS
from firekeeper.areas.lifecycle.package import PACKAGE as LIFECYCLE
from firekeeper.areas.screening.package import PACKAGE as SCREENING
from firekeeper.metrics import Metrics
from firekeeper.pipeline import Area
from firekeeper.rules.textchecks import CHECKS, Check
from firekeeper.rules.vocabulary import CORE, Vocabulary
from firekeeper.store import retention
from firekeeper.store.models import metadata as _metadata

# in evaluation order: an area's fact sections are there for the areas after it
PACKAGES: tuple[AreaPackage[Any], ...] = (LIFECYCLE, SCREENING, CORRECTIONS)

_A = TypeVar("_A", bound=Area[Any])


def vocabulary(packages: Sequence[AreaPackage[Any]] = PACKAGES) -> Vocabulary:
    """The core's fields, then each package's; a field declared twice is refused."""
    return CORE.extended(*(package.vocabulary for package in packages))


VOCABULARY = vocabulary()


@dataclass(frozen=True, slots=True)
class Areas:
    """Every package's area, built for one context, in the packages' order."""

    packages: tuple[AreaPackage[Any], ...]
    areas: tuple[Area[Any], ...]

    def of(self, package: AreaPackage[_A]) -> _A:
        """The area ``package`` built, typed as its factory returns it (for the callers
        that share something of it, e.g. the Corrections API its sample cache)."""
        for candidate, area in zip(self.packages, self.areas, strict=True):
            if candidate is package:
                return area  # type: ignore[return-value]  # built by package.area
        raise LookupError(f"area package {package.name!r} is not among the built areas")


def build(context: AreaContext, packages: Sequence[AreaPackage[Any]] = PACKAGES) -> Areas:
    """Every package's ``Area[S]`` built from ``context``, in order."""
    names = [package.name for package in packages]
    if len(set(names)) != len(names):
        raise ValueError(f"area packages must have distinct names, got {names}")
    return Areas(tuple(packages), tuple(package.area(context) for package in packages))


def metrics(service: Metrics, packages: Sequence[AreaPackage[Any]] = PACKAGES) -> AreaMetrics:
    """Every package's own metrics, built on ``service.registry`` (once per registry: a
    second build would register the same names twice, which prometheus refuses)."""
    return AreaMetrics(
        service, tuple(package.metrics(service) for package in packages if package.metrics)
    )


def admin_apis(context: ServiceContext, areas: Areas) -> tuple[AdminApi, ...]:
    """The admin API of every built area that has one, in order (the service's)."""
    return tuple(
        package.admin(context, area)
        for package, area in zip(areas.packages, areas.areas, strict=True)
        if package.admin is not None
    )


def text_checks(packages: Sequence[AreaPackage[Any]] = PACKAGES) -> tuple[Check, ...]:
    """Every built-in check on user text: the core's, then each area's."""
    return (*CHECKS, *(c for package in packages for c in package.text_checks))


def metadata() -> sa.MetaData:
    """The store's metadata with every area's tables on it (their modules are imported
    with the packages)."""
    return _metadata


def retention_policies(
    packages: Sequence[AreaPackage[Any]] = PACKAGES,
) -> tuple[retention.Policy, ...]:
    """The decision log's retention policy, then each area's."""
    return (*retention.POLICIES, *(p for package in packages for p in package.retention))
