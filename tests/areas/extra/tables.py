"""The extra area's one table, and what the retention sweep prunes of it.

On a metadata of its own: the service's tables come with migrations, and a table put
on the store's metadata here would be one the migrations lack (tests/store/test_schema.py).
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from firekeeper.store.retention import BEFORE, Policy, by_id

metadata = sa.MetaData()

seen = sa.Table(
    "extra_seen",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("chat_pk", sa.Integer, nullable=False),
    sa.Column("event_id", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("before", sa.Integer, nullable=False),  # what the fact said: messages before it
    sa.Index("ix_extra_seen_at", "at"),
)

KEEP = timedelta(days=1)
RETENTION: tuple[Policy, ...] = (
    by_id(seen, KEEP, seen.c.at < BEFORE, "ix_extra_seen_at", seen.c.at),
)
