"""Lifecycle area: topic windows, activity by day, flood windows, outbox, scheduler runs.

Revision ID: 0003_lifecycle
Revises: 0001
Create Date: 2025-01-20

Self-contained on purpose (no imports from ``firekeeper.store``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_lifecycle"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_COUNTERS = (
    "messages",
    "on_topic",
    "off_topic",
    "joins",
    "leaves",
    "theme_expansions",
    "notices_flagged",
)


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _chat_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["chat_pk"], ["chats.id"], name=f"fk_{table}_chat_pk_chats", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "chat_activity",
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("topic_window", sa.String(32), nullable=False),
        sa.Column("off_topic_streak", sa.Integer(), nullable=False),
        sa.Column("nudged_this_streak", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", _time(), nullable=False),
        sa.Column("last_human_message_at", _time(), nullable=True),
        sa.Column("last_owner_message_at", _time(), nullable=True),
        sa.Column("last_admin_message_at", _time(), nullable=True),
        sa.Column("last_reminder_at", _time(), nullable=True),
        sa.Column("health_status", sa.String(16), nullable=False),
        sa.Column("health_at", _time(), nullable=True),
        _chat_fk("chat_activity"),
        sa.PrimaryKeyConstraint("chat_pk", name="pk_chat_activity"),
    )
    op.create_index("ix_chat_activity_health_status", "chat_activity", ["health_status"])
    op.create_table(
        "activity_days",
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTERS),
        _chat_fk("activity_days"),
        sa.PrimaryKeyConstraint("chat_pk", "day", name="pk_activity_days"),
    )
    op.create_table(
        "poster_days",
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        _chat_fk("poster_days"),
        sa.PrimaryKeyConstraint("chat_pk", "day", "user_id", name="pk_poster_days"),
    )
    op.create_table(
        "recent_messages",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("text_key", sa.String(32), nullable=False),
        sa.Column("mentions", sa.Integer(), nullable=False),
        _chat_fk("recent_messages"),
        sa.PrimaryKeyConstraint("id", name="pk_recent_messages"),
    )
    op.create_index("ix_recent_messages_chat_pk_at", "recent_messages", ["chat_pk", "at"])
    op.create_index(
        "ix_recent_messages_chat_pk_user_id_at", "recent_messages", ["chat_pk", "user_id", "at"]
    )
    op.create_table(
        "outbox",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("chat_id", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("action", _JSON, nullable=False),
        sa.Column("created_at", _time(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivered_at", _time(), nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", _time(), nullable=True),
        sa.Column("acked_at", _time(), nullable=True),
        _chat_fk("outbox"),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint(
            "tenant",
            "platform",
            "event_id",
            "position",
            name="uq_outbox_tenant_platform_event_id_position",
        ),
    )
    op.create_index(
        "ix_outbox_platform_tenant_acked_at_id", "outbox", ["platform", "tenant", "acked_at", "id"]
    )
    op.create_table(
        "scheduler_runs",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("period_seconds", sa.Integer(), nullable=False),
        sa.Column("period_index", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", _time(), nullable=False),
        sa.Column("chats", sa.Integer(), nullable=False),
        sa.Column("leader", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_scheduler_runs"),
    )


def downgrade() -> None:
    op.drop_table("scheduler_runs")
    op.drop_table("outbox")
    op.drop_table("recent_messages")
    op.drop_table("poster_days")
    op.drop_table("activity_days")
    op.drop_table("chat_activity")
