"""Invite screening and monetization timing: settings, blocklist, join log, invitations,
review queue, promo strikes, value delivered, open questions.

Revision ID: 0002_screening
Revises: 0001
Create Date: 2025-01-15

Self-contained on purpose (no imports from ``firekeeper.store``): a migration must
keep building the schema it built when it was written.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002_screening"
down_revision = "0001"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def _chat_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["chat_pk"], ["chats.id"], name=f"fk_{table}_chat_pk_chats", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "screening_settings",
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("allowed_domains", _JSON, nullable=False),
        sa.Column("entry_patterns", _JSON, nullable=False),
        sa.Column("updated_at", _time(), nullable=False),
        _chat_fk("screening_settings"),
        sa.PrimaryKeyConstraint("chat_pk", name="pk_screening_settings"),
    )
    op.create_table(
        "screening_blocklist",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("tenant", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("platform", sa.String(32), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("added_by", sa.Text(), nullable=False),
        sa.Column("added_at", _time(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_screening_blocklist"),
        sa.UniqueConstraint(
            "tenant",
            "kind",
            "platform",
            "value",
            name="uq_screening_blocklist_tenant_kind_platform_value",
        ),
    )
    op.create_table(
        "screening_joins",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        _chat_fk("screening_joins"),
        sa.PrimaryKeyConstraint("id", name="pk_screening_joins"),
    )
    op.create_index("ix_screening_joins_chat_pk_at", "screening_joins", ["chat_pk", "at"])
    op.create_table(
        "screening_invites",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("inviter_id", sa.Text(), nullable=False),
        sa.Column("invitee_id", sa.Text(), nullable=False),
        sa.Column("invited_at", _time(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("joined_at", _time(), nullable=True),
        sa.Column("outcome_at", _time(), nullable=False),
        _chat_fk("screening_invites"),
        sa.PrimaryKeyConstraint("id", name="pk_screening_invites"),
    )
    op.create_index(
        "ix_screening_invites_chat_pk_inviter_id_invited_at",
        "screening_invites",
        ["chat_pk", "inviter_id", "invited_at"],
    )
    op.create_index(
        "ix_screening_invites_chat_pk_invitee_id", "screening_invites", ["chat_pk", "invitee_id"]
    )
    op.create_table(
        "screening_held",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("inviter_id", sa.Text(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("event_kind", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("held_at", _time(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("resolved_at", _time(), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _chat_fk("screening_held"),
        sa.PrimaryKeyConstraint("id", name="pk_screening_held"),
        sa.UniqueConstraint("chat_pk", "user_id", name="uq_screening_held_chat_pk_user_id"),
    )
    op.create_index("ix_screening_held_status_id", "screening_held", ["status", "id"])
    op.create_table(
        "promo_strikes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("at", _time(), nullable=False),
        sa.Column("rule_id", sa.Text(), nullable=False),
        _chat_fk("promo_strikes"),
        sa.PrimaryKeyConstraint("id", name="pk_promo_strikes"),
    )
    op.create_index(
        "ix_promo_strikes_chat_pk_user_id_at", "promo_strikes", ["chat_pk", "user_id", "at"]
    )
    op.create_table(
        "promo_value",
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("substantive_posts", sa.BigInteger(), nullable=False),
        sa.Column("answered_questions", sa.BigInteger(), nullable=False),
        _chat_fk("promo_value"),
        sa.PrimaryKeyConstraint("chat_pk", name="pk_promo_value"),
    )
    op.create_table(
        "promo_questions",
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("message_id", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Text(), nullable=False),
        sa.Column("asked_at", _time(), nullable=False),
        sa.Column("answered_at", _time(), nullable=True),
        _chat_fk("promo_questions"),
        sa.PrimaryKeyConstraint("chat_pk", "message_id", name="pk_promo_questions"),
    )
    op.create_index(
        "ix_promo_questions_chat_pk_asked_at", "promo_questions", ["chat_pk", "asked_at"]
    )


def downgrade() -> None:
    for table in (
        "promo_questions",
        "promo_value",
        "promo_strikes",
        "screening_held",
        "screening_invites",
        "screening_joins",
        "screening_blocklist",
        "screening_settings",
    ):
        op.drop_table(table)
