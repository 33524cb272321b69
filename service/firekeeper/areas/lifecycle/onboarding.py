"""Importing a chat's history from before Firekeeper saw it (``Governance.ImportChatHistory``).

One transaction with the chat's row locked, so it never interleaves with an event of
the same chat. A merge that can be repeated:

- members: a new one is added as a current member with the imported join date, role,
  message count and last message; a known one keeps what the service saw live (its
  latest join, a role it saw change, a leave) and takes from the import only what is
  earlier (first join), larger (message count), later (last message) or unknown;
- days: messages per day are set, not added, and only for days before live counting
  began (``live_since``, recorded at the first import: the chat's first live event, or
  the first import's ``as_of`` when there was none), so a day is never counted twice;
- each member's messages of the last 30 days land on the day of their last message,
  or the last day before live counting when that is later (the posters and
  owner-share windows of health); when the service already counted some of those
  live, the member's share is counted on both sides (the count of posters is not);
- the chat's activity: the watched history now starts at the earliest imported day,
  and the last messages of any person, the owner and the admins are the later of the
  live and the imported ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from firekeeper.areas.lifecycle.pure.features import ChatActivity
from firekeeper.areas.lifecycle.queries import (
    activity_days,
    day_of,
    load_activity,
    poster_days,
    save_activity,
    upsert,
)
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Role
from firekeeper.domain.onboarding import ChatHistory, ImportSummary, MemberHistory
from firekeeper.errors import ChatNotFound
from firekeeper.store.models import BigId, UtcDateTime, chats, members, metadata, value
from firekeeper.store.repository import Store

chat_history_imports = sa.Table(
    "chat_history_imports",
    metadata,
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("live_since", UtcDateTime(), nullable=False),
    sa.Column("history_since", UtcDateTime(), nullable=True),
    sa.Column("as_of", UtcDateTime(), nullable=False),
    sa.Column("imported_at", UtcDateTime(), nullable=False),
    sa.Column("imports", sa.Integer(), nullable=False),
    # the history's value as last imported: a repeated import adds only the difference
    sa.Column("substantive_posts", sa.BigInteger(), nullable=False),
    sa.Column("answered_questions", sa.BigInteger(), nullable=False),
)

_CHUNK = 500  # ids per IN list


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b > a) else a


def _earlier(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None or (b is not None and b < a) else a


def _new_member(chat_pk: int, m: MemberHistory) -> dict[str, Any]:
    return {
        "chat_pk": chat_pk,
        "user_id": m.user_id,
        "display_name": m.display_name,
        "is_bot": m.is_bot,
        "role": m.role.value,
        "is_member": True,
        "joined_at": m.joined_at,
        "first_joined_at": m.joined_at,
        "left_at": None,
        "inviter_id": "",
        "message_count": m.message_count,
        "last_seen_at": m.last_message_at,
        "invited_count": 0,
        "account_created_at": None,
    }


def _merged(row: Any, m: MemberHistory) -> dict[str, Any]:
    """A known member: live knowledge wins; the import fills what is earlier or unknown."""
    stayed = row.left_at is None  # never seen leaving: the imported join is this stay's
    joined = _earlier(row.joined_at, m.joined_at) if stayed else row.joined_at
    return {
        "b_chat_pk": row.chat_pk,
        "b_user_id": row.user_id,
        "display_name": row.display_name or m.display_name,
        "is_bot": bool(row.is_bot or m.is_bot),
        "role": m.role.value if row.role == Role.MEMBER.value else row.role,
        "joined_at": joined,
        "first_joined_at": _earlier(row.first_joined_at, m.joined_at),
        "message_count": max(int(row.message_count), m.message_count),
        "last_seen_at": _later(row.last_seen_at, m.last_message_at),
    }


_UPDATE_MEMBER = (
    sa.update(members)
    .where(
        members.c.chat_pk == sa.bindparam("b_chat_pk"),
        members.c.user_id == sa.bindparam("b_user_id"),
    )
    .values(
        {
            name: sa.bindparam(name)
            for name in (
                "display_name",
                "is_bot",
                "role",
                "joined_at",
                "first_joined_at",
                "message_count",
                "last_seen_at",
            )
        }
    )
)


def _members(conn: Connection, chat_pk: int, imported: Sequence[MemberHistory]) -> tuple[int, int]:
    known: dict[str, Any] = {}
    ids = [m.user_id for m in imported]
    for start in range(0, len(ids), _CHUNK):
        rows = conn.execute(
            sa.select(members).where(
                members.c.chat_pk == chat_pk, members.c.user_id.in_(ids[start : start + _CHUNK])
            )
        ).all()
        known.update((r.user_id, r) for r in rows)
    added = [_new_member(chat_pk, m) for m in imported if m.user_id not in known]
    updated = [_merged(known[m.user_id], m) for m in imported if m.user_id in known]
    if added:
        conn.execute(sa.insert(members), added)
    if updated:
        conn.execute(_UPDATE_MEMBER, updated)
    return len(added), len(updated)


def import_history(store: Store, key: ChatKey, history: ChatHistory) -> ImportSummary:
    """Merge ``history`` into the registered chat ``key``; ``ChatNotFound`` otherwise."""
    now = datetime.now(UTC)
    with store.chat_transaction(key) as tx:
        if not tx.chat.registered:
            raise ChatNotFound(str(key))
        conn, pk = tx.connection, tx.chat_pk
        activity = load_activity(conn, pk)
        t = chat_history_imports
        record = conn.execute(sa.select(t).where(t.c.chat_pk == pk)).one_or_none()
        if record is not None:
            live_since: datetime = record.live_since
        elif activity is not None and activity.first_seen_at is not None:
            live_since = min(activity.first_seen_at, history.as_of)
        else:
            live_since = history.as_of
        boundary = day_of(live_since)  # days before this one are history's; the rest live

        added, updated = _members(conn, pk, history.members)

        days = [d for d in history.days if day_of(_midnight(d.day)) < boundary]
        skipped = len(history.days) - len(days)
        if days:
            stmt = upsert(conn, activity_days)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["chat_pk", "day"], set_={"messages": stmt.excluded.messages}
                ),
                [
                    {
                        "chat_pk": pk,
                        "day": day_of(_midnight(d.day)),
                        "messages": d.messages,
                        "on_topic": 0,
                        "off_topic": 0,
                        "joins": 0,
                        "leaves": 0,
                        "theme_expansions": 0,
                        "notices_flagged": 0,
                    }
                    for d in days
                ],
            )
        # a member's last 30 days land on the day of their last message, or the last
        # day before live counting when that was later (live messages count themselves)
        posters = [
            {
                "chat_pk": pk,
                "day": min(day_of(m.last_message_at), boundary - 1),
                "user_id": m.user_id,
                "messages": m.messages_30d,
            }
            for m in history.members
            if m.messages_30d > 0
            and m.last_message_at is not None
            and (history.as_of - m.last_message_at).days < 30
        ]
        if posters:
            stmt = upsert(conn, poster_days)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["chat_pk", "day", "user_id"],
                    set_={"messages": stmt.excluded.messages},
                ),
                posters,
            )

        earliest = min((_midnight(d.day) for d in days), default=None)
        history_since = _earlier(record.history_since if record is not None else None, earliest)
        _activity(conn, pk, activity, history, tx.chat.owner_id, history_since, live_since)
        _chat_totals(conn, pk, history)
        before = (
            (int(record.substantive_posts), int(record.answered_questions))
            if record is not None
            else (0, 0)
        )
        _value(conn, pk, history, before)

        values = {
            "live_since": live_since,
            "history_since": history_since,
            "as_of": history.as_of,
            "imported_at": now,
            "substantive_posts": history.substantive_posts,
            "answered_questions": history.answered_questions,
        }
        if record is None:
            conn.execute(sa.insert(t).values(values | {"chat_pk": pk, "imports": 1}))
        else:
            conn.execute(
                sa.update(t).where(t.c.chat_pk == pk).values(values | {"imports": t.c.imports + 1})
            )
    return ImportSummary(
        members_added=added,
        members_updated=updated,
        days_imported=len(days),
        days_skipped=skipped,
        watched_since=_earlier(live_since, history_since) or live_since,
    )


def _midnight(day: Any) -> datetime:
    return datetime.combine(day, time(), UTC)


def _activity(
    conn: Connection,
    pk: int,
    live: ChatActivity | None,
    history: ChatHistory,
    owner_id: str,
    history_since: datetime | None,
    live_since: datetime,
) -> None:
    people = [m for m in history.members if not m.is_bot and m.last_message_at is not None]

    def last(pick: Sequence[MemberHistory]) -> datetime | None:
        return max((m.last_message_at for m in pick if m.last_message_at), default=None)

    owners = [m for m in people if m.role is Role.OWNER or (owner_id and m.user_id == owner_id)]
    admins = [m for m in people if m.role in (Role.ADMIN, Role.OWNER)]
    a = live or ChatActivity(first_seen_at=live_since)
    first = _earlier(a.first_seen_at, history_since) or live_since
    save_activity(
        conn,
        pk,
        ChatActivity(
            topic_window=a.topic_window,
            off_topic_streak=a.off_topic_streak,
            nudged_this_streak=a.nudged_this_streak,
            first_seen_at=first,
            last_human_message_at=_later(a.last_human_message_at, last(people)),
            last_owner_message_at=_later(a.last_owner_message_at, last(owners)),
            last_admin_message_at=_later(a.last_admin_message_at, last(admins)),
            last_reminder_at=a.last_reminder_at,
            health_status=a.health_status,
            recent_vocabulary=a.recent_vocabulary,
        ),
    )


def _value(conn: Connection, pk: int, history: ChatHistory, before: tuple[int, int]) -> None:
    """The history's value counts (``chat.value_delivered``) join the live ones once."""
    posts = history.substantive_posts - before[0]
    answered = history.answered_questions - before[1]
    if not (posts or answered):
        return
    row = conn.execute(sa.select(value).where(value.c.chat_pk == pk)).one_or_none()
    if row is None:
        conn.execute(
            sa.insert(value).values(
                chat_pk=pk, substantive_posts=max(0, posts), answered_questions=max(0, answered)
            )
        )
        return
    # the chat's row is locked: no event of it changes these counts meanwhile
    conn.execute(
        sa.update(value)
        .where(value.c.chat_pk == pk)
        .values(
            substantive_posts=max(0, int(row.substantive_posts) + posts),
            answered_questions=max(0, int(row.answered_questions) + answered),
        )
    )


def _chat_totals(conn: Connection, pk: int, history: ChatHistory) -> None:
    total = sum(m.message_count for m in history.members)
    latest = max((m.last_message_at for m in history.members if m.last_message_at), default=None)
    row = conn.execute(
        sa.select(chats.c.message_count, chats.c.last_message_at).where(chats.c.id == pk)
    ).one()
    conn.execute(
        sa.update(chats)
        .where(chats.c.id == pk)
        .values(
            message_count=max(int(row.message_count), total),
            last_message_at=_later(row.last_message_at, latest),
        )
    )
