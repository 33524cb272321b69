"""The state store: chats, members and decisions behind the API the pipeline codes against.

Per-chat consistency comes from locking the chat's row for the whole event
transaction (:meth:`Store.chat_transaction`):

- PostgreSQL: ``SELECT ... FOR UPDATE`` on the chat row; a chat seen for the
  first time is created with ``INSERT ... ON CONFLICT DO NOTHING`` and then
  selected for update, so two replicas creating it at once end up with one row
  and take turns on its lock.
- SQLite: the transaction starts with ``BEGIN IMMEDIATE``, which takes the
  database's single write lock, so event transactions run one at a time.

Everything read or written in the block sees and changes only the locked
state; the block commits on normal exit and rolls back on any exception.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from firekeeper.domain.chats import (
    ChatKey,
    ChatRecord,
    ChatRegistration,
    MemberRecord,
    StateChanges,
)
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event, Platform
from firekeeper.errors import FirekeeperError, StoreUnavailable
from firekeeper.store.codec import (
    decision_from_json,
    decision_to_json,
    event_from_json,
    event_to_json,
)
from firekeeper.store.db import (
    SQLITE_BEGIN,
    make_engine,
    run_migrations,
    unavailable_on_db_errors,
)
from firekeeper.store.keysets import any_of
from firekeeper.store.models import (
    chat_from_row,
    chat_values,
    chats,
    decisions,
    member_from_row,
    member_values,
    members,
    retention_marks,
)


class DuplicateEvent(FirekeeperError):
    """A decision for this event id is already stored (a concurrent retry got there first).

    The transaction that hit it must roll back; the pipeline then answers with
    :meth:`Store.find_decision`.
    """

    def __init__(self, tenant: str, platform: Platform, event_id: str) -> None:
        self.tenant = tenant
        self.platform = platform
        self.event_id = event_id
        super().__init__(
            f"event {event_id!r} ({platform.value}, tenant {tenant!r}) already has a stored "
            "decision: roll back and return the stored one"
        )


log = logging.getLogger("firekeeper.store")

# what a failed statement or an unreachable database raises: the transaction is lost
STORE_FAILURES: tuple[type[Exception], ...] = (sa.exc.SQLAlchemyError, StoreUnavailable)

if TYPE_CHECKING:
    from firekeeper.store.batch import BatchTx


def create_store(url: str, *, pool_size: int = 10, lock_timeout_ms: int = 30_000) -> Store:
    """A store on ``sqlite:///path/to/fk.db`` or ``postgresql+psycopg://user@host:5432/db``.

    Nothing connects until first use; call :meth:`Store.migrate` before serving.
    Raises ``ValueError`` for a URL of another kind.
    """
    return Store(make_engine(url, pool_size=pool_size, lock_timeout_ms=lock_timeout_ms))


def _now() -> datetime:
    return datetime.now(UTC)


def _chat_where(key: ChatKey) -> sa.ColumnElement[bool]:
    return sa.and_(
        chats.c.platform == key.platform.value,
        chats.c.tenant == key.tenant,
        chats.c.chat_id == key.chat_id,
    )


def _insert(conn: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that knows ON CONFLICT, in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


@functools.cache
def _member_upsert(dialect: str) -> sa.Executable:
    """INSERT .. ON CONFLICT DO UPDATE for members, built once per dialect.

    Values are passed as execution parameters, never embedded with ``.values()``,
    so SQLAlchemy compiles the statement once and reuses it.
    """
    stmt = postgresql.insert(members) if dialect == "postgresql" else sqlite.insert(members)
    keys = {"chat_pk", "user_id"}
    return stmt.on_conflict_do_update(
        index_elements=["chat_pk", "user_id"],
        set_={c.name: stmt.excluded[c.name] for c in members.c if c.name not in keys},
    )


@functools.cache
def _decision_insert(dialect: str) -> sa.Executable:
    stmt = postgresql.insert(decisions) if dialect == "postgresql" else sqlite.insert(decisions)
    return stmt.on_conflict_do_nothing(index_elements=["tenant", "platform", "event_id"]).returning(
        decisions.c.id
    )


_CHAT_UPDATE = sa.update(chats).where(chats.c.id == sa.bindparam("b_chat_pk"))


_CHAT_FOR_UPDATE = (
    sa.select(chats)
    .where(
        chats.c.platform == sa.bindparam("b_platform"),
        chats.c.tenant == sa.bindparam("b_tenant"),
        chats.c.chat_id == sa.bindparam("b_chat_id"),
    )
    .with_for_update()
)
_DECISION_BY_EVENT = sa.select(decisions.c.decision).where(
    decisions.c.tenant == sa.bindparam("b_tenant"),
    decisions.c.platform == sa.bindparam("b_platform"),
    decisions.c.event_id == sa.bindparam("b_event_id"),
)
_MEMBERS_BY_ID = sa.select(members).where(
    members.c.chat_pk == sa.bindparam("b_chat_pk"),
    any_of(members.c.user_id, "b_ids"),
)


def _lock_chat(conn: Connection, key: ChatKey) -> tuple[int, ChatRecord]:
    """Get or create the chat row and lock it until the transaction ends."""
    params = {"b_platform": key.platform.value, "b_tenant": key.tenant, "b_chat_id": key.chat_id}
    row = conn.execute(_CHAT_FOR_UPDATE, params).mappings().one_or_none()
    if row is None:
        values = chat_values(ChatRecord(key=key)) | {"updated_at": _now()}
        conn.execute(
            _insert(conn, chats)
            .values(values)
            .on_conflict_do_nothing(index_elements=["platform", "tenant", "chat_id"])
        )
        row = conn.execute(_CHAT_FOR_UPDATE, params).mappings().one()
    return int(row["id"]), chat_from_row(row)


def _write_chat(conn: Connection, chat_pk: int, chat: ChatRecord) -> None:
    conn.execute(_CHAT_UPDATE, chat_values(chat) | {"updated_at": _now(), "b_chat_pk": chat_pk})


def _select_decision(
    conn: Connection, tenant: str, platform: Platform, event_id: str
) -> Decision | None:
    stored = conn.execute(
        _DECISION_BY_EVENT,
        {"b_tenant": tenant, "b_platform": platform.value, "b_event_id": event_id},
    ).scalar_one_or_none()
    return None if stored is None else decision_from_json(stored, replayed=True)


class Pending(Protocol):
    """What a governance area keeps for one transaction (one per kind, made on first use
    from the connection and the primary keys of every chat the transaction locked): what
    it read for all those chats at once, and the writes it holds back. ``flush`` sends
    the writes; the transaction calls it before it commits (and the batch before an
    event whose areas read those tables)."""

    def flush(self, conn: Connection) -> None: ...


P = TypeVar("P", bound=Pending)


class Deferred(Protocol):
    """Where a chat's writes go when its ChatTx is part of a batch (``firekeeper.store.batch``):
    kept in memory and written for the whole batch at once."""

    def members(self, chat_pk: int, user_ids: list[str]) -> dict[str, MemberRecord]: ...

    def apply(self, chat_pk: int, changes: StateChanges) -> None: ...

    def save_decision(self, values: dict[str, Any]) -> None: ...

    def after_commit(self, callback: Callable[[], None]) -> None: ...

    def flush(self) -> None: ...

    def flush_members(self) -> None: ...

    def people(self) -> Collection[tuple[int, str]] | None: ...

    def pending(self, kind: Callable[[Connection, tuple[int, ...]], P]) -> P: ...


class ChatTx:
    """One locked chat in a transaction; valid only inside its ``with`` block.

    Alone (:meth:`Store.chat_transaction`) it writes at once; in a batch
    (:meth:`Store.batch_transaction`) its ``apply`` and ``save_decision`` are kept by
    the batch and written for all its chats at the end, and ``members`` reads what
    earlier events of the batch changed.
    """

    def __init__(
        self, conn: Connection, chat_pk: int, chat: ChatRecord, deferred: Deferred | None = None
    ) -> None:
        self.chat = chat  # the locked row as a snapshot; apply() replaces it
        self._conn: Connection | None = conn
        self._after_commit: list[Callable[[], None]] = []
        self._pk = chat_pk
        self._deferred = deferred
        self._pending: dict[object, Pending] = {}

    def _connection(self) -> Connection:
        if self._conn is None:
            raise RuntimeError("this ChatTx was used after its chat_transaction block ended")
        return self._conn

    def _end(self) -> None:
        self._conn = None

    def after_commit(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` once this transaction has committed (never if it rolls back).

        For effects outside the database, such as metrics, that must not count
        an event whose transaction is rolled back and then retried.
        """
        if self._deferred is not None:
            self._deferred.after_commit(callback)
        else:
            self._after_commit.append(callback)

    def pending(self, kind: Callable[[Connection, tuple[int, ...]], P]) -> P:
        """The transaction's ``kind`` (see :class:`Pending`), made on first use."""
        if self._deferred is not None:
            return self._deferred.pending(kind)
        found = self._pending.get(kind)
        if found is None:
            found = self._pending[kind] = kind(self._connection(), (self._pk,))
        return found  # type: ignore[return-value]  # made by kind, so a P

    def flush(self) -> None:
        """Write what this transaction holds back (in a batch: the chats, members and
        areas' rows of every chat), for a read that goes to those tables itself."""
        if self._deferred is not None:
            self._deferred.flush()
            return
        for kept in self._pending.values():
            kept.flush(self._connection())

    def flush_members(self) -> None:
        """Write the members changed so far (in a batch: of every chat; alone they are
        written at once), for a read that joins the ``members`` table."""
        if self._deferred is not None:
            self._deferred.flush_members()

    def batch_people(self) -> Collection[tuple[int, str]] | None:
        """In a batch, the (chat pk, user id) of every person its events name (actors,
        subjects, inviters), for an area that reads their rows once for the batch; None
        alone."""
        return None if self._deferred is None else self._deferred.people()

    @property
    def connection(self) -> Connection:
        """The transaction's connection, for governance areas that keep their own tables."""
        return self._connection()

    @property
    def chat_pk(self) -> int:
        """The locked chat's primary key (foreign key of area tables)."""
        return self._pk

    def stored_decision(self, tenant: str, platform: Platform, event_id: str) -> Decision | None:
        """The decision already stored for this event id, marked ``replayed=True``."""
        return _select_decision(self._connection(), tenant, platform, event_id)

    def members(self, user_ids: Iterable[str]) -> dict[str, MemberRecord]:
        """The members of this chat with these ids, by id; unknown ids are left out."""
        wanted = sorted(set(user_ids))
        if not wanted:
            return {}
        if self._deferred is not None:
            return self._deferred.members(self._pk, wanted)
        rows = self._connection().execute(_MEMBERS_BY_ID, {"b_chat_pk": self._pk, "b_ids": wanted})
        return {m.user_id: m for m in (member_from_row(r) for r in rows.mappings())}

    def apply(self, changes: StateChanges) -> None:
        """Write the chat snapshot and upsert the member snapshots."""
        if changes.chat.key != self.chat.key:
            raise ValueError(f"changes are for chat {changes.chat.key}, not {self.chat.key}")
        conn = self._connection()
        if self._deferred is not None:
            self._deferred.apply(self._pk, changes)
            self.chat = changes.chat
            return
        _write_chat(conn, self._pk, changes.chat)
        if changes.members:
            conn.execute(
                _member_upsert(conn.dialect.name),
                [member_values(m) | {"chat_pk": self._pk} for m in changes.members],
            )
        self.chat = changes.chat

    def save_decision(self, event: Event, decision: Decision) -> None:
        """Store the decision with its event; :class:`DuplicateEvent` if one is already stored."""
        env = event.envelope
        if decision.event_id != env.event_id:
            raise ValueError(f"decision is for event {decision.event_id!r}, not {env.event_id!r}")
        event_key = ChatKey(env.platform, env.tenant, env.chat_id)
        if event_key != self.chat.key:
            raise ValueError(f"event {env.event_id!r} is for chat {event_key}, not {self.chat.key}")
        conn = self._connection()
        values = decision_values(self._pk, event, decision)
        if self._deferred is not None:
            self._deferred.save_decision(values)
            return
        inserted = conn.execute(_decision_insert(conn.dialect.name), values).scalar_one_or_none()
        if inserted is None:
            raise DuplicateEvent(env.tenant, env.platform, env.event_id)


