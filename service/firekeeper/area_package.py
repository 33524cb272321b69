"""What a governance area declares about itself, and what every area is handed.

Each area package has one module of its own, ``firekeeper/areas/<area>/package.py``,
exposing ``PACKAGE``: an :class:`AreaPackage` (its name, its tables, its checks on user
text, its retention policies, and the factory of its ``Area[S]``).
``firekeeper.area_registry`` lists them, one line each, and assembles what the rest of
the service reads from every area.

Every factory receives one :class:`AreaContext`: what the service (or a tool) has for
the areas, whichever of them uses it. An area with an admin API also declares it
(``admin``): built by the service from a :class:`ServiceContext` and the area it built,
an :class:`AdminApi`. This module sits below the areas (they import it) and above the
pipeline and the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Generic, TypeVar

from firekeeper.config import Settings
from firekeeper.metrics import Metrics
from firekeeper.pipeline import Area, RulesetHolder
from firekeeper.rules.spam_model import SpamModel
from firekeeper.rules.textchecks import Check
from firekeeper.store import Store
from firekeeper.store.retention import Policy

A = TypeVar("A", bound=Area[Any])


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
class ServiceContext:
    """What the service hands an area's admin factory: its store, metrics and settings."""

    store: Store
    metrics: Metrics
    settings: Settings


@dataclass(frozen=True, slots=True)
class AdminApi:
    """An area's admin API: the object its gRPC services call (``port``, e.g. the
    area's ``admin.py``), and where the binding of those services is, named
    ``"firekeeper.api.<module>:<name>"``: a callable taking the port and returning what
    the server adds (``firekeeper.api.area_services.AreaServices``).

    Named, not imported: the API layer (its generated code, conversions and status
    mapping) sits above the areas, which never import it; the server imports the
    binding when it is built (``firekeeper.api.area_services.bind``)."""

    port: object
    services: str


@dataclass(frozen=True, slots=True)
class AreaPackage(Generic[A]):
    """One governance area, as its package declares it (``areas/<area>/package.py``).

    ``tables``: the modules that define its tables (imported, they register them on the
    store's metadata, for alembic and the schema test).
    ``area``: builds its ``Area[S]`` from the context.
    ``text_checks``: its checks on user text (pure), timed with the core's.
    ``retention``: its tables that grow with traffic, for the retention sweep.
    ``admin``: where it has one, its admin API, built once by the service from the
    service's context and the area the service built (so both share what they must,
    e.g. the corrections sample cache); it registers the area's gauges on the metrics.
    """

    name: str
    tables: tuple[ModuleType, ...]
    area: Callable[[AreaContext], A]
    text_checks: tuple[Check, ...] = ()
    retention: tuple[Policy, ...] = ()
    admin: Callable[[ServiceContext, A], AdminApi] | None = None
