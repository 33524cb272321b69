"""The governance areas' admin gRPC services, as the server adds them.

An area with an admin API declares it in its package (``AreaPackage.admin``): the
object its services call (the port) and where their binding is, ``"module:name"``
in this package (``firekeeper.area_package.AdminApi``). The areas sit below the API
layer and never import it, so the binding is named, not imported; :func:`bind`
imports it when the server is built, and refuses a name outside ``firekeeper.api``
or one that is not there. ``tests/areas/test_admin.py`` binds every registered one.
"""

from __future__ import annotations

import importlib
from concurrent.futures import Executor
from typing import Protocol

import grpc

from firekeeper.area_package import AdminApi
from firekeeper.metrics import Metrics

API_PACKAGE = "firekeeper.api."


class AreaServices(Protocol):
    """One area's admin services, as the server adds them to itself and stops them."""

    @property
    def names(self) -> tuple[str, ...]:
        """The full names of its gRPC services (for reflection)."""
        ...

    def add_to(self, server: grpc.aio.Server, metrics: Metrics, executor: Executor) -> None: ...

    async def close(self) -> None:
        """At shutdown, before the server stops accepting calls."""
        ...


def bind(api: AdminApi) -> AreaServices:
    """The services ``api.services`` names, over ``api.port``."""
    module_name, _, attribute = api.services.partition(":")
    if not module_name.startswith(API_PACKAGE) or not attribute:
        raise ValueError(
            f"an area's admin services are named 'firekeeper.api.<module>:<name>', "
            f"got {api.services!r}"
        )
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ValueError(f"an area's admin services {api.services!r} are not there: {exc}") from exc
    services: AreaServices = factory(api.port)
    return services
