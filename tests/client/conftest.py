"""Fixtures: a real service on port 0, and the scripted fake."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .support import Fake, Script, ServiceThread, Step, sqlite_url, start_fake


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    """The address of a real Firekeeper (SQLite in tmp_path, the shipped rulesets)."""
    running = ServiceThread(sqlite_url(tmp_path))
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
def fake() -> Iterator[Callable[..., Fake]]:
    """``fake(failures=[...], sleep=...)``: a scripted Governance service, stopped at teardown."""
    started: list[Fake] = []

    def start(outbox: list[list[Step]] | None = None, **script: Any) -> Fake:
        running = start_fake(Script(**script), outbox=outbox)
        started.append(running)
        return running

    try:
        yield start
    finally:
        for running in started:
            running.stop()
