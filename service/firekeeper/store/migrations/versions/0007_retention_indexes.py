"""Indexes for the hot queries and the retention sweep.

Revision ID: 0007_retention_indexes
Revises: 0004_merge_areas

- ``screening_held (chat_pk, status)``: a chat's pending count, read on every
  join (it used ``(status, id)`` and walked every pending hold of every chat);
- ``outbox (chat_pk, acked_at)``: a chat's tick prunes its acknowledged items
  (it scanned the whole outbox);
- the retention sweep's time indexes: ``screening_invites (outcome,
  outcome_at)``, ``screening_held (status, resolved_at)``, ``screening_joins
  (at)``, ``promo_strikes (at)``, ``promo_questions (asked_at)``; the decision
  log's sweep uses the existing ``decisions (decided_at, id)``.

Self-contained on purpose (no imports from ``firekeeper.store``).
"""

from __future__ import annotations

from alembic import op

revision = "0007_retention_indexes"
down_revision = "0004_merge_areas"
branch_labels = None
depends_on = None

_INDEXES = (
    ("screening_held", ("chat_pk", "status")),
    ("screening_held", ("status", "resolved_at")),
    ("outbox", ("chat_pk", "acked_at")),
    ("screening_invites", ("outcome", "outcome_at")),
    ("screening_joins", ("at",)),
    ("promo_strikes", ("at",)),
    ("promo_questions", ("asked_at",)),
)


def _name(table: str, columns: tuple[str, ...]) -> str:
    return f"ix_{table}_{'_'.join(columns)}"


def upgrade() -> None:
    for table, columns in _INDEXES:
        op.create_index(_name(table, columns), table, list(columns))


def downgrade() -> None:
    for table, columns in reversed(_INDEXES):
        op.drop_index(_name(table, columns), table_name=table)
