"""Admins' corrections of decisions, and the per-rule action tally they are counted against.

Revision ID: 0010_corrections_tables
Revises: 0009_retention_mark

Self-contained on purpose (no imports from ``firekeeper.store``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010_corrections_tables"
down_revision = "0009_retention_mark"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "corrections",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("chat_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("ruleset", sa.Text(), nullable=False),
        sa.Column("rule_ids", _JSON, nullable=False),
        sa.Column("label", sa.String(8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("lang", sa.String(35), nullable=False),
        sa.Column("reporter_id", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("reported_at", _time(), nullable=False),
        sa.Column("decided_at", _time(), nullable=True),
        sa.Column("counted_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_corrections"),
        sa.UniqueConstraint(
            "tenant",
            "platform",
            "kind",
            "dedupe_key",
            name="uq_corrections_tenant_platform_kind_dedupe_key",
        ),
    )
    op.create_index("ix_corrections_tenant_id", "corrections", ["tenant", "id"])
    op.create_index("ix_corrections_tenant_counted_at", "corrections", ["tenant", "counted_at"])
    op.create_table(
        "rule_action_counts",
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("day", _time(), nullable=False),
        sa.Column("ruleset", sa.Text(), nullable=False),
        sa.Column("rule_id", sa.Text(), nullable=False),
        sa.Column("actions", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_pk"],
            ["chats.id"],
            name="fk_rule_action_counts_chat_pk_chats",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "chat_pk", "day", "ruleset", "rule_id", name="pk_rule_action_counts"
        ),
    )
    op.create_index("ix_rule_action_counts_day", "rule_action_counts", ["day"])


def downgrade() -> None:
    op.drop_table("rule_action_counts")
    op.drop_table("corrections")
