"""The review queue, the tenant blocklist and chat screening settings, as admins manage them.

Chat-scoped writes (resolving a held join, setting a chat's settings) run in
``Store.chat_transaction`` so they take the same row lock events take; the
tenant-wide blocklist and the listings run in short transactions of their own.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from firekeeper.areas.screening.queries import pending_total
from firekeeper.areas.screening.tables import blocklist, held, settings
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.domain.screening import (
    BlockEntry,
    BlockKind,
    BlockPage,
    HeldJoin,
    HeldPage,
    HeldStatus,
)
from firekeeper.store import Store
from firekeeper.store.db import SQLITE_BEGIN, unavailable_on_db_errors
from firekeeper.store.models import chats


@contextmanager
def transaction(store: Store, doing: str, *, write: bool) -> Iterator[Connection]:
    with unavailable_on_db_errors(store.engine, doing), store.engine.connect() as conn:
        if write:
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        with conn.begin():
            yield conn


def _insert(conn: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


# -- the review queue ----------------------------------------------------------------------------


def _held(row: RowMapping) -> HeldJoin:
    return HeldJoin(
        id=int(row["id"]),
        chat=ChatKey(Platform(row["platform"]), row["tenant"], row["chat_id"]),
        user_id=row["user_id"],
        display_name=row["display_name"],
        inviter_id=row["inviter_id"],
        event_id=row["event_id"],
        event_kind=row["event_kind"],
        rule_id=row["rule_id"],
        reason=row["reason"],
        held_at=row["held_at"],
        status=HeldStatus(row["status"]),
        resolved_at=row["resolved_at"],
        resolved_by=row["resolved_by"],
        note=row["note"],
    )


def _held_query() -> sa.Select[tuple[object, ...]]:
    return sa.select(held, chats.c.platform, chats.c.tenant, chats.c.chat_id).join(
        chats, chats.c.id == held.c.chat_pk
    )


def list_held(
    conn: Connection,
    tenant: str,
    *,
    platform: Platform | None = None,
    chat_id: str = "",
    statuses: Sequence[HeldStatus] = (HeldStatus.PENDING,),
    limit: int = 100,
    after: int = 0,
) -> HeldPage:
    """Held joins of a tenant (optionally one platform, one chat), oldest first, by id."""
    query = _held_query().where(
        chats.c.tenant == tenant,
        held.c.status.in_([s.value for s in statuses]),
        held.c.id > after,
    )
    if platform is not None:
        query = query.where(chats.c.platform == platform.value)
    if chat_id:
        query = query.where(chats.c.chat_id == chat_id)
    rows = conn.execute(query.order_by(held.c.id).limit(limit + 1)).mappings().all()
    items = tuple(_held(r) for r in rows[:limit])
    return HeldPage(items, items[-1].id if len(rows) > limit else 0)


def get_held(conn: Connection, chat_pk: int, user_id: str) -> HeldJoin | None:
    row = (
        conn.execute(_held_query().where(held.c.chat_pk == chat_pk, held.c.user_id == user_id))
        .mappings()
        .one_or_none()
    )
    return None if row is None else _held(row)


def set_status(
    conn: Connection, held_id: int, status: HeldStatus, at: datetime, by: str, note: str
) -> None:
    conn.execute(
        sa.update(held)
        .where(held.c.id == held_id)
        .values(status=status.value, resolved_at=at, resolved_by=by, note=note)
    )


def queue_depth(store: Store) -> int:
    with transaction(store, "count the review queue", write=False) as conn:
        return pending_total(conn)


# -- the blocklist -------------------------------------------------------------------------------


def _platform_text(entry: BlockEntry) -> str:
    return entry.platform.value if entry.kind == BlockKind.USER and entry.platform else ""


def add_entries(conn: Connection, tenant: str, entries: Sequence[BlockEntry], at: datetime) -> int:
    added = 0
    for e in entries:
        inserted = conn.execute(
            _insert(conn, blocklist)
            .values(
                tenant=tenant,
                kind=e.kind.value,
                platform=_platform_text(e),
                value=e.value,
                note=e.note,
                added_by=e.added_by,
                added_at=at,
            )
            .on_conflict_do_nothing(index_elements=["tenant", "kind", "platform", "value"])
            .returning(blocklist.c.id)
        ).scalar_one_or_none()
        added += inserted is not None
    return added


def remove_entries(conn: Connection, tenant: str, entries: Sequence[BlockEntry]) -> int:
    removed = 0
    for e in entries:
        result = conn.execute(
            sa.delete(blocklist).where(
                blocklist.c.tenant == tenant,
                blocklist.c.kind == e.kind.value,
                blocklist.c.platform == _platform_text(e),
                blocklist.c.value == e.value,
            )
        )
        removed += result.rowcount or 0
    return removed


def list_entries(
    conn: Connection,
    tenant: str,
    *,
    kind: BlockKind | None = None,
    limit: int = 100,
    after: int = 0,
) -> BlockPage:
    query = sa.select(blocklist).where(blocklist.c.tenant == tenant, blocklist.c.id > after)
    if kind is not None:
        query = query.where(blocklist.c.kind == kind.value)
    rows = conn.execute(query.order_by(blocklist.c.id).limit(limit + 1)).mappings().all()
    items = tuple(
        BlockEntry(
            kind=BlockKind(r["kind"]),
            value=r["value"],
            platform=Platform(r["platform"]) if r["platform"] else None,
            note=r["note"],
            added_by=r["added_by"],
            added_at=r["added_at"],
        )
        for r in rows[:limit]
    )
    next_after = int(rows[limit - 1]["id"]) if len(rows) > limit else 0
    return BlockPage(items, next_after)


# -- chat settings -------------------------------------------------------------------------------


def save_settings(
    conn: Connection,
    chat_pk: int,
    allowed_domains: Sequence[str],
    entry_patterns: Sequence[str],
    at: datetime,
) -> None:
    values = {
        "allowed_domains": list(allowed_domains),
        "entry_patterns": list(entry_patterns),
        "updated_at": at,
    }
    conn.execute(
        _insert(conn, settings)
        .values(chat_pk=chat_pk, **values)
        .on_conflict_do_update(index_elements=["chat_pk"], set_=values)
    )


def settings_of(
    conn: Connection, key: ChatKey
) -> tuple[bool, tuple[str, ...], tuple[str, ...], datetime | None]:
    """(chat known, allowed domains, entry patterns, updated at)."""
    row = conn.execute(
        sa.select(
            chats.c.id, settings.c.allowed_domains, settings.c.entry_patterns, settings.c.updated_at
        )
        .select_from(chats.outerjoin(settings, settings.c.chat_pk == chats.c.id))
        .where(
            chats.c.platform == key.platform.value,
            chats.c.tenant == key.tenant,
            chats.c.chat_id == key.chat_id,
        )
    ).one_or_none()
    if row is None:
        return False, (), (), None
    domains = tuple(str(d) for d in row.allowed_domains or ())
    patterns = tuple(str(p) for p in row.entry_patterns or ())
    return True, domains, patterns, row.updated_at
