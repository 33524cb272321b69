"""The composition root: settings -> store, rulesets, metrics, pipeline, server."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry
from sqlalchemy.engine import make_url

from firekeeper.api.area_services import bind
from firekeeper.area_package import AreaContext, ServiceContext
from firekeeper.area_registry import admin_apis
from firekeeper.area_registry import metrics as area_metrics
from firekeeper.areas.corrections.queries import false_positives_by_rule
from firekeeper.areas.lifecycle.metrics import LifecycleMetrics
from firekeeper.config import Settings
from firekeeper.errors import Diagnostic, FirekeeperError
from firekeeper.learned.artefact import SHIPPED, SpamModelFileError
from firekeeper.learned.artefact import load as load_spam_model
from firekeeper.lifecycle_runtime import LifecycleRuntime, QueuedTicks
from firekeeper.metrics import Metrics
from firekeeper.pipeline import RulesetHolder
from firekeeper.reload import Reloader, fingerprint
from firekeeper.rules.domains import parse_list
from firekeeper.rules.spam_model import SpamModel
from firekeeper.rulesets_dir import compile_dir_sources, default_dir, read_sources
from firekeeper.sandbox import check_in_child
from firekeeper.server import Bound, serve
from firekeeper.store import Store, create_store
from firekeeper.store.audit import AuditLog
from firekeeper.wiring import area_set, build_pipeline

if TYPE_CHECKING:
    from firekeeper.console.server import ConsoleServer

log = logging.getLogger("firekeeper")


def rulesets_dir(settings: Settings) -> Path:
    return Path(settings.rulesets_dir) if settings.rulesets_dir else default_dir()


def prepare_sqlite_dir(url: str) -> None:
    """An embedded SQLite store's folder is created on first run."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def migrate(settings: Settings) -> None:
    """Bring the store's schema up to date (what ``run_service`` does first); ``serve
    --workers N`` does it once before its processes start, so they never race on it."""
    prepare_sqlite_dir(settings.store_url)
    store = create_store(settings.store_url)
    try:
        store.migrate()
    finally:
        store.close()


def phishing_list(settings: Settings) -> frozenset[str]:
    """The phishing domains named by FIREKEEPER_PHISHING_DOMAINS (one a line); none when unset."""
    if not settings.phishing_domains:
        return frozenset()
    path = Path(settings.phishing_domains)
    try:
        domains = parse_list(path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError) as exc:
        raise FirekeeperError(
            f"FIREKEEPER_PHISHING_DOMAINS={str(path)!r}: cannot read the list ({exc}); "
            "fix the path or unset it"
        ) from exc
    log.info("phishing domains loaded", extra={"file": str(path), "domains": len(domains)})
    return domains


def spam_model(settings: Settings) -> SpamModel | None:
    """The spam model FIREKEEPER_SPAM_MODEL names: the shipped one when unset, none when off."""
    if settings.spam_model.strip().lower() == "off":
        log.info("spam model off: message.spam_score is absent")
        return None
    path = Path(settings.spam_model) if settings.spam_model else SHIPPED
    try:
        model = load_spam_model(path)
    except SpamModelFileError as exc:
        raise FirekeeperError(f"FIREKEEPER_SPAM_MODEL: {exc}") from exc
    log.info("spam model loaded", extra={"file": str(path), "version": model.version})
    return model


async def run_service(
    settings: Settings,
    *,
    stop_event: asyncio.Event | None = None,
    on_ready: Callable[[Bound], None] | None = None,
) -> int:
    directory = rulesets_dir(settings)
    sources = read_sources(directory)
    index = compile_dir_sources(sources)  # a bad set stops start-up with every error located
    prepare_sqlite_dir(settings.store_url)
    store = create_store(settings.store_url)
    try:
        store.migrate()
        metrics = Metrics(CollectorRegistry())
        metrics.set_rulesets((rs.name, rs.version) for rs in index.all())
        observed = area_metrics(metrics)  # every area's own, on the same registry
        holder = RulesetHolder(index)
        areas = area_set(  # every registered area, as the service configures them
            holder,
            AreaContext(
                spam_model=spam_model(settings),
                phishing_domains=phishing_list(settings),
                metrics=observed,
                cached=True,
            ),
        )
        pipeline = build_pipeline(
            store,
            holder,
            timing=metrics,
            areas=areas,
            decision_days=settings.decision_retention_days,
            budget_seconds=settings.evaluation_budget_seconds,
            on_over_budget=metrics.observe_over_budget,
        )
        # every area's admin API (its gauges registered), built with the area it serves
        admins = admin_apis(ServiceContext(store, observed, settings), areas)
        services = [bind(api) for api in admins]
        reloader = Reloader(
            directory, holder, metrics, fingerprint=fingerprint(sources), check=_child(settings)
        )
        log.info(
            "rulesets loaded",
            extra={"directory": str(directory), "rulesets": index.names()},
        )
        watching: asyncio.Task[None] | None = None
        if settings.reload_seconds > 0:  # hot reload: poll the directory for changes
            watching = asyncio.create_task(
                reloader.watch(settings.reload_seconds), name="firekeeper-reload"
            )
        ticks = QueuedTicks()  # through the server's batcher: never beside an evaluation on SQLite
        lifecycle = LifecycleRuntime(
            settings, store, ticks.evaluate, holder, observed.of(LifecycleMetrics)
        )
        console = None
        if settings.console_port is not None:  # the read-only web console, beside gRPC
            console = _console(settings)(
                store,
                lifecycle.service,
                lambda: holder.index,
                false_positives=StoredFalsePositives(store),
            )
        try:
            async with lifecycle.running():  # the tick scheduler, while the server runs
                await serve(
                    settings,
                    pipeline,
                    metrics,
                    stop_event=stop_event,
                    on_ready=on_ready,
                    reloader=reloader,
                    # the lifecycle area's Outbox and Health come with the tick scheduler
                    services=[*services, lifecycle.api],
                    audit=AuditLog(store.engine),
                    console=console,
                    on_batcher=ticks.attach,
                )
        finally:
            if watching is not None:
                watching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
    finally:
        store.close()
    return 0


def _console(settings: Settings) -> Callable[..., ConsoleServer]:
    """The console server's constructor; a clear error when its extra is not installed."""
    try:
        from firekeeper.console.server import ConsoleServer
    except ImportError as exc:
        raise FirekeeperError(
            f"FIREKEEPER_CONSOLE_PORT is set, but the console cannot be loaded ({exc}): "
            "install it with pip install 'firekeeper[console]', or unset it"
        ) from exc
    return functools.partial(ConsoleServer, settings)


class StoredFalsePositives:
    """The console's false-positive column (``firekeeper.console.stats.FalsePositives``),
    read from the corrections store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def false_positives_by_rule(
        self, *, tenant: str | None, since: datetime, until: datetime
    ) -> dict[tuple[str, str], int]:
        rows = false_positives_by_rule(self._store, tenant=tenant, since=since, until=until)
        return {(r.ruleset, r.rule_id): r.false_positives for r in rows if r.rule_id}


def _child(settings: Settings) -> Callable[[Mapping[str, str]], list[Diagnostic]] | None:
    """The child process check of a changed ruleset set, unless disabled (memory 0)."""
    if settings.reload_memory_mb == 0:
        return None
    return functools.partial(
        check_in_child,
        where=str(rulesets_dir(settings)),
        memory_bytes=settings.reload_memory_mb * 2**20,
        timeout=settings.reload_timeout_seconds,
    )
