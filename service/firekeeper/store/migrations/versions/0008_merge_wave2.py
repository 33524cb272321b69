"""Join the branches that grew off 0004 into one head: the audit log, the widened columns,
the retention indexes.

Revision ID: 0008_merge_wave2
Revises: 0005_audit, 0006_wide_columns, 0007_retention_indexes
"""

from __future__ import annotations

revision = "0008_merge_wave2"
down_revision = ("0005_audit", "0006_wide_columns", "0007_retention_indexes")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
