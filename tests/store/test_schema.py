"""Migrations build the schema the models describe, idempotently, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from firekeeper.area_registry import metadata as every_table
from firekeeper.store import Store, create_store
from firekeeper.store.db import alembic_config, current_revision


def _heads() -> set[str]:
    """Every head of the migration history (one: 0012, the recent topic vocabulary)."""
    return set(ScriptDirectory.from_config(alembic_config()).get_heads())


def _current(store: Store) -> set[str]:
    with store.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads())


def test_migrate_is_idempotent(store_url: str) -> None:
    with create_store(store_url) as store:
        assert current_revision(store.engine) is None
        store.migrate()
        store.migrate()
        assert _current(store) == _heads() == {"0012_w4_topic_recent_vocabulary"}
        tables = set(sa.inspect(store.engine).get_table_names())
        assert {"chats", "members", "decisions", "outbox", "audit_log", "alembic_version"} <= tables
    with create_store(store_url) as again:  # a restart migrates again: still fine
        again.migrate()
        assert _current(again) == _heads()


def test_the_migrations_build_what_the_models_describe(store_url: str) -> None:
    with create_store(store_url) as store:
        store.migrate()
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), every_table())
    assert diff == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    with create_store(f"sqlite:///{tmp_path}/fk.db", lock_timeout_ms=1234) as store:
        store.migrate()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://u@h/db", "unsupported database"),
        ("postgresql+psycopg2://u@h/db", "unsupported PostgreSQL driver"),
        ("not a url", "cannot parse"),
    ],
)
def test_unusable_urls_are_refused_with_the_accepted_forms(url: str, says: str) -> None:
    with pytest.raises(ValueError, match=says) as info:
        create_store(url)
    assert "sqlite:///path/to/firekeeper.db" in str(info.value)


def test_a_plain_postgresql_url_uses_psycopg_3() -> None:
    with create_store("postgresql://u:secret@db.example:5432/fk") as store:
        assert store.engine.dialect.driver == "psycopg"
