"""Who runs the scheduler: exactly one replica per database (per schema).

PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) taken on a
dedicated connection that is kept open. The lock lives exactly as long as that
database session: a replica that dies, or whose connection breaks, loses it at
once, and another replica gets it on its next attempt. The leader checks its
connection on every round (``SELECT 1``); a failure means leadership is lost.
The key is derived from the schema name, so two deployments in two schemas of
one database (or two test schemas) do not contend.

SQLite: one process owns the database file, so that process always leads.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("firekeeper.scheduler")

LOCK_NAME = "firekeeper.scheduler"


class Leadership(Protocol):
    def ensure(self) -> bool:
        """Try to lead (or check that this replica still does); True while it leads."""
        ...

    def release(self) -> None:
        """Stop leading (at shutdown); safe to call when not leading."""
        ...


class AlwaysLeader:
    """SQLite: the only process leads."""

    def ensure(self) -> bool:
        return True

    def release(self) -> None:
        return None


def lock_key(schema: str, name: str = LOCK_NAME) -> int:
    """A signed 64-bit advisory lock key for ``name`` in ``schema``."""
    digest = hashlib.blake2b(f"{name}/{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class AdvisoryLock:
    """PostgreSQL: leadership is a session advisory lock on a connection of its own."""

    def __init__(self, engine: Engine, name: str = LOCK_NAME) -> None:
        self._engine = engine
        self._name = name
        self._conn: Connection | None = None

    @property
    def leading(self) -> bool:
        return self._conn is not None

    def ensure(self) -> bool:
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT 1"))
                return True
            except sa.exc.SQLAlchemyError:
                log.warning("lost the scheduler lock: its database connection failed")
                self._drop()
                return False
        conn: Connection | None = None
        try:
            conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
            key = lock_key(str(schema), self._name)
            got = conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
        except sa.exc.SQLAlchemyError as exc:
            log.warning("cannot try the scheduler lock: %s", " ".join(str(exc).split())[:300])
            if conn is not None:
                conn.invalidate()
                conn.close()
            return False
        if not got:
            conn.close()
            return False
        self._conn = conn
        log.info("took the scheduler lock: this replica runs the scheduler")
        return True

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            self._conn.close()
        except sa.exc.SQLAlchemyError:
            self._drop()
        self._conn = None

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()
                conn.close()
            except sa.exc.SQLAlchemyError:
                pass


def leadership_for(engine: Engine) -> Leadership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    return AlwaysLeader()
