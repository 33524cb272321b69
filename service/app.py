"""The composition root: settings -> store, rulesets, metrics, pipeline, server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from prometheus_client import CollectorRegistry
from sqlalchemy.engine import make_url

from service.config import Settings
from service.metrics import Metrics
from service.pipeline import Pipeline, RulesetHolder
from service.rulesets_dir import default_dir, load
from service.server import Bound, serve
from service.store import create_store

log = logging.getLogger("firekeeper")


def rulesets_dir(settings: Settings) -> Path:
    return Path(settings.rulesets_dir) if settings.rulesets_dir else default_dir()


def prepare_sqlite_dir(url: str) -> None:
    """An embedded SQLite store's folder is created on first run."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)


async def run_service(
    settings: Settings,
    *,
    stop_event: asyncio.Event | None = None,
    on_ready: Callable[[Bound], None] | None = None,
) -> int:
    directory = rulesets_dir(settings)
    index = load(directory)  # a bad ruleset set stops start-up with every error located
    prepare_sqlite_dir(settings.store_url)
    store = create_store(settings.store_url)
    try:
        store.migrate()
        metrics = Metrics(CollectorRegistry())
        metrics.set_rulesets((rs.name, rs.version) for rs in index.all())
        pipeline = Pipeline(store, RulesetHolder(index), timing=metrics)
        log.info(
            "rulesets loaded",
            extra={"directory": str(directory), "rulesets": index.names()},
        )
        await serve(settings, pipeline, metrics, stop_event=stop_event, on_ready=on_ready)
    finally:
        store.close()
    return 0
