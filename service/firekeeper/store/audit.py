"""The audit log of admin actions, and how an entry joins the change it records.

An RPC marked ``audited`` (``firekeeper.auth.policy``) runs with a pending
``AuditEntry`` in a context variable (``pending``). The store's engine carries
a hook (``install``): when a transaction that wrote something commits inside
that context, the entry is inserted into ``audit_log`` by that same
transaction, with outcome ``OK``, so a change is never committed without its
record (nor the record without its change). A call that changed nothing in the
store (a ruleset reload, a refused or failed call) gets its entry afterwards,
in a transaction of its own, with the outcome it ended with (``record``); a call
that committed a change and then failed has its entry's outcome set to that failure.

Migration ``0005_audit`` builds the table; ``tests/store`` checks the two agree.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from firekeeper.store.db import SQLITE_BEGIN, unavailable_on_db_errors
from firekeeper.store.models import BigId, UtcDateTime, metadata

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("credential", sa.String(64), nullable=False),
    sa.Column("method", sa.String(128), nullable=False),
    sa.Column("tenant", sa.String(255), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Index("ix_audit_log_tenant_id", "tenant", "id"),
)

MAX_PAGE = 500
DEFAULT_PAGE = 100


@dataclass(slots=True)
class AuditEntry:
    credential: str
    method: str
    tenant: str
    platform: str
    key: str
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    written: bool = False  # set once a row holds it
    row_id: int | None = None

    def row(self, outcome: str) -> dict[str, Any]:
        return {
            "at": self.at,
            "credential": self.credential[:64],
            "method": self.method[:128],
            "tenant": self.tenant[:255],
            "platform": self.platform[:32],
            "key": self.key[:255],
            "outcome": outcome[:32],
        }


@dataclass(frozen=True, slots=True)
class AuditRecord:
    id: int
    at: datetime
    credential: str
    method: str
    tenant: str
    platform: str
    key: str
    outcome: str


_PENDING: contextvars.ContextVar[AuditEntry | None] = contextvars.ContextVar(
    "firekeeper_audit", default=None
)
_WROTE = "firekeeper_audit_wrote"
_WRITES = ("insert", "update", "delete")


@contextmanager
def pending(entry: AuditEntry) -> Iterator[AuditEntry]:
    """Within this block (and worker threads started from it with its context), the
    first committed write transaction also writes ``entry``."""
    token = _PENDING.set(entry)
    try:
        yield entry
    finally:
        _PENDING.reset(token)


def install(engine: Engine) -> None:
    """Hook ``engine`` so committed writes carry the pending audit entry. Idempotent."""
    if getattr(engine, "_firekeeper_audit", False):
        return

    def before_execute(
        conn: Connection, _cursor: Any, statement: str, *_args: Any, **_kw: Any
    ) -> None:
        if _PENDING.get() is not None and statement.lstrip()[:6].lower() in _WRITES:
            conn.info[_WROTE] = True

    def on_commit(conn: Connection) -> None:
        entry = _PENDING.get()
        if conn.info.pop(_WROTE, False) and entry is not None and not entry.written:
            entry.written = True
            result = conn.execute(audit_log.insert().values(**entry.row("OK")))
            (entry.row_id,) = result.inserted_primary_key or (None,)

    def on_rollback(conn: Connection) -> None:
        conn.info.pop(_WROTE, None)

    sa.event.listen(engine, "before_cursor_execute", before_execute)
    sa.event.listen(engine, "commit", on_commit)
    sa.event.listen(engine, "rollback", on_rollback)
    engine._firekeeper_audit = True  # type: ignore[attr-defined]


class AuditLog:
    """Reads and stand-alone writes of the audit log."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        install(engine)

    def record(self, entry: AuditEntry, outcome: str) -> None:
        """Write ``entry`` on its own (a call that changed nothing in the store), or, when a
        transaction of the call already wrote it and the call then failed, set its outcome."""
        if entry.written and (outcome == "OK" or entry.row_id is None):
            return
        if entry.written:
            update = (
                audit_log.update()
                .where(audit_log.c.id == entry.row_id)
                .values(outcome=outcome[:32])
            )
            with self._write("write the audit log") as conn:
                conn.execute(update)
            return
        with self._write("write the audit log") as conn:
            conn.execute(audit_log.insert().values(**entry.row(outcome)))
        entry.written = True

    @contextmanager
    def _write(self, doing: str) -> Iterator[Connection]:
        token = _PENDING.set(None)  # this transaction is the record: the hook stays out
        try:
            with unavailable_on_db_errors(self.engine, doing), self.engine.connect() as conn:
                conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
                with conn.begin():
                    yield conn
        finally:
            _PENDING.reset(token)

    def list(
        self, tenant: str | None, *, limit: int = DEFAULT_PAGE, before: int | None = None
    ) -> tuple[list[AuditRecord], int | None]:
        """Newest first: up to ``limit`` entries of ``tenant`` (None: every tenant) older than
        id ``before``; and the id to pass as ``before`` for the next page (None: last page)."""
        query = sa.select(audit_log).order_by(audit_log.c.id.desc()).limit(limit + 1)
        if tenant is not None:
            query = query.where(audit_log.c.tenant == tenant)
        if before is not None:
            query = query.where(audit_log.c.id < before)
        with (
            unavailable_on_db_errors(self.engine, "read the audit log"),
            self.engine.connect() as conn,
        ):
            rows = conn.execute(query).mappings().all()
        records = [AuditRecord(**dict(r)) for r in rows[:limit]]
        more = len(rows) > limit
        return records, (records[-1].id if more and records else None)
