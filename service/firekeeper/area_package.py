"""What a governance area declares about itself, and what every area is handed.

Each area package has one module of its own, ``firekeeper/areas/<area>/package.py``,
exposing ``PACKAGE``: an :class:`AreaPackage` (its name, its tables, its checks on user
text, its retention policies, its metrics, and the factory of its ``Area[S]``).
``firekeeper.area_registry`` lists them, one line each, and assembles what the rest of
the service reads from every area.

Every factory receives one :class:`AreaContext`: what the service (or a tool) has for
the areas, whichever of them uses it. An area with an admin API also declares it
(``admin``): built by the service from a :class:`ServiceContext` and the area it built,
an :class:`AdminApi`. An area with metrics of its own declares their class
(``metrics``): the registry builds each once on the service's registry, and hands them
all, as one :class:`AreaMetrics`, to the factories through either context. This module
sits below the areas (they import it) and above the
pipeline and the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Generic, TypeVar

from firekeeper.config import Settings
from firekeeper.metrics import Metrics
from firekeeper.pipeline import Area, RulesetHolder
from firekeeper.rules.spam_model import SpamModel
from firekeeper.rules.textchecks import Check
from firekeeper.rules.vocabulary import Field
from firekeeper.store import Store
from firekeeper.store.retention import Policy

A = TypeVar("A", bound=Area[Any])
M = TypeVar("M")


@dataclass(frozen=True, slots=True)
class AreaMetrics:
    """The service's metrics and every area's own, built on its registry
    (``firekeeper.area_registry.metrics``); an area finds its own by their class."""

    service: Metrics
    areas: tuple[object, ...] = field(default=())

    def get(self, kind: type[M]) -> M | None:
        """The area metrics of class ``kind``; None when no package declared them."""
        for candidate in self.areas:
            if isinstance(candidate, kind):
                return candidate
        return None

    def of(self, kind: type[M]) -> M:
        """The area metrics of class ``kind``, which must have been built."""
        found = self.get(kind)
        if found is None:
            raise LookupError(f"no area metrics of class {kind.__name__} were built")
        return found


@dataclass(frozen=True, slots=True)
class AreaContext:
    """What the service and the tools hand every area's factory.

    ``rulesets``: the loaded rulesets (an area may read a ruleset's profile).
    ``spam_model``: the spam model, loaded once by the runtime (none: off).
    ``phishing_domains``: the phishing list the service was given.
    ``metrics``: the service's metrics and the areas' (none for the tools: nothing
    observed); an area reads its own with :meth:`metrics_of`.
    ``cached``: whether an area may keep what it read of the store in memory between
    events (the service: yes; the tools read the store at every event, so a ruleset
    test sees what it just wrote).
    """

    rulesets: RulesetHolder | None = None
    spam_model: SpamModel | None = None
    phishing_domains: frozenset[str] = frozenset()
    metrics: AreaMetrics | None = None
    cached: bool = False

    def metrics_of(self, kind: type[M]) -> M | None:
        """The area metrics of class ``kind``; None for the tools."""
        return None if self.metrics is None else self.metrics.get(kind)


@dataclass(frozen=True, slots=True)
class ServiceContext:
    """What the service hands an area's admin factory: its store, metrics (the service's
    and the areas', ``metrics.of(kind)``) and settings."""

    store: Store
    metrics: AreaMetrics
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
    e.g. the corrections sample cache); it registers the area's gauges on its metrics.
    ``vocabulary``: the fields its stage adds to the fact that rules may read (declared
    in its ``pure/vocabulary.py``), assembled after the core's by the registry.
    ``metrics``: where it has metrics of its own, their class, built once per registry
    from the service's metrics (``firekeeper.area_registry.metrics``) and found by the
    area's and admin's factories in their context by that class.
    """

    name: str
    tables: tuple[ModuleType, ...]
    area: Callable[[AreaContext], A]
    text_checks: tuple[Check, ...] = ()
    retention: tuple[Policy, ...] = ()
    admin: Callable[[ServiceContext, A], AdminApi] | None = None
    metrics: Callable[[Metrics], object] | None = None
    vocabulary: tuple[Field, ...] = ()
