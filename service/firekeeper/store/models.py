"""The relational schema (SQLAlchemy Core) and the mapping between rows and domain records.

The tables here describe what ``migrations/versions`` builds; they are never
used to create tables (``tests/store`` checks that the two agree). Times are
stored as UTC and always come back timezone-aware, on SQLite too.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect, RowMapping

from firekeeper.domain.chats import ChatKey, ChatRecord, MemberRecord
from firekeeper.domain.events import Platform, Role
from firekeeper.store.codec import params_from_json, params_to_json, theme_from_json, theme_to_json


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware UTC ``datetime``.

    PostgreSQL keeps it as ``timestamptz``; SQLite as naive UTC text (so it still
    sorts), and reads get ``tzinfo=UTC`` back. Naive values are refused: the
    domain promises aware times, and guessing a zone would corrupt data silently.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"refusing to store a naive datetime {value!r}: pass a UTC-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# A BIGINT surrogate key; on SQLite it must be INTEGER to alias the rowid.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

chats = sa.Table(
    "chats",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("tenant", sa.Text(), nullable=False),
    sa.Column("chat_id", sa.Text(), nullable=False),
    sa.Column("ruleset", sa.Text(), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("theme", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=True),
    sa.Column("params", Json, nullable=False),
    sa.Column("member_count", BigId, nullable=False),  # 0006: BIGINT on PostgreSQL
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("message_count", sa.BigInteger(), nullable=False),
    sa.Column("last_message_at", UtcDateTime(), nullable=True),
    sa.Column("owner_id", sa.Text(), nullable=False),
    sa.Column("events_processed", sa.BigInteger(), nullable=False),
    sa.Column("registered", sa.Boolean(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    # 0010_i18n_chat_language: the declared language, the detected one and the
    # detection's evidence (JSON [[script, weight], ...])
    sa.Column("language", sa.Text(), nullable=False, server_default=""),
    sa.Column("detected_language", sa.Text(), nullable=False, server_default=""),
    sa.Column("language_evidence", sa.Text(), nullable=False, server_default="[]"),
    sa.UniqueConstraint("platform", "tenant", "chat_id"),
)

members = sa.Table(
    "members",
    metadata,
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Text(), primary_key=True),
    sa.Column("display_name", sa.Text(), nullable=False),
    sa.Column("is_bot", sa.Boolean(), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("is_member", sa.Boolean(), nullable=False),
    sa.Column("joined_at", UtcDateTime(), nullable=True),
    sa.Column("first_joined_at", UtcDateTime(), nullable=True),
    sa.Column("left_at", UtcDateTime(), nullable=True),
    sa.Column("inviter_id", sa.Text(), nullable=False),
    sa.Column("message_count", sa.BigInteger(), nullable=False),
    sa.Column("last_seen_at", UtcDateTime(), nullable=True),
    sa.Column("invited_count", sa.Integer(), nullable=False),
    sa.Column("account_created_at", UtcDateTime(), nullable=True),
)


# How far the retention sweep has pruned a table (today only "decisions"): the
# pipeline refuses events older than ``before`` (their decisions may be gone),
# and the sweep deletes up to a mark only once it was published a while ago.
retention_marks = sa.Table(
    "retention_marks",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("before", UtcDateTime(), nullable=False),
    sa.Column("published_at", UtcDateTime(), nullable=False),
    sa.Column("settled_before", UtcDateTime(), nullable=True),  # the mark the sweep acts on
)

decisions = sa.Table(
    "decisions",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    sa.Column("tenant", sa.Text(), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("event_id", sa.Text(), nullable=False),
    sa.Column("event_kind", sa.String(64), nullable=False),
    sa.Column("actor_id", sa.Text(), nullable=False),
    sa.Column("occurred_at", UtcDateTime(), nullable=False),
    sa.Column("decided_at", UtcDateTime(), nullable=False),
    sa.Column("ruleset", sa.Text(), nullable=False),
    sa.Column("ruleset_version", sa.Text(), nullable=False),
    sa.Column("decision", Json, nullable=False),
    sa.Column("event", Json, nullable=False),
    # The idempotency key: a retried event can never be stored twice.
    sa.UniqueConstraint("tenant", "platform", "event_id"),
    # export in decided order, whole store or one chat (keyset pagination on (decided_at, id))
    sa.Index(None, "decided_at", "id"),
    sa.Index(None, "chat_pk", "decided_at", "id"),
)


# -- rows <-> records ---------------------------------------------------------------------------


def chat_from_row(row: RowMapping) -> ChatRecord:
    return ChatRecord(
        key=ChatKey(Platform(row["platform"]), row["tenant"], row["chat_id"]),
        ruleset=row["ruleset"],
        kind=row["kind"],
        theme=theme_from_json(row["theme"]),
        created_at=row["created_at"],
        params=params_from_json(row["params"]),
        member_count=row["member_count"],
        title=row["title"],
        message_count=row["message_count"],
        last_message_at=row["last_message_at"],
        owner_id=row["owner_id"],
        events_processed=row["events_processed"],
        registered=bool(row["registered"]),
        language=row["language"],
        detected_language=row["detected_language"],
        language_evidence=_evidence_from_text(row["language_evidence"]),
    )


def _evidence_from_text(text: str) -> tuple[tuple[str, float], ...]:
    """The stored evidence; a row this version cannot read starts the detection afresh."""
    try:
        pairs = json.loads(text or "[]")
        return tuple((str(s), float(w)) for s, w in pairs)
    except (ValueError, TypeError):
        return ()


def chat_values(chat: ChatRecord) -> dict[str, Any]:
    """Every column but the surrogate id and ``updated_at``."""
    return {
        "platform": chat.key.platform.value,
        "tenant": chat.key.tenant,
        "chat_id": chat.key.chat_id,
        "ruleset": chat.ruleset,
        "kind": chat.kind,
        "theme": theme_to_json(chat.theme),
        "created_at": chat.created_at,
        "params": params_to_json(chat.params),
        "registered": chat.registered,
        "language": chat.language,
    } | chat_event_values(chat)


# What an event may change in its chat's row (firekeeper.rules.state.changes_for, the
# language detection); the other columns change only by registration. The batch's
# update writes just these when a chat's other fields are still those it read.
CHAT_EVENT_COLUMNS = (
    "member_count",
    "title",
    "message_count",
    "last_message_at",
    "owner_id",
    "events_processed",
    "detected_language",
    "language_evidence",
)
CHAT_REGISTRATION_FIELDS = (
    "key",
    "ruleset",
    "kind",
    "theme",
    "created_at",
    "params",
    "registered",
    "language",
)


def same_registration(chat: ChatRecord, read: ChatRecord) -> bool:
    """Whether ``chat`` keeps every field of ``read`` outside ``CHAT_EVENT_COLUMNS``."""
    for name in CHAT_REGISTRATION_FIELDS:
        mine, theirs = getattr(chat, name), getattr(read, name)
        if mine is not theirs and mine != theirs:
            return False
    return True


def chat_event_values(chat: ChatRecord) -> dict[str, Any]:
    """The ``CHAT_EVENT_COLUMNS`` of ``chat``."""
    return {
        "member_count": chat.member_count,
        "title": chat.title,
        "message_count": chat.message_count,
        "last_message_at": chat.last_message_at,
        "owner_id": chat.owner_id,
        "events_processed": chat.events_processed,
        "detected_language": chat.detected_language,
        "language_evidence": json.dumps([list(p) for p in chat.language_evidence]),
    }


def member_from_row(row: RowMapping) -> MemberRecord:
    return MemberRecord(
        user_id=row["user_id"],
        display_name=row["display_name"],
        is_bot=bool(row["is_bot"]),
        role=Role(row["role"]),
        is_member=bool(row["is_member"]),
        joined_at=row["joined_at"],
        first_joined_at=row["first_joined_at"],
        left_at=row["left_at"],
        inviter_id=row["inviter_id"],
        message_count=row["message_count"],
        last_seen_at=row["last_seen_at"],
        invited_count=row["invited_count"],
        account_created_at=row["account_created_at"],
    )


def member_values(member: MemberRecord) -> dict[str, Any]:
    """Every column but ``chat_pk``."""
    return {
        "user_id": member.user_id,
        "display_name": member.display_name,
        "is_bot": member.is_bot,
        "role": member.role.value,
        "is_member": member.is_member,
        "joined_at": member.joined_at,
        "first_joined_at": member.first_joined_at,
        "left_at": member.left_at,
        "inviter_id": member.inviter_id,
        "message_count": member.message_count,
        "last_seen_at": member.last_seen_at,
        "invited_count": member.invited_count,
        "account_created_at": member.account_created_at,
    }


# A chat's value counts (chat.value_delivered): written by the screening area on each
# message and by the history import (firekeeper.areas.lifecycle.onboarding), so the store keeps it.
value = sa.Table(
    "promo_value",
    metadata,
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("substantive_posts", sa.BigInteger(), nullable=False),
    sa.Column("answered_questions", sa.BigInteger(), nullable=False),
)
