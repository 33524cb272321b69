"""Onboarding: where an imported history of a chat ends and live counting begins.

Revision ID: 0010_onboarding
Revises: 0009_retention_mark

Self-contained on purpose (no imports from ``firekeeper.store``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_onboarding"
down_revision = "0009_retention_mark"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _time() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "chat_history_imports",
        sa.Column("chat_pk", _ID, nullable=False),
        sa.Column("live_since", _time(), nullable=False),
        sa.Column("history_since", _time(), nullable=True),
        sa.Column("as_of", _time(), nullable=False),
        sa.Column("imported_at", _time(), nullable=False),
        sa.Column("imports", sa.Integer(), nullable=False),
        # the history's value (firekeeper.rules.value) as last imported, so a repeated
        # import adds only what changed to promo_value
        sa.Column("substantive_posts", sa.BigInteger(), nullable=False),
        sa.Column("answered_questions", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_pk"],
            ["chats.id"],
            name="fk_chat_history_imports_chat_pk_chats",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_pk", name="pk_chat_history_imports"),
    )


def downgrade() -> None:
    op.drop_table("chat_history_imports")
