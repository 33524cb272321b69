"""Building the auth pieces from settings, for ``firekeeper.server``."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from prometheus_client import CollectorRegistry

from firekeeper.auth.credentials import CredentialsFile, Limits
from firekeeper.auth.interceptor import AuthInterceptor
from firekeeper.auth.metrics import AuthMetrics
from firekeeper.config import Settings
from firekeeper.store.audit import AuditLog

_P = ParamSpec("_P")
_T = TypeVar("_T")


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose jobs run in a copy of the submitter's context variables
    (``loop.run_in_executor`` does not copy them; ``asyncio.to_thread`` does)."""

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        context = contextvars.copy_context()

        def run() -> _T:
            return context.run(fn, *args, **kwargs)

        return super().submit(run)


def default_limits(settings: Settings) -> Limits:
    return Limits(
        rate=settings.rate_limit, burst=settings.rate_burst, concurrent=settings.max_concurrent
    )


def build_interceptor(
    settings: Settings, registry: CollectorRegistry, audit: AuditLog | None
) -> AuthInterceptor | None:
    """The interceptor when a credentials file is configured; None: no authentication."""
    if not settings.credentials_file:
        return None
    limits = default_limits(settings)
    metrics = AuthMetrics(registry, limits)
    credentials = CredentialsFile(
        Path(settings.credentials_file),
        check_seconds=settings.credentials_check_seconds,
        on_change=metrics.credentials_changed,
    )
    return AuthInterceptor(credentials, limits, metrics, audit=audit)


__all__: list[Any] = ["ContextExecutor", "build_interceptor", "default_limits"]
