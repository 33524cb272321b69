"""What a governance area declares about itself, and what every area is handed.

Each area package has one module of its own, ``firekeeper/areas/<area>/package.py``,
exposing ``PACKAGE``: an :class:`AreaPackage` (its name, its tables, its checks on user
text, its retention policies, and the factory of its ``Area[S]``).
``firekeeper.area_registry`` lists them, one line each, and assembles what the rest of
the service reads from every area.

Every factory receives one :class:`AreaContext`: what the service (or a tool) has for
the areas, whichever of them uses it. It sits below the areas (they import it) and
above the pipeline and the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Generic, TypeVar

from firekeeper.metrics import Metrics
from firekeeper.pipeline import Area, RulesetHolder
from firekeeper.rules.spam_model import SpamModel
from firekeeper.rules.textchecks import Check
from firekeeper.store.retention import Policy

A = TypeVar("A", bound=Area[Any], covariant=True)


@dataclass(frozen=True, slots=True)
class AreaContext:
    """What the service and the tools hand every area's factory.

    ``rulesets``: the loaded rulesets (an area may read a ruleset's profile).
    ``spam_model``: the spam model, loaded once by the runtime (none: off).
    ``phishing_domains``: the phishing list the service was given.
    ``metrics``: the service's metrics (none for the tools: nothing observed).
    ``cached``: whether an area may keep what it read of the store in memory between
    events (the service: yes; the tools read the store at every event, so a ruleset
    test sees what it just wrote).
    """

    rulesets: RulesetHolder | None = None
    spam_model: SpamModel | None = None
    phishing_domains: frozenset[str] = frozenset()
    metrics: Metrics | None = None
    cached: bool = False


@dataclass(frozen=True, slots=True)
class AreaPackage(Generic[A]):
    """One governance area, as its package declares it (``areas/<area>/package.py``).

    ``tables``: the modules that define its tables (imported, they register them on the
    store's metadata, for alembic and the schema test).
    ``area``: builds its ``Area[S]`` from the context.
    ``text_checks``: its checks on user text (pure), timed with the core's.
    ``retention``: its tables that grow with traffic, for the retention sweep.
    """

    name: str
    tables: tuple[ModuleType, ...]
    area: Callable[[AreaContext], A]
    text_checks: tuple[Check, ...] = ()
    retention: tuple[Policy, ...] = ()
