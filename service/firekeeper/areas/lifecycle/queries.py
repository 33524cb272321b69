"""Tables of the lifecycle area (topic windows, activity by day, flood windows, outbox,
scheduler) on the store's MetaData, and the reads and writes the area makes in
the event's transaction.

Migration ``0003_lifecycle`` builds these tables; ``tests/store`` checks that it
builds exactly what is described here. Days are whole UTC days since the Unix
epoch (``day_of``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from firekeeper.areas.lifecycle.pure.features import (
    RATE_WINDOW_SECONDS,
    REPEAT_WINDOW_SECONDS,
    ChatActivity,
    RecentActivity,
)
from firekeeper.areas.lifecycle.pure.theme_vocab import RECENT_FEATURES
from firekeeper.store.keysets import any_of
from firekeeper.store.models import BigId, Json, UtcDateTime, metadata

KEEP_DAYS = 120  # activity by day kept for health windows (30 days, 4 weeks) with room
KEEP_ACKED = timedelta(days=7)  # acknowledged outbox items kept for inspection

chat_activity = sa.Table(
    "chat_activity",
    metadata,
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("topic_window", sa.String(32), nullable=False),
    sa.Column("off_topic_streak", sa.Integer(), nullable=False),
    sa.Column("nudged_this_streak", sa.Boolean(), nullable=False),
    sa.Column("first_seen_at", UtcDateTime(), nullable=False),
    sa.Column("last_human_message_at", UtcDateTime(), nullable=True),
    sa.Column("last_owner_message_at", UtcDateTime(), nullable=True),
    sa.Column("last_admin_message_at", UtcDateTime(), nullable=True),
    sa.Column("last_reminder_at", UtcDateTime(), nullable=True),
    sa.Column("health_status", sa.String(16), nullable=False),
    sa.Column("health_at", UtcDateTime(), nullable=True),
    # 0012: [[feature, weight], ...], at most theme_vocab.RECENT_FEATURES (JSON text)
    sa.Column("recent_vocabulary", sa.Text(), nullable=False, server_default="[]"),
    sa.Index(None, "health_status"),
)

DAY_COUNTERS = (
    "messages",
    "on_topic",
    "off_topic",
    "joins",
    "leaves",
    "theme_expansions",
    "notices_flagged",
)

activity_days = sa.Table(
    "activity_days",
    metadata,
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("day", sa.Integer(), primary_key=True),
    *(sa.Column(name, sa.Integer(), nullable=False) for name in DAY_COUNTERS),
)

poster_days = sa.Table(
    "poster_days",
    metadata,
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("day", sa.Integer(), primary_key=True),
    sa.Column("user_id", sa.Text(), primary_key=True),
    sa.Column("messages", sa.Integer(), nullable=False),
)

recent_messages = sa.Table(
    "recent_messages",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    sa.Column("user_id", sa.Text(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("text_key", sa.String(32), nullable=False),
    sa.Column("mentions", sa.Integer(), nullable=False),
    sa.Index(None, "chat_pk", "at"),
    sa.Index(None, "chat_pk", "user_id", "at"),
)

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("tenant", sa.Text(), nullable=False),
    sa.Column("chat_id", sa.Text(), nullable=False),
    sa.Column("event_id", sa.Text(), nullable=False),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("action", Json, nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("delivered_at", UtcDateTime(), nullable=True),
    sa.Column("lease_owner", sa.String(64), nullable=True),
    sa.Column("lease_expires_at", UtcDateTime(), nullable=True),
    sa.Column("acked_at", UtcDateTime(), nullable=True),
    # a tick's decision is stored once, so its actions are enqueued once
    sa.UniqueConstraint("tenant", "platform", "event_id", "position"),
    sa.Index(None, "platform", "tenant", "acked_at", "id"),
    sa.Index(None, "chat_pk", "acked_at"),  # a chat's tick prunes its acknowledged items
)

scheduler_runs = sa.Table(
    "scheduler_runs",
    metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("period_seconds", sa.Integer(), nullable=False),
    sa.Column("period_index", sa.BigInteger(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=False),
    sa.Column("chats", sa.Integer(), nullable=False),
    sa.Column("leader", sa.String(128), nullable=False),
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def day_of(at: datetime) -> int:
    return (at.astimezone(UTC) - _EPOCH).days


def upsert(conn: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if conn.dialect.name == "postgresql" else sqlite.insert(table)


# Statements are built once with bound parameters (values come as execution
# parameters), so SQLAlchemy compiles each once: these run on every message.


def _insert(dialect: str, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


@functools.cache
def _activity_upsert(dialect: str) -> sa.Executable:
    stmt = _insert(dialect, chat_activity)
    t = chat_activity
    update: dict[str, Any] = {
        c.name: stmt.excluded[c.name] for c in t.c if c.name not in ("chat_pk", "health_at")
    }
    update["health_at"] = sa.func.coalesce(stmt.excluded.health_at, t.c.health_at)
    return stmt.on_conflict_do_update(index_elements=["chat_pk"], set_=update)


@functools.cache
def _day_upsert(dialect: str) -> sa.Executable:
    stmt = _insert(dialect, activity_days)
    t = activity_days
    return stmt.on_conflict_do_update(
        index_elements=["chat_pk", "day"],
        set_={name: t.c[name] + stmt.excluded[name] for name in DAY_COUNTERS},
    )


@functools.cache
def _poster_upsert(dialect: str) -> sa.Executable:
    stmt = _insert(dialect, poster_days)
    return stmt.on_conflict_do_update(
        index_elements=["chat_pk", "day", "user_id"],
        set_={"messages": poster_days.c.messages + stmt.excluded.messages},
    )


_ACTIVITY = sa.select(chat_activity).where(chat_activity.c.chat_pk == sa.bindparam("b_pk"))
_DAY_SUMS = {
    name: sa.select(sa.func.coalesce(sa.func.sum(activity_days.c[name]), 0)).where(
        activity_days.c.chat_pk == sa.bindparam("b_pk"),
        activity_days.c.day >= sa.bindparam("b_first"),
        activity_days.c.day <= sa.bindparam("b_last"),
    )
    for name in DAY_COUNTERS
}
_r = recent_messages
_mine = _r.c.user_id == sa.bindparam("b_user")
_in_rate = _r.c.at >= sa.bindparam("b_rate_since")
# one pass over the chat's last 10 minutes (index chat_pk, at)
_RECENT = sa.select(
    sa.func.count().filter(sa.and_(_mine, _in_rate)),
    sa.func.coalesce(sa.func.sum(_r.c.mentions).filter(sa.and_(_mine, _in_rate)), 0),
    sa.func.count().filter(sa.and_(_mine, _r.c.text_key == sa.bindparam("b_key"))),
    sa.func.count().filter(_in_rate),
).where(
    _r.c.chat_pk == sa.bindparam("b_pk"),
    _r.c.at >= sa.bindparam("b_repeat_since"),
    _r.c.at <= sa.bindparam("b_now"),
)
_PRUNE_RECENT = sa.delete(_r).where(
    _r.c.chat_pk == sa.bindparam("b_pk"), _r.c.at < sa.bindparam("b_before")
)
_INSERT_RECENT = sa.insert(recent_messages)
_PRUNE_DAYS = tuple(
    sa.delete(t).where(t.c.chat_pk == sa.bindparam("b_pk"), t.c.day < sa.bindparam("b_oldest"))
    for t in (activity_days, poster_days)
)
_PRUNE_ACKED = sa.delete(outbox).where(
    outbox.c.chat_pk == sa.bindparam("b_pk"), outbox.c.acked_at < sa.bindparam("b_before")
)
PRUNE_EVERY = 50  # messages of a chat between prunings of its flood window rows


# -- chat_activity -------------------------------------------------------------------------------


def load_activity(conn: Connection, chat_pk: int) -> ChatActivity | None:
    row = conn.execute(_ACTIVITY, {"b_pk": chat_pk}).mappings().one_or_none()
    return None if row is None else _activity(row)


def _activity(row: RowMapping) -> ChatActivity:
    return ChatActivity(
        topic_window=row["topic_window"],
        off_topic_streak=row["off_topic_streak"],
        nudged_this_streak=bool(row["nudged_this_streak"]),
        first_seen_at=row["first_seen_at"],
        last_human_message_at=row["last_human_message_at"],
        last_owner_message_at=row["last_owner_message_at"],
        last_admin_message_at=row["last_admin_message_at"],
        last_reminder_at=row["last_reminder_at"],
        health_status=row["health_status"],
        recent_vocabulary=_vocabulary_from_text(row["recent_vocabulary"]),
    )


def _vocabulary_from_text(text: str) -> tuple[tuple[str, float], ...]:
    """The stored recent vocabulary; a row that does not read as one is an empty one
    (it is a cache of what members said lately, rebuilt as they talk)."""
    if text == "[]":
        return ()
    try:
        items = json.loads(text)
        return tuple((f, float(w)) for f, w in items[:RECENT_FEATURES] if type(f) is str)
    except (ValueError, TypeError):
        return ()


def save_activity(
    conn: Connection, chat_pk: int, a: ChatActivity, *, health_at: datetime | None = None
) -> None:
    conn.execute(_activity_upsert(conn.dialect.name), _activity_values(chat_pk, a, health_at))


def _activity_values(chat_pk: int, a: ChatActivity, health_at: datetime | None) -> dict[str, Any]:
    if a.first_seen_at is None:
        raise ValueError("a chat's activity row needs first_seen_at")
    return {
        "chat_pk": chat_pk,
        "topic_window": a.topic_window,
        "off_topic_streak": a.off_topic_streak,
        "nudged_this_streak": a.nudged_this_streak,
        "first_seen_at": a.first_seen_at,
        "last_human_message_at": a.last_human_message_at,
        "last_owner_message_at": a.last_owner_message_at,
        "last_admin_message_at": a.last_admin_message_at,
        "last_reminder_at": a.last_reminder_at,
        "health_status": a.health_status,
        "health_at": health_at,
        "recent_vocabulary": json.dumps(
            [[f, round(w, 3)] for f, w in a.recent_vocabulary],
            ensure_ascii=False,
            separators=(",", ":"),
        ),
    }


# -- days ----------------------------------------------------------------------------------------


def bump_day(conn: Connection, chat_pk: int, day: int, counts: Mapping[str, int]) -> None:
    """Add ``counts`` (names from DAY_COUNTERS) to the chat's row for ``day``."""
    if not counts:
        return
    unknown = set(counts) - set(DAY_COUNTERS)
    if unknown:
        raise ValueError(f"unknown day counters {sorted(unknown)}")
    values = {name: counts.get(name, 0) for name in DAY_COUNTERS}
    conn.execute(_day_upsert(conn.dialect.name), values | {"chat_pk": chat_pk, "day": day})


