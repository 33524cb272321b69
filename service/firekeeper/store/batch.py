"""One transaction for a batch of events: its chats locked at once, its writes sent at once.

    with store.batch_transaction(keys) as batch:   # every chat of the batch locked
        done = batch.stored_decisions(ids)         # one statement for the batch
        batch.preload_members(pairs)               # one statement for the batch
        tx = batch.chat(key)                       # a ChatTx whose writes the batch keeps
        ...                                        # areas read and write on tx.connection
        batch.flush()                              # chats and members written so far
    # on exit: chats, members, then the decisions, each one multi-row statement; commit

Locking: PostgreSQL ``SELECT ... ORDER BY platform, tenant, chat_id FOR UPDATE OF chats``
on every chat of the batch in one statement (the keys bound as three arrays), so two
batches sharing chats take their locks in the same order and never deadlock. A chat
seen for the first time is created in a short transaction of its own (``INSERT ... ON
CONFLICT DO NOTHING``) after the locks taken so far are released, and the locking
starts again: creating a row while holding other rows' locks could deadlock with a
replica doing the same.
SQLite: ``BEGIN IMMEDIATE`` takes the database's one write lock; new chats are
inserted in the same transaction.

The chats' and members' rows changed by an event stay in memory until
:meth:`BatchTx.flush` or the end of the batch; a later event of the same chat
reads them from memory (``ChatTx.chat``, ``ChatTx.members``). So do the areas'
rows they keep in a ``Pending`` (``ChatTx.pending``). A governance area whose
load reads the ``chats`` or ``members`` tables itself calls ``ChatTx.flush``
first.

A stored decision for an id the batch writes (a replica decided the same event
for another chat key in the meantime) raises :class:`DuplicateEvent` at the end,
and the whole batch rolls back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection, Engine

from firekeeper.domain.chats import ChatKey, ChatRecord, MemberRecord, StateChanges
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Platform
from firekeeper.store.codec import decision_from_json
from firekeeper.store.db import SQLITE_BEGIN, unavailable_on_db_errors
from firekeeper.store.keysets import any_of
from firekeeper.store.models import (
    chat_event_values,
    chat_from_row,
    chat_values,
    chats,
    decisions,
    member_from_row,
    member_values,
    members,
    same_registration,
)
from firekeeper.store.repository import (
    ChatTx,
    DuplicateEvent,
    P,
    Pending,
    _member_upsert,
    log,
)

EventKey = tuple[str, Platform, str]  # tenant, platform, event id

# Sets of keys are asked column by column (``a IN (..) AND b IN (..)``) and the rows
# that are not wanted are left out in Python: SQLite scans the whole table for a
# row-value ``(a, b) IN (VALUES ..)`` but searches its index for each column's list
# (tests/store/test_query_plans.py). The lock asks PostgreSQL for exactly its rows
# with a row-value IN over the keys given as three arrays, zipped by unnest (its
# index takes each key; one statement text for any batch), so no other chat's row
# is locked.
_KEY_COLUMNS = (chats.c.platform, chats.c.tenant, chats.c.chat_id)
_KEY_PARAMS = ("b_platforms", "b_tenants", "b_chat_ids")
_LOCKED_KEYS = sa.select(
    *(
        sa.func.unnest(sa.bindparam(name, type_=ARRAY(column.type))).label(column.name)
        for name, column in zip(_KEY_PARAMS, _KEY_COLUMNS, strict=True)
    )
).subquery("k")
_CHATS_FOR_UPDATE = (
    sa.select(chats)
    .where(sa.tuple_(*_KEY_COLUMNS).in_(sa.select(*_LOCKED_KEYS.c)))
    .order_by(*_KEY_COLUMNS)
    .with_for_update(of=chats)
)
_CHATS_OF = sa.select(chats).where(
    any_of(chats.c.platform, "b_platforms"),
    any_of(chats.c.tenant, "b_tenants"),
    any_of(chats.c.chat_id, "b_chat_ids"),
)
_MEMBERS_OF = sa.select(members).where(
    any_of(members.c.chat_pk, "b_pks"),
    any_of(members.c.user_id, "b_ids"),
)
_DECISIONS_OF = sa.select(
    decisions.c.tenant, decisions.c.platform, decisions.c.event_id, decisions.c.decision
).where(
    any_of(decisions.c.tenant, "b_tenants"),
    any_of(decisions.c.platform, "b_platforms"),
    any_of(decisions.c.event_id, "b_event_ids"),
)


def _columns(rows: Iterable[tuple[Any, ...]], *names: str) -> dict[str, list[Any]]:
    """``{name: sorted distinct values}`` of each position of ``rows``."""
    listed = list(rows)
    return {name: sorted({r[i] for r in listed}) for i, name in enumerate(names)}


_CHAT_UPDATE = sa.update(chats).where(chats.c.id == sa.bindparam("b_chat_pk"))


@functools.cache
def _chat_insert(dialect: str) -> sa.Executable:
    stmt = postgresql.insert(chats) if dialect == "postgresql" else sqlite.insert(chats)
    return stmt.on_conflict_do_nothing(index_elements=["platform", "tenant", "chat_id"])


@functools.cache
def _decisions_insert(dialect: str) -> sa.Executable:
    """Many decisions in one INSERT (SQLAlchemy's insertmanyvalues), returning the ids of
    those written: one already stored is skipped, not an error."""
    stmt = postgresql.insert(decisions) if dialect == "postgresql" else sqlite.insert(decisions)
    return stmt.on_conflict_do_nothing(index_elements=["tenant", "platform", "event_id"]).returning(
        decisions.c.tenant, decisions.c.platform, decisions.c.event_id
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _row_key(key: ChatKey) -> tuple[str, str, str]:
    return (key.platform.value, key.tenant, key.chat_id)


def _lock(conn: Connection, keys: Sequence[ChatKey]) -> dict[ChatKey, tuple[int, ChatRecord]]:
    """Lock the rows of the chats ``keys`` that exist (one statement), by key."""
    wanted = [_row_key(k) for k in keys]
    asked = set(keys)
    if conn.dialect.name == "postgresql":
        params = {name: [k[i] for k in wanted] for i, name in enumerate(_KEY_PARAMS)}
        rows = conn.execute(_CHATS_FOR_UPDATE, params)
    else:  # the one writer holds the database: reading the rows is enough
        params = _columns(wanted, "b_platforms", "b_tenants", "b_chat_ids")
        rows = conn.execute(_CHATS_OF, params)
    out = {}
    for row in rows.mappings():
        chat = chat_from_row(row)
        if chat.key in asked:  # a set: a list's test compared every key with every row
            out[chat.key] = (int(row["id"]), chat)
    return out


def _create(conn: Connection, keys: Iterable[ChatKey]) -> None:
    now = _now()
    conn.execute(
        _chat_insert(conn.dialect.name),
        [chat_values(ChatRecord(key=k)) | {"updated_at": now} for k in keys],
    )


class BatchTx:
    """One batch's transaction over its locked chats; valid only inside its ``with`` block."""

    def __init__(self, conn: Connection, locked: dict[ChatKey, tuple[int, ChatRecord]]) -> None:
        self._conn = conn
        self._chats = {key: ChatTx(conn, pk, chat, self) for key, (pk, chat) in locked.items()}
        self._members: dict[tuple[int, str], MemberRecord | None] = {}
        self._dirty_chats: dict[int, ChatRecord] = {}
        self._stored_chats = {pk: chat for pk, chat in locked.values()}  # as in the database
        self._dirty_members: dict[tuple[int, str], MemberRecord] = {}
        self._decisions: list[dict[str, Any]] = []
        self._pending: dict[object, Pending] = {}
        self._people: set[tuple[int, str]] | None = None  # those preload_members was given
        self._pks = tuple(sorted(pk for pk, _ in locked.values()))
        self.callbacks: list[Callable[[], None]] = []

    def chat(self, key: ChatKey) -> ChatTx:
        """The locked chat ``key`` (one of the keys the batch was opened with)."""
        return self._chats[key]

    def stored_decisions(self, ids: Iterable[EventKey]) -> dict[EventKey, Decision]:
        """The decisions already stored for these event ids (``replayed=True``), one query."""
        wanted = {(t, p.value, e) for t, p, e in ids}
        if not wanted:
            return {}
        params = _columns(wanted, "b_tenants", "b_platforms", "b_event_ids")
        return {
            (r.tenant, Platform(r.platform), r.event_id): decision_from_json(
                r.decision, replayed=True
            )
            for r in self._conn.execute(_DECISIONS_OF, params)
            if (r.tenant, r.platform, r.event_id) in wanted
        }

    def preload_members(self, wanted: Iterable[tuple[ChatKey, str]]) -> None:
        """Read these members of the batch's chats in one query (absent ones remembered)."""
        pairs = sorted({(self._chats[key].chat_pk, uid) for key, uid in wanted})
        self._people = {*(self._people or ()), *pairs}
        pairs = [p for p in pairs if p not in self._members]
        if not pairs:
            return
        self._read_members(pairs)

    def _read_members(self, pairs: list[tuple[int, str]]) -> None:
        self._members.update(dict.fromkeys(pairs))
        params = _columns(pairs, "b_pks", "b_ids")
        for row in self._conn.execute(_MEMBERS_OF, params).mappings():
            key = (int(row["chat_pk"]), row["user_id"])
            # only the pairs asked for and not known yet (the lists' cross product
            # may return others; one this batch changed is newer in memory)
            if key in self._members and self._members[key] is None:
                self._members[key] = member_from_row(row)

    # ------------------------------------------------ ChatTx's deferred side
    def members(self, chat_pk: int, user_ids: list[str]) -> dict[str, MemberRecord]:
        missing = [(chat_pk, u) for u in user_ids if (chat_pk, u) not in self._members]
        if missing:  # not preloaded: read now (the rest of the batch reads them from memory)
            self._read_members(missing)
        found = ((u, self._members[(chat_pk, u)]) for u in user_ids)
        return {u: m for u, m in found if m is not None}

    def people(self) -> set[tuple[int, str]] | None:
        return self._people

    def apply(self, chat_pk: int, changes: StateChanges) -> None:
        self._dirty_chats[chat_pk] = changes.chat
        for m in changes.members:
            self._members[(chat_pk, m.user_id)] = m
            self._dirty_members[(chat_pk, m.user_id)] = m

    def save_decision(self, values: dict[str, Any]) -> None:
        self._decisions.append(values)

    def after_commit(self, callback: Callable[[], None]) -> None:
        self.callbacks.append(callback)

    def pending(self, kind: Callable[[Connection, tuple[int, ...]], P]) -> P:
        found = self._pending.get(kind)
        if found is None:
            found = self._pending[kind] = kind(self._conn, self._pks)
        return found  # type: ignore[return-value]  # made by kind, so a P

    def end(self) -> None:
        for tx in self._chats.values():
            tx._end()

    # ------------------------------------------------ writes
    def flush(self) -> None:
        """Write the chats and members changed so far (one statement each), then what the
        areas held back (``ChatTx.pending``)."""
        conn = self._conn
        if self._dirty_chats:
            now = _now()
            # the columns an event changes; every column of a chat whose others changed
            # (none does today: registration is not an event)
            narrow, whole = [], []
            for pk, chat in self._dirty_chats.items():
                if same_registration(chat, self._stored_chats[pk]):
                    narrow.append(chat_event_values(chat) | {"updated_at": now, "b_chat_pk": pk})
                else:
                    whole.append(chat_values(chat) | {"updated_at": now, "b_chat_pk": pk})
                self._stored_chats[pk] = chat
            for rows in (narrow, whole):
                if rows:
                    conn.execute(_CHAT_UPDATE, rows)
            self._dirty_chats.clear()
        self.flush_members()
        for kept in self._pending.values():
            kept.flush(conn)

    def flush_members(self) -> None:
        """Write the members changed so far (one statement)."""
        if self._dirty_members:
            conn = self._conn
            conn.execute(
                _member_upsert(conn.dialect.name),
                [member_values(m) | {"chat_pk": pk} for (pk, _), m in self._dirty_members.items()],
            )
            self._dirty_members.clear()

    def finish(self) -> None:
        """Flush, then store the decisions in one multi-row insert (:class:`DuplicateEvent`
        when one of them is already stored)."""
        self.flush()
        if not self._decisions:
            return
        conn = self._conn
        inserted = conn.execute(_decisions_insert(conn.dialect.name), self._decisions).all()
        if len(inserted) != len(self._decisions):
            written = {(r.tenant, r.platform, r.event_id) for r in inserted}
            tenant, platform, event_id = next(
                k
                for k in ((d["tenant"], d["platform"], d["event_id"]) for d in self._decisions)
                if k not in written
            )
            raise DuplicateEvent(tenant, Platform(platform), event_id)


@contextmanager
def transaction(engine: Engine, keys: Iterable[ChatKey]) -> Iterator[BatchTx]:
    """See the module's docstring; ``Store.batch_transaction`` is the entry point."""
    wanted = sorted(set(keys), key=_row_key)
    doing = f"run a transaction on {len(wanted)} chats"
    with unavailable_on_db_errors(engine, doing), engine.connect() as conn:
        conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        while True:
            trans = conn.begin()
            locked = _lock(conn, wanted)
            missing = [k for k in wanted if k not in locked]
            if not missing:
                break
            if conn.dialect.name != "postgresql":  # the one writer: create them here
                _create(conn, missing)
                locked |= _lock(conn, missing)
                break
            trans.rollback()  # release the locks before creating rows
            with conn.begin():
                _create(conn, missing)
        batch = BatchTx(conn, locked)
        with trans:
            try:
                yield batch
                batch.finish()
            finally:
                batch.end()
    # Only reached once the transaction committed.
    for callback in batch.callbacks:
        try:
            callback()
        except Exception:
            log.exception("an after-commit callback failed", extra={"chats": len(wanted)})
