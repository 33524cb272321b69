"""Initial schema: chats, members, decisions.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Self-contained on purpose (no imports from ``firekeeper.store.models``): a
migration must keep building the schema it built when it was written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("chat_id", sa.Text(), nullable=False),
        sa.Column("ruleset", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("theme", _JSON, nullable=False),
        sa.Column("created_at", _time(), nullable=True),
        sa.Column("params", _JSON, nullable=False),
        sa.Column("member_count", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("message_count", sa.BigInteger(), nullable=False),
        sa.Column("last_message_at", _time(), nullable=True),
        sa.Column("owner_id", sa.Text(), nullable=False),
        sa.Column("events_processed", sa.BigInteger(), nullable=False),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_chats"),
        sa.UniqueConstraint(
            "platform", "tenant", "chat_id", name="uq_chats_platform_tenant_chat_id"
        ),
    )
    op.create_table(
        "members",
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("is_bot", sa.Boolean(), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("is_member", sa.Boolean(), nullable=False),
        sa.Column("joined_at", _time(), nullable=True),
        sa.Column("first_joined_at", _time(), nullable=True),
        sa.Column("left_at", _time(), nullable=True),
        sa.Column("inviter_id", sa.Text(), nullable=False),
        sa.Column("message_count", sa.BigInteger(), nullable=False),
        sa.Column("last_seen_at", _time(), nullable=True),
        sa.Column("invited_count", sa.Integer(), nullable=False),
        sa.Column("account_created_at", _time(), nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_pk"], ["chats.id"], name="fk_members_chat_pk_chats", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("chat_pk", "user_id", name="pk_members"),
    )
    op.create_table(
        "decisions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("event_kind", sa.String(64), nullable=False),
        sa.Column("actor_id", sa.Text(), nullable=False),
        sa.Column("occurred_at", _time(), nullable=False),
        sa.Column("decided_at", _time(), nullable=False),
        sa.Column("ruleset", sa.Text(), nullable=False),
        sa.Column("ruleset_version", sa.Text(), nullable=False),
        sa.Column("decision", _JSON, nullable=False),
        sa.Column("event", _JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_pk"], ["chats.id"], name="fk_decisions_chat_pk_chats", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_decisions"),
        sa.UniqueConstraint(
            "tenant", "platform", "event_id", name="uq_decisions_tenant_platform_event_id"
        ),
    )
    op.create_index("ix_decisions_decided_at_id", "decisions", ["decided_at", "id"])
    op.create_index(
        "ix_decisions_chat_pk_decided_at_id", "decisions", ["chat_pk", "decided_at", "id"]
    )


def downgrade() -> None:
    op.drop_table("decisions")
    op.drop_table("members")
    op.drop_table("chats")
