"""The durable outbox: actions no incoming event asked for, waiting for adapters.

Life of an item (docs/lifecycle.md has the adapter's side):

    enqueue (in the tick's transaction)  -> pending
    claim by a stream                     -> leased to that stream, attempts + 1
    ack                                   -> done, never sent again
    stream ends (release)                 -> pending again, at once
    stream's process dies                 -> pending again when the lease expires

A live stream renews the leases of what it has sent, so two streams of one
tenant (two adapter replicas) never get the same item at the same time, and an
item is redelivered only after its stream is gone. On PostgreSQL claims use
``FOR UPDATE SKIP LOCKED``; on SQLite write transactions are serialized.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from firekeeper.areas.lifecycle.queries import outbox
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import Action
from firekeeper.domain.events import Platform
from firekeeper.domain.outbox import OutboxItem
from firekeeper.store.codec import action_from_json, action_to_json
from firekeeper.store.db import SQLITE_BEGIN, unavailable_on_db_errors


def enqueue(
    conn: Connection,
    chat_pk: int,
    key: ChatKey,
    event_id: str,
    actions: Sequence[Action],
    created_at: datetime,
) -> None:
    """Add a decision's actions, in order, inside the decision's transaction."""
    if not actions:
        return
    conn.execute(
        sa.insert(outbox),
        [
            {
                "chat_pk": chat_pk,
                "platform": key.platform.value,
                "tenant": key.tenant,
                "chat_id": key.chat_id,
                "event_id": event_id,
                "position": i,
                "action": action_to_json(a),
                "created_at": created_at,
                "attempts": 0,
            }
            for i, a in enumerate(actions)
        ],
    )


def _item(row: Any) -> OutboxItem:
    return OutboxItem(
        id=str(row.id),
        key=ChatKey(Platform(row.platform), row.tenant, row.chat_id),
        event_id=row.event_id,
        action=action_from_json(row.action),
        created_at=row.created_at,
        attempt=int(row.attempts),
    )


class Outbox:
    """Outbox operations, each in its own short transaction. Thread-safe."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @contextmanager
    def _write(self, doing: str) -> Iterator[Connection]:
        with unavailable_on_db_errors(self._engine, doing), self._engine.connect() as conn:
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                yield conn

    def claim(
        self,
        platform: Platform,
        tenant: str,
        owner: str,
        *,
        now: datetime,
        lease_seconds: float,
        limit: int = 100,
        chat_ids: Sequence[str] = (),
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` pending items (oldest first) to the stream ``owner``."""
        o = outbox
        free = sa.or_(o.c.lease_owner.is_(None), o.c.lease_expires_at < now)
        pick = (
            sa.select(o.c.id)
            .where(
                o.c.platform == platform.value, o.c.tenant == tenant, o.c.acked_at.is_(None), free
            )
            .order_by(o.c.id)
            .limit(limit)
        )
        if chat_ids:
            pick = pick.where(o.c.chat_id.in_(list(chat_ids)))
        with self._write("claim outbox items") as conn:
            if conn.dialect.name == "postgresql":
                pick = pick.with_for_update(skip_locked=True)
            ids = [row[0] for row in conn.execute(pick)]
            if not ids:
                return []
            conn.execute(
                sa.update(o)
                .where(o.c.id.in_(ids))
                .values(
                    lease_owner=owner,
                    lease_expires_at=now + timedelta(seconds=lease_seconds),
                    delivered_at=now,
                    attempts=o.c.attempts + 1,
                )
            )
            rows = conn.execute(sa.select(o).where(o.c.id.in_(ids)).order_by(o.c.id)).all()
        return [_item(r) for r in rows]

    def renew(self, owner: str, *, now: datetime, lease_seconds: float) -> int:
        """Extend the leases of the unacknowledged items ``owner`` holds."""
        o = outbox
        with self._write("renew outbox leases") as conn:
            result = conn.execute(
                sa.update(o)
                .where(o.c.lease_owner == owner, o.c.acked_at.is_(None))
                .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
            )
        return int(result.rowcount)

    def release(self, owner: str) -> int:
        """Make what ``owner`` holds and has not acknowledged pending again (stream ended)."""
        o = outbox
        with self._write("release outbox leases") as conn:
            result = conn.execute(
                sa.update(o)
                .where(o.c.lease_owner == owner, o.c.acked_at.is_(None))
                .values(lease_owner=None, lease_expires_at=None)
            )
        return int(result.rowcount)

    def ack(self, platform: Platform, tenant: str, ids: Sequence[int], *, now: datetime) -> int:
        """Mark items done; unknown, foreign or already acknowledged ids are ignored."""
        if not ids:
            return 0
        o = outbox
        with self._write("acknowledge outbox items") as conn:
            result = conn.execute(
                sa.update(o)
                .where(
                    o.c.id.in_(list(ids)),
                    o.c.platform == platform.value,
                    o.c.tenant == tenant,
                    o.c.acked_at.is_(None),
                )
                .values(acked_at=now, lease_owner=None, lease_expires_at=None)
            )
        return int(result.rowcount)

    def pending(self) -> int:
        """Items not yet acknowledged, over every tenant (for the gauge)."""
        with (
            unavailable_on_db_errors(self._engine, "count pending outbox items"),
            self._engine.connect() as conn,
        ):
            count = conn.execute(
                sa.select(sa.func.count()).where(outbox.c.acked_at.is_(None))
            ).scalar_one()
        return int(count)