def bump_poster(conn: Connection, chat_pk: int, day: int, user_id: str) -> None:
    conn.execute(
        _poster_upsert(conn.dialect.name),
        {"chat_pk": chat_pk, "day": day, "user_id": user_id, "messages": 1},
    )


def day_sum(conn: Connection, chat_pk: int, column: str, first_day: int, last_day: int) -> int:
    total = conn.execute(
        _DAY_SUMS[column], {"b_pk": chat_pk, "b_first": first_day, "b_last": last_day}
    ).scalar_one()
    return int(total)


def prune(conn: Connection, chat_pk: int, now: datetime) -> None:
    """Drop day rows older than KEEP_DAYS, expired flood rows, and outbox items
    acknowledged more than KEEP_ACKED ago (run on ticks)."""
    oldest = day_of(now) - KEEP_DAYS
    for stmt in _PRUNE_DAYS:
        conn.execute(stmt, {"b_pk": chat_pk, "b_oldest": oldest})
    conn.execute(_PRUNE_ACKED, {"b_pk": chat_pk, "b_before": now - KEEP_ACKED})
    before = now - timedelta(seconds=REPEAT_WINDOW_SECONDS)
    conn.execute(_PRUNE_RECENT, {"b_pk": chat_pk, "b_before": before})


# -- recent messages (flood windows) -------------------------------------------------------------


