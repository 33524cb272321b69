"""A migrated store on each backend (SQLite file; PostgreSQL schema when configured)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from firekeeper.store import Store, create_store


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = create_store(store_url)
    s.migrate()
    yield s
    s.close()
