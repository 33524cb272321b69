"""The decision log's retention mark: how far the sweep has pruned it.

Revision ID: 0009_retention_mark
Revises: 0008_merge_wave2

Self-contained on purpose (no imports from ``firekeeper.store``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_retention_mark"
down_revision = "0008_merge_wave2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_marks",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("settled_before", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("retention_marks")
