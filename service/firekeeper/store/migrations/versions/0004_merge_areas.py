"""Join the screening and lifecycle branches into one head.

Revision ID: 0004_merge_areas
Revises: 0002_screening, 0003_lifecycle
"""

from __future__ import annotations

revision = "0004_merge_areas"
down_revision = ("0002_screening", "0003_lifecycle")
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Nothing to change: the two branches touch different tables."""


def downgrade() -> None:
    """Nothing to undo."""
