"""Shared fixtures: store URLs for SQLite and, when configured, PostgreSQL.

PostgreSQL tests read FIREKEEPER_TEST_POSTGRES_URL. Without it they skip and
say how to enable them; CI sets it together with FIREKEEPER_REQUIRE_POSTGRES=1,
and then an unset or unreachable server fails the run instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from firekeeper.store import Store, create_store

# In CI, property tests are derandomized so a run is reproducible; on a
# developer's machine they explore new examples every run.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

PG_ENV = "FIREKEEPER_TEST_POSTGRES_URL"
HOW = f"set {PG_ENV}=postgresql+psycopg://postgres@127.0.0.1:5432/test to run PostgreSQL tests"


def _require() -> bool:
    return os.environ.get("FIREKEEPER_REQUIRE_POSTGRES", "") not in ("", "0")


@pytest.fixture(scope="session")
def postgres_base_url() -> str:
    url = os.environ.get(PG_ENV, "")
    if not url:
        if _require():
            pytest.fail(f"FIREKEEPER_REQUIRE_POSTGRES is set but {PG_ENV} is not")
        pytest.skip(HOW)
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL at {PG_ENV} is unreachable: {exc}")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def postgres_url(postgres_base_url: str) -> Iterator[str]:
    """A fresh schema per test, so tests never see each other's rows."""
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = sa.create_engine(postgres_base_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in postgres_base_url else "?"
    try:
        yield f"{postgres_base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'firekeeper.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    """A migrated store on each backend (a SQLite file; PostgreSQL when configured)."""
    s = create_store(store_url)
    s.migrate()
    yield s
    s.close()


REPO = Path(__file__).resolve().parent.parent
RULESETS = REPO / "rulesets"
