"""Chats' languages: the one declared at registration, the one detected from their
messages, and the detection's evidence (firekeeper.rules.language).

Revision ID: 0010_i18n_chat_language
Revises: 0009_retention_mark

Self-contained on purpose (no imports from ``firekeeper.store``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_i18n_chat_language"
down_revision = "0009_retention_mark"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("language", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("detected_language", sa.Text(), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("language_evidence", sa.Text(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("language_evidence")
        batch.drop_column("detected_language")
        batch.drop_column("language")
