"""Merge this wave's branches: onboarding, corrections (and the chats' languages).

Revision ID: 0011_merge_wave3
Revises: 0010_onboarding, 0010_corrections_tables, 0010_i18n_chat_language

Nothing to do: the branches touch different tables.
"""

from __future__ import annotations

revision = "0011_merge_wave3"
down_revision = ("0010_onboarding", "0010_corrections_tables", "0010_i18n_chat_language")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
