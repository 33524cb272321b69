"""The one list of governance area packages, and what the rest reads from it.

The core and the store do not import the areas (they sit below them); what they
need from every area is assembled here:

- :func:`text_checks`: the core's checks on user text and each area's
  (``tests/rules/test_text_timing.py`` times every one);
- :func:`metadata`: the store's tables and every area's, for alembic's
  ``env.py`` and the schema test (importing an area's tables module registers them);
- :func:`retention_policies`: what the retention sweep prunes, the decision
  log's and each area's tables' (``firekeeper.store.retention.Retention``).

Adding an area: a package under ``firekeeper/areas/``, one line in
:data:`PACKAGES`, and its ``Area[S]`` in ``firekeeper.wiring.governance_areas``
(docs/architecture.md lists the import contracts it joins).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import sqlalchemy as sa

from firekeeper.areas.corrections import features as corrections_features
from firekeeper.areas.corrections import queries as corrections_queries
from firekeeper.areas.lifecycle import features as lifecycle_features
from firekeeper.areas.lifecycle import onboarding as lifecycle_onboarding
from firekeeper.areas.lifecycle import queries as lifecycle_queries
from firekeeper.areas.screening import retention as screening_retention
from firekeeper.areas.screening import tables as screening_tables
from firekeeper.rules.textchecks import CHECKS, Check
from firekeeper.store import retention
from firekeeper.store.models import metadata as _metadata


@dataclass(frozen=True, slots=True)
class AreaPackage:
    name: str
    tables: tuple[ModuleType, ...]  # imported, they register the area's tables
    text_checks: tuple[Check, ...] = ()  # its checks on user text (pure)
    retention: tuple[retention.Policy, ...] = ()  # its tables that grow with traffic


PACKAGES: tuple[AreaPackage, ...] = (
    AreaPackage(
        "corrections", (corrections_queries,), text_checks=corrections_features.TEXT_CHECKS
    ),
    AreaPackage("screening", (screening_tables,), retention=screening_retention.RETENTION),
    AreaPackage(
        "lifecycle",
        (lifecycle_queries, lifecycle_onboarding),
        text_checks=lifecycle_features.TEXT_CHECKS,
    ),
)


def text_checks() -> tuple[Check, ...]:
    """Every built-in check on user text: the core's, then each area's."""
    return (*CHECKS, *(c for package in PACKAGES for c in package.text_checks))


def metadata() -> sa.MetaData:
    """The store's metadata with every area's tables on it."""
    return _metadata


def retention_policies() -> tuple[retention.Policy, ...]:
    """The decision log's retention policy, then each area's."""
    return (*retention.POLICIES, *(p for package in PACKAGES for p in package.retention))
