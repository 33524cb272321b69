"""Member counts as BIGINT: the API takes counts up to 2**53 - 1 (``convert.MAX_COUNT``).

Revision ID: 0006_wide_columns
Revises: 0004_merge_areas

PostgreSQL only: a SQLite INTEGER already holds 64 bits, so the SQLite
schema is left as it is (the model declares the same variant).
Self-contained on purpose (no imports from ``firekeeper.store``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_wide_columns"
down_revision = "0004_merge_areas"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("chats", "member_count", type_=sa.BigInteger(), existing_nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("chats", "member_count", type_=sa.Integer(), existing_nullable=False)