def decision_values(chat_pk: int, event: Event, decision: Decision) -> dict[str, Any]:
    """The decision log's row for ``decision`` on ``event``."""
    env = event.envelope
    return {
        "chat_pk": chat_pk,
        "tenant": env.tenant,
        "platform": env.platform.value,
        "event_id": env.event_id,
        "event_kind": event.kind.value,
        "actor_id": env.actor.id if env.actor is not None else "",
        "occurred_at": env.occurred_at,
        "decided_at": decision.decided_at,
        "ruleset": decision.ruleset,
        "ruleset_version": decision.ruleset_version,
        "decision": decision_to_json(decision),
        "event": event_to_json(event),
    }


class Store:
    """Chats, members and decisions in SQL. Thread-safe: share one per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _read(self, doing: str) -> Iterator[Connection]:
        with (
            unavailable_on_db_errors(self.engine, doing),
            self.engine.connect() as conn,
            conn.begin(),
        ):
            yield conn

    @contextmanager
    def _write(self, doing: str) -> Iterator[Connection]:
        with unavailable_on_db_errors(self.engine, doing), self.engine.connect() as conn:
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                yield conn

    def migrate(self) -> None:
        """Upgrade the schema to the newest migration; safe to call every start."""
        with unavailable_on_db_errors(self.engine, "migrate the schema"):
            run_migrations(self.engine)

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def ping(self) -> bool:
        """Whether the database answers (readiness)."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except sa.exc.SQLAlchemyError:
            return False
        return True

    @contextmanager
    def chat_transaction(self, key: ChatKey) -> Iterator[ChatTx]:
        """One transaction with the chat's row locked (created unregistered if new).

        Commits when the block exits normally and rolls back on an exception.
        Connectivity failures and lock timeouts become :class:`StoreUnavailable`.
        """
        with self._write(f"run a transaction on chat {key}") as conn:
            chat_pk, chat = _lock_chat(conn, key)
            tx = ChatTx(conn, chat_pk, chat)
            try:
                yield tx
                tx.flush()
            finally:
                tx._end()
        # Only reached once the transaction committed.
        for callback in tx._after_commit:
            try:
                callback()
            except Exception:
                log.exception("an after-commit callback failed", extra={"chat": str(key)})

    def batch_transaction(self, keys: Iterable[ChatKey]) -> AbstractContextManager[BatchTx]:
        """One transaction with the rows of every chat in ``keys`` locked in one statement
        (created unregistered if new), whose writes are sent for the whole batch at once:
        see ``firekeeper.store.batch``. Commits when the block exits normally, rolls back
        on an exception; connectivity failures and lock timeouts become
        :class:`StoreUnavailable`."""
        from firekeeper.store import batch

        return batch.transaction(self.engine, keys)

    def get_chat(self, key: ChatKey) -> ChatRecord | None:
        with self._read(f"read chat {key}") as conn:
            row = conn.execute(sa.select(chats).where(_chat_where(key))).mappings().one_or_none()
            return None if row is None else chat_from_row(row)

    def register_chat(self, reg: ChatRegistration) -> ChatRecord:
        """Create or update a chat's registration, in its own locked transaction.

        Ruleset, kind, theme and params are replaced; title, owner, created_at
        and member_count only when given (non-empty / not None). The chat is
        marked registered.
        """
        with self._write(f"register chat {reg.key}") as conn:
            chat_pk, current = _lock_chat(conn, reg.key)
            chat = replace(
                current,
                ruleset=reg.ruleset,
                kind=reg.kind,
                theme=reg.theme,
                params=tuple(sorted(reg.params.items())),
                title=reg.title or current.title,
                owner_id=reg.owner_id or current.owner_id,
                created_at=reg.created_at if reg.created_at is not None else current.created_at,
                member_count=(
                    reg.member_count if reg.member_count is not None else current.member_count
                ),
                registered=True,
                language=reg.language,
            )
            _write_chat(conn, chat_pk, chat)
            return chat

    def decisions_pruned_before(self) -> datetime | None:
        """How far the retention sweep may have pruned the decision log (None: never)."""
        with self._read("read the decision log's retention mark") as conn:
            before: datetime | None = conn.execute(
                sa.select(retention_marks.c.before).where(retention_marks.c.name == "decisions")
            ).scalar_one_or_none()
            return before

    def find_decision(self, tenant: str, platform: Platform, event_id: str) -> Decision | None:
        """The stored decision for an event id (``replayed=True``), read without any lock."""
        with self._read(f"look up event {event_id!r}") as conn:
            return _select_decision(conn, tenant, platform, event_id)

    def export_decisions(
        self,
        *,
        tenant: str | None = None,
        chat: ChatKey | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        batch_size: int = 500,
    ) -> Iterator[tuple[Event, Decision]]:
        """Stored (event, decision) pairs in decided order (``decided_at``, then insertion).

        Optionally only one tenant's, one chat's, or those decided in
        ``[since, until)``. Reads in pages of ``batch_size``, each in its own
        short transaction, so no connection is held between items.
        """
        for row in self._decision_rows(
            (decisions.c.event, decisions.c.decision),
            tenant=tenant,
            chat=chat,
            since=since,
            until=until,
            batch_size=batch_size,
        ):
            yield event_from_json(row.event), decision_from_json(row.decision)

    def _decision_rows(
        self,
        columns: tuple[sa.ColumnElement[Any], ...],
        *,
        tenant: str | None = None,
        chat: ChatKey | None = None,
        platforms: Iterable[str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        batch_size: int = 500,
    ) -> Iterator[sa.Row[Any]]:
        """The decision log's rows in decided order, ``columns`` of each, in pages of
        ``batch_size`` (keyset pagination on ``(decided_at, id)``)."""
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        d = decisions
        query = sa.select(d.c.id, d.c.decided_at, *columns)
        if tenant is not None:
            query = query.where(d.c.tenant == tenant)
        if chat is not None:
            chat_pk = sa.select(chats.c.id).where(_chat_where(chat)).scalar_subquery()
            query = query.where(d.c.chat_pk == chat_pk)
        if platforms is not None:
            query = query.where(d.c.platform.in_(sorted(platforms)))
        if since is not None:
            query = query.where(d.c.decided_at >= since)
        if until is not None:
            query = query.where(d.c.decided_at < until)
        query = query.order_by(d.c.decided_at, d.c.id).limit(batch_size)
        after: tuple[datetime, int] | None = None
        while True:
            page = query
            if after is not None:
                page = query.where(
                    sa.or_(
                        d.c.decided_at > after[0],
                        sa.and_(d.c.decided_at == after[0], d.c.id > after[1]),
                    )
                )
            with self._read("export decisions") as conn:
                rows = conn.execute(page).all()
            yield from rows
            if len(rows) < batch_size:
                return
            after = (rows[-1].decided_at, rows[-1].id)

    def decisions_between(
        self,
        since: datetime,
        until: datetime,
        *,
        tenant: str | None = None,
        platforms: Iterable[str] | None = None,
    ) -> Iterator[Decision]:
        """The stored decisions decided in ``[since, until)``, of one tenant (None: all) and
        of ``platforms`` (None: all), in decided order: ``export_decisions`` without the
        events, which the console's per-rule counts do not read (half the time of a page)."""
        for row in self._decision_rows(
            (decisions.c.decision,),
            tenant=tenant,
            platforms=platforms,
            since=since,
            until=until,
        ):
            yield decision_from_json(row.decision)

    def recent_decisions(self, chat: ChatKey, *, limit: int = 50) -> list[tuple[Event, Decision]]:
        """One chat's latest stored (event, decision) pairs, newest first (the console's
        view of a chat; ``export_decisions`` reads the same rows oldest first)."""
        if not 1 <= limit <= 1000:
            raise ValueError(f"limit must be 1..1000, not {limit}")
        d = decisions
        chat_pk = sa.select(chats.c.id).where(_chat_where(chat)).scalar_subquery()
        query = (
            sa.select(d.c.event, d.c.decision)
            .where(d.c.chat_pk == chat_pk)
            .order_by(d.c.decided_at.desc(), d.c.id.desc())
            .limit(limit)
        )
        with self._read(f"read the latest decisions of chat {chat}") as conn:
            rows = conn.execute(query).all()
        return [(event_from_json(r.event), decision_from_json(r.decision)) for r in rows]