def recent_counts(
    conn: Connection, chat_pk: int, user_id: str, text_key: str, now: datetime
) -> RecentActivity:
    row = conn.execute(
        _RECENT,
        {
            "b_pk": chat_pk,
            "b_user": user_id,
            "b_key": text_key,
            "b_now": now,
            "b_rate_since": now - timedelta(seconds=RATE_WINDOW_SECONDS),
            "b_repeat_since": now - timedelta(seconds=REPEAT_WINDOW_SECONDS),
        },
    ).one()
    return RecentActivity(
        actor_last_minute=int(row[0]),
        actor_mentions_last_minute=int(row[1]),
        same_text_recent=int(row[2]),
        chat_last_minute=int(row[3]),
    )


def add_recent(
    conn: Connection,
    chat_pk: int,
    user_id: str,
    at: datetime,
    text_key: str,
    mentions: int,
    *,
    prune_now: bool = False,
) -> None:
    """Record one message in the flood window; ``prune_now`` also drops expired rows
    (the area asks every PRUNE_EVERY messages of a chat, and ticks always prune)."""
    conn.execute(
        _INSERT_RECENT,
        {
            "chat_pk": chat_pk,
            "user_id": user_id,
            "at": at,
            "text_key": text_key,
            "mentions": mentions,
        },
    )
    if prune_now:
        before = at - timedelta(seconds=REPEAT_WINDOW_SECONDS)
        conn.execute(_PRUNE_RECENT, {"b_pk": chat_pk, "b_before": before})


