"""Engines for the two supported databases, the error boundary, and running migrations.

SQLite (the embedded default) runs in WAL mode with foreign keys on and a busy
timeout. pysqlite's own transaction handling is switched off and SQLAlchemy
emits ``BEGIN`` itself (the documented recipe), so a write transaction can ask
for ``BEGIN IMMEDIATE``: it takes the database's write lock up front, and two
concurrent writers queue for it instead of failing at their first write.

PostgreSQL runs through psycopg 3 with a ``lock_timeout`` on every connection, so
a transaction never waits forever on a locked chat row. A pooled connection that
sat idle for ``ping_idle_seconds`` (30 s by default) is pinged (``SELECT 1``)
when checked out and replaced if it is gone (a database restarted, a connection
cut while idle); one used more recently is not: ``pool_pre_ping`` sent that
round trip before every transaction, one of a unary call's ~20. A connection lost
while the service is busy fails the batch that meets it as a whole
(``StoreUnavailable``, nothing written; the caller sends it again), and SQLAlchemy
then discards every pooled connection made before the loss, so the next batch
connects afresh.

Schema changes happen only through the alembic scripts in ``migrations/``, run
in code by :func:`run_migrations`; no ``alembic.ini`` is needed at runtime.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from firekeeper.errors import StoreUnavailable

MIGRATIONS_DIR: Final = Path(__file__).resolve().parent / "migrations"

# Execution option read by the SQLite "begin" hook: "DEFERRED" (reads) or "IMMEDIATE" (writes).
SQLITE_BEGIN: Final = "firekeeper_sqlite_begin"
# pg_advisory_xact_lock key that serializes replicas migrating at the same time ("fkmigrat").
_MIGRATION_LOCK_KEY: Final = 0x666B6D6967726174

_CONNECTIVITY_ERRORS = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)

# A pooled PostgreSQL connection idle longer than this is pinged when checked out.
PING_IDLE_SECONDS: Final = 30.0
_IDLE_SINCE: Final = "firekeeper_idle_since"  # the pool entry's info: monotonic check-in time

URL_HINT: Final = "use sqlite:///path/to/firekeeper.db or postgresql+psycopg://user@host:5432/db"


def make_engine(
    url: str,
    *,
    pool_size: int = 10,
    lock_timeout_ms: int = 30_000,
    ping_idle_seconds: float = PING_IDLE_SECONDS,
) -> Engine:
    """An engine for a ``sqlite:///file`` or ``postgresql[+psycopg]://`` URL.

    ``lock_timeout_ms`` bounds how long a transaction waits for a lock (SQLite's
    busy timeout, PostgreSQL's ``lock_timeout``); past it the store reports
    :class:`StoreUnavailable`. ``ping_idle_seconds``: a PostgreSQL connection idle
    in the pool longer than this is pinged before use (see the module's docstring).
    """
    if ping_idle_seconds < 0:
        raise ValueError(f"ping_idle_seconds must be 0 or more, not {ping_idle_seconds}")
    try:
        parsed = make_url(url)
    except sa.exc.ArgumentError as e:
        raise ValueError(f"cannot parse database URL {url!r}: {URL_HINT}") from e
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed, pool_size=pool_size, lock_timeout_ms=lock_timeout_ms)
    if backend == "postgresql":
        return _postgres_engine(
            parsed,
            pool_size=pool_size,
            lock_timeout_ms=lock_timeout_ms,
            ping_idle_seconds=ping_idle_seconds,
        )
    raise ValueError(f"unsupported database {backend!r} in URL {_safe(parsed)}: {URL_HINT}")


def _sqlite_engine(url: URL, *, pool_size: int, lock_timeout_ms: int) -> Engine:
    if url.get_driver_name() != "pysqlite":
        raise ValueError(f"unsupported SQLite driver in {_safe(url)}: {URL_HINT}")
    if url.database in (None, "", ":memory:") or url.query.get("mode") == "memory":
        raise ValueError(
            f"{_safe(url)} is an in-memory SQLite database, which pooled connections cannot "
            f"share: give a file path ({URL_HINT})"
        )
    engine = sa.create_engine(
        url, pool_size=pool_size, max_overflow=pool_size, hide_parameters=True
    )

    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Take transaction control away from pysqlite; the "begin" hook emits BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(lock_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA synchronous = NORMAL")  # durable enough under WAL
        finally:
            cursor.close()

    def on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        if mode not in ("DEFERRED", "IMMEDIATE"):
            raise ValueError(f"{SQLITE_BEGIN} must be DEFERRED or IMMEDIATE, not {mode!r}")
        conn.exec_driver_sql(f"BEGIN {mode}")

    sa.event.listen(engine, "connect", on_connect)
    sa.event.listen(engine, "begin", on_begin)
    return engine


def _postgres_engine(
    url: URL, *, pool_size: int, lock_timeout_ms: int, ping_idle_seconds: float
) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    if url.get_driver_name() != "psycopg":
        raise ValueError(f"unsupported PostgreSQL driver in {_safe(url)}: {URL_HINT}")
    engine = sa.create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        hide_parameters=True,  # SQL parameters (message text, bios) never reach a log
    )

    def on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True
        try:
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET lock_timeout = {int(lock_timeout_ms)}")
        finally:
            dbapi_connection.autocommit = autocommit

    def on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    def on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)  # None: connected just now
        if since is None or time.monotonic() - since < ping_idle_seconds:
            return
        dialect = engine.dialect
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as exc:
            if not dialect.is_disconnect(exc, dbapi_connection, None):
                raise  # not a lost connection: the caller gets the error as it is
            # gone: the pool drops it and every connection older, and connects afresh
            raise sa.exc.InvalidatePoolError(f"an idle pooled connection is gone: {exc}") from exc

    sa.event.listen(engine, "connect", on_connect)
    sa.event.listen(engine, "checkin", on_checkin)
    sa.event.listen(engine, "checkout", on_checkout)
    return engine


def _safe(url: URL) -> str:
    return url.render_as_string(hide_password=True)


def describe(engine: Engine) -> str:
    """Where the store lives, for messages (never with a password)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"sqlite database {url.database}"
    return f"postgresql at {url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"


@contextmanager
def unavailable_on_db_errors(engine: Engine, doing: str) -> Iterator[None]:
    """Re-raise connectivity failures (and lock timeouts) as :class:`StoreUnavailable`.

    Inside a transaction the exception has already rolled it back by the time
    it gets here (the ``with conn.begin()`` block is nested inside this one).
    """
    try:
        yield
    except _CONNECTIVITY_ERRORS as e:
        cause = e.orig if isinstance(e, sa.exc.DBAPIError) and e.orig is not None else e
        reason = " ".join(str(cause).split())
        if len(reason) > 300:
            reason = reason[:297] + "..."
        raise StoreUnavailable(f"{describe(engine)}: cannot {doing}: {reason}") from e


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic configuration built in code, pointing at ``store/migrations``."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def run_migrations(engine: Engine) -> None:
    """Upgrade the schema to head in one transaction; a no-op when it is already there.

    Concurrent callers serialize: SQLite through ``BEGIN IMMEDIATE``, PostgreSQL
    through a transaction-scoped advisory lock taken before alembic reads the
    current revision.
    """
    with engine.connect() as conn:
        conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(
                    sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            command.upgrade(alembic_config(conn), "heads")


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (None before the first migration)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
