"""Each chat's recent on-topic vocabulary: the words its members use on the theme lately
(firekeeper.areas.lifecycle.pure.theme_vocab.remember), kept with the chat's lifecycle row.

Revision ID: 0012_w4_topic_recent_vocabulary
Revises: 0011_merge_wave3

Self-contained on purpose (no imports from ``firekeeper.store``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_w4_topic_recent_vocabulary"
down_revision = "0011_merge_wave3"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chat_activity") as batch:
        batch.add_column(
            sa.Column("recent_vocabulary", sa.Text(), nullable=False, server_default="[]")
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_activity") as batch:
        batch.drop_column("recent_vocabulary")