# -- one transaction's reads and writes, for all its chats at once ------------------------------

_ACTIVITIES = sa.select(chat_activity).where(any_of(chat_activity.c.chat_pk, "b_pks"))
_DAY_SUMS_OF = {
    name: sa.select(activity_days.c.chat_pk, sa.func.sum(activity_days.c[name]))
    .where(
        any_of(activity_days.c.chat_pk, "b_pks"),
        activity_days.c.day >= sa.bindparam("b_first"),
        activity_days.c.day <= sa.bindparam("b_last"),
    )
    .group_by(activity_days.c.chat_pk)
    for name in DAY_COUNTERS
}


_RECENT_OF = sa.select(_r.c.chat_pk, _r.c.user_id, _r.c.at, _r.c.text_key, _r.c.mentions).where(
    any_of(_r.c.chat_pk, "b_pks"), _r.c.at >= sa.bindparam("b_since")
)
# the flood window is read from this long before the first event's window, so events a
# little older than the first one still count from memory
RECENT_MARGIN = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class _Recent:
    user_id: str
    at: datetime
    text_key: str
    mentions: int


@dataclass
class LifecycleBatch:
    """The lifecycle area's tables for every chat of one transaction
    (``ChatTx.pending(LifecycleBatch)``): activity rows and day sums read for all the
    chats in one query each on first use, then kept in memory with this transaction's
    changes; day counters, poster days and activity rows written back by ``flush``, one
    multi-row statement each. The flood window (``recent_messages``) is read for all the
    chats from RECENT_MARGIN before the first message's window, counted in memory with
    the transaction's messages, and written back in order (inserts, prunings)."""

    conn: Connection
    pks: Sequence[int]
    _activity: dict[int, ChatActivity] | None = None
    _sums: dict[tuple[str, int, int], dict[int, int]] = field(default_factory=dict)
    _days: dict[tuple[int, int], dict[str, int]] = field(default_factory=dict)
    _posters: dict[tuple[int, int, str], int] = field(default_factory=dict)
    _saved: dict[int, tuple[ChatActivity, datetime | None]] = field(default_factory=dict)
    _recent_since: datetime | None = None
    _recent: dict[int, list[_Recent]] = field(default_factory=dict)
    # held flood-window writes, in order: a row to insert, or (chat_pk, before) to prune
    _recent_ops: list[dict[str, Any] | tuple[int, datetime]] = field(default_factory=list)

    def recent_counts(
        self, chat_pk: int, user_id: str, text_key: str, now: datetime
    ) -> RecentActivity:
        """As :func:`recent_counts`, from memory."""
        since = now - timedelta(seconds=REPEAT_WINDOW_SECONDS)
        if self._recent_since is None:
            self._recent_since = since - RECENT_MARGIN
            params = {"b_pks": list(self.pks), "b_since": self._recent_since}
            for r in self.conn.execute(_RECENT_OF, params):
                row = _Recent(r.user_id, r.at, r.text_key, int(r.mentions))
                self._recent.setdefault(int(r.chat_pk), []).append(row)
        if since < self._recent_since:  # older than what was read: ask the table
            self._flush_recent(self.conn)
            return recent_counts(self.conn, chat_pk, user_id, text_key, now)
        rate_since = now - timedelta(seconds=RATE_WINDOW_SECONDS)
        actor_minute = mentions = same_text = chat_minute = 0
        for seen in self._recent.get(chat_pk, ()):  # one pass over the chat's window
            if not since <= seen.at <= now:
                continue
            last_minute = seen.at >= rate_since
            chat_minute += last_minute
            if seen.user_id == user_id:
                if last_minute:
                    actor_minute += 1
                    mentions += seen.mentions
                same_text += seen.text_key == text_key
        return RecentActivity(
            actor_last_minute=actor_minute,
            actor_mentions_last_minute=mentions,
            same_text_recent=same_text,
            chat_last_minute=chat_minute,
        )

    def add_recent(
        self,
        chat_pk: int,
        user_id: str,
        at: datetime,
        text_key: str,
        mentions: int,
        *,
        prune_now: bool = False,
    ) -> None:
        """As :func:`add_recent`, held until ``flush``."""
        self._recent.setdefault(chat_pk, []).append(_Recent(user_id, at, text_key, mentions))
        self._recent_ops.append(
            {
                "chat_pk": chat_pk,
                "user_id": user_id,
                "at": at,
                "text_key": text_key,
                "mentions": mentions,
            }
        )
        if prune_now:
            before = at - timedelta(seconds=REPEAT_WINDOW_SECONDS)
            self._recent[chat_pk] = [r for r in self._recent[chat_pk] if r.at >= before]
            self._recent_ops.append((chat_pk, before))

    def _flush_recent(self, conn: Connection) -> None:
        rows: list[dict[str, Any]] = []
        for op in [*self._recent_ops, None]:
            if isinstance(op, dict):
                rows.append(op)
                continue
            if rows:
                conn.execute(_INSERT_RECENT, rows)
                rows = []
            if op is not None:
                conn.execute(_PRUNE_RECENT, {"b_pk": op[0], "b_before": op[1]})
        self._recent_ops.clear()

    def activity(self, chat_pk: int) -> ChatActivity | None:
        if self._activity is None:
            rows = self.conn.execute(_ACTIVITIES, {"b_pks": list(self.pks)}).mappings()
            self._activity = {int(r["chat_pk"]): _activity(r) for r in rows}
        saved = self._saved.get(chat_pk)
        return saved[0] if saved is not None else self._activity.get(chat_pk)

    def day_sum(self, chat_pk: int, column: str, first_day: int, last_day: int) -> int:
        key = (column, first_day, last_day)
        sums = self._sums.get(key)
        if sums is None:
            params = {"b_pks": list(self.pks), "b_first": first_day, "b_last": last_day}
            rows = self.conn.execute(_DAY_SUMS_OF[column], params)
            sums = self._sums[key] = {int(r[0]): int(r[1] or 0) for r in rows}
        held = sum(
            counts.get(column, 0)
            for (pk, day), counts in self._days.items()
            if pk == chat_pk and first_day <= day <= last_day
        )
        return sums.get(chat_pk, 0) + held

    def bump_day(self, chat_pk: int, day: int, counts: Mapping[str, int]) -> None:
        if not counts:  # nothing to add: no row (ticks, join requests, ...)
            return
        unknown = set(counts) - set(DAY_COUNTERS)
        if unknown:
            raise ValueError(f"unknown day counters {sorted(unknown)}")
        held = self._days.setdefault((chat_pk, day), {})
        for name, n in counts.items():
            held[name] = held.get(name, 0) + n

    def bump_poster(self, chat_pk: int, day: int, user_id: str) -> None:
        key = (chat_pk, day, user_id)
        self._posters[key] = self._posters.get(key, 0) + 1

    def save_activity(
        self, chat_pk: int, a: ChatActivity, *, health_at: datetime | None = None
    ) -> None:
        if a.first_seen_at is None:
            raise ValueError("a chat's activity row needs first_seen_at")
        earlier = self._saved.get(chat_pk)
        if health_at is None and earlier is not None:
            health_at = earlier[1]  # the row keeps its latest health reading
        self._saved[chat_pk] = (a, health_at)

    def flush(self, conn: Connection) -> None:
        dialect = conn.dialect.name
        self._flush_recent(conn)
        if self._days:
            conn.execute(
                _day_upsert(dialect),
                [
                    {name: counts.get(name, 0) for name in DAY_COUNTERS}
                    | {"chat_pk": pk, "day": day}
                    for (pk, day), counts in self._days.items()
                ],
            )
            for (column, first, last), sums in self._sums.items():  # now in the table
                for (pk, day), counts in self._days.items():
                    if first <= day <= last and counts.get(column):
                        sums[pk] = sums.get(pk, 0) + counts[column]
            self._days.clear()
        if self._posters:
            conn.execute(
                _poster_upsert(dialect),
                [
                    {"chat_pk": pk, "day": day, "user_id": user, "messages": n}
                    for (pk, day, user), n in self._posters.items()
                ],
            )
            self._posters.clear()
        if self._saved:
            conn.execute(
                _activity_upsert(dialect),
                [_activity_values(pk, a, at) for pk, (a, at) in self._saved.items()],
            )
            if self._activity is not None:
                self._activity.update({pk: a for pk, (a, _) in self._saved.items()})
            self._saved.clear()
