"""The one list of governance area packages, and what the rest reads from it.

The core and the store do not import the areas (they sit below them); what they
need from every area is assembled here:

- :func:`text_checks`: the core's checks on user text and each area's
  (``tests/rules/test_text_timing.py`` times every one);
- :func:`metadata`: the store's tables and every area's, for alembic's
  ``env.py`` and the schema test (importing an area's queries registers its tables).

Adding an area: a package under ``firekeeper/areas/``, and one line in
:data:`PACKAGES` naming its pure features and its queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

import sqlalchemy as sa

from firekeeper.areas.corrections import features as corrections_features
from firekeeper.areas.corrections import queries as corrections_queries
from firekeeper.rules.textchecks import CHECKS, Check
from firekeeper.store.models import metadata as _metadata


@dataclass(frozen=True, slots=True)
class AreaPackage:
    name: str
    features: ModuleType  # pure; may define TEXT_CHECKS: tuple[Check, ...]
    queries: ModuleType  # its tables (registered on the store's metadata) and queries


PACKAGES: tuple[AreaPackage, ...] = (
    AreaPackage("corrections", corrections_features, corrections_queries),
)


def text_checks() -> tuple[Check, ...]:
    """Every built-in check on user text: the core's, then each area's."""
    found = list(CHECKS)
    for package in PACKAGES:
        found.extend(getattr(package.features, "TEXT_CHECKS", ()))
    return tuple(found)


def metadata() -> sa.MetaData:
    """The store's metadata with every area's tables on it."""
    return _metadata
