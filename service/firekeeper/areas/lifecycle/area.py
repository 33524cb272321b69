"""The lifecycle governance area: topic boundaries, flood windows, notices, ticks, outbox.

A :class:`firekeeper.pipeline.Area` over :class:`Loaded`. Under the chat's lock
``load`` reads the chat's activity row, the effective theme, the flood counts
(messages) or the health measurements (ticks); the pure stage is
``firekeeper.areas.lifecycle.pure.features``; ``write`` receives what ``load`` read back and
stores what this event changed in the same transaction, and puts the actions of
a ``chat.tick`` decision in the outbox (no adapter is waiting for a tick's answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from firekeeper.areas.lifecycle import health_queries as health_store
from firekeeper.areas.lifecycle import outbox
from firekeeper.areas.lifecycle import queries as rows
from firekeeper.areas.lifecycle.pure import features as pure
from firekeeper.areas.lifecycle.pure.features import ChatActivity, LifecycleLoad
from firekeeper.domain.chats import ChatContext, ChatRecord, Theme
from firekeeper.domain.events import ChatTick, ChatUpdated, Event, MemberJoined, MemberLeft
from firekeeper.domain.events import MessagePosted as Message
from firekeeper.pipeline import DEFAULT_RULESET, RulesetHolder
from firekeeper.rules.evaluate import Evaluation
from firekeeper.store import ChatTx


def has_theme(theme: Theme) -> bool:
    return bool(theme.keywords or theme.phrases or theme.channels)


def effective_theme(rulesets: RulesetHolder | None, chat: ChatRecord) -> Theme:
    """The chat's registered theme; when it registered none, its ruleset's profile theme
    (the ruleset chosen as the pipeline chooses it: by name, else by kind, else base)."""
    if has_theme(chat.theme) or rulesets is None:
        return chat.theme
    index = rulesets.index
    for name in (chat.ruleset, chat.kind, DEFAULT_RULESET):
        if name and name in index:
            return index.get(name).theme
    return chat.theme


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or b > a else a


@dataclass(frozen=True, slots=True)
class Loaded:
    """What the lifecycle area read for one event: the pure stage's input, and the chat's
    member count before the event (joins and leaves are counted from it), and a message's
    text key (``features.text_key``: computed once, for its counts and its flood row)."""

    pure: LifecycleLoad
    member_count: int
    text_key: str = ""


class LifecycleArea:
    name = pure.AREA

    def __init__(self, rulesets: RulesetHolder | None = None) -> None:
        self._rulesets = rulesets

    def load(self, tx: ChatTx, event: Event, ctx: ChatContext) -> Loaded:
        p = event.payload
        key = pure.text_key(p.text) if isinstance(p, Message) else ""
        return Loaded(self._load(tx, event, ctx, key), ctx.chat.member_count, key)

    def _load(self, tx: ChatTx, event: Event, ctx: ChatContext, text_key: str) -> LifecycleLoad:
        conn, pk = tx.connection, tx.chat_pk
        kept = tx.pending(rows.LifecycleBatch)
        now = event.envelope.occurred_at
        activity = kept.activity(pk) or ChatActivity(first_seen_at=now)
        theme = (
            ctx.chat.theme
            if has_theme(ctx.chat.theme) or ctx.profile_theme is None
            else ctx.profile_theme
        )
        loaded = LifecycleLoad(activity=activity, theme=theme)
        p, actor = event.payload, event.envelope.actor
        if isinstance(p, Message) and actor is not None:
            today = rows.day_of(now)
            loaded = replace(
                loaded,
                recent=kept.recent_counts(pk, actor.id, text_key, now),
                new_themes_30d=kept.day_sum(pk, "theme_expansions", today - 29, today),
            )
        elif isinstance(p, ChatTick):
            tx.flush()  # health reads the members' and days' tables
            health = health_store.measure(conn, pk, ctx.chat, activity, now)
            loaded = replace(loaded, health=health)
        return loaded

    def enrich(
        self, event: Event, ctx: ChatContext, loaded: Loaded
    ) -> Mapping[str, Mapping[str, Any]]:
        return pure.enrich(event, ctx, loaded.pure)

    def write(self, tx: ChatTx, event: Event, loaded: Loaded, result: Evaluation) -> None:
        conn, pk = tx.connection, tx.chat_pk
        env = event.envelope
        now = env.occurred_at
        fact = result.fact
        activity = loaded.pure.activity  # unchanged since load(): the chat is locked
        day = rows.day_of(now)
        counts: dict[str, int] = {}
        notice = fact.get("notice") or {}
        p = event.payload
        health_at: datetime | None = None
        if isinstance(p, Message) and pure.counted(event) and env.actor is not None:
            activity = self._message(tx, event, p, loaded.text_key, result, activity, counts)
            activity = replace(
                activity,
                recent_vocabulary=pure.remembered(
                    event, loaded.pure.theme, activity, result.fact["message"]["topic"]
                ),
            )
            if notice.get("problems"):
                counts["notices_flagged"] = 1
        elif isinstance(p, MemberJoined | MemberLeft):
            before = loaded.member_count
            after = result.changes.chat.member_count
            if isinstance(p, MemberJoined) and after > before:
                counts["joins"] = after - before
            elif isinstance(p, MemberLeft) and after < before:
                counts["leaves"] = before - after
        elif isinstance(p, ChatUpdated) and notice.get("problems"):
            counts["notices_flagged"] = 1
        elif isinstance(p, ChatTick):
            outbox.enqueue(conn, pk, tx.chat.key, env.event_id, result.decision.actions, now)
            if pure.fired_reading(result.decision, pure.REMINDER_GUARD):
                activity = replace(activity, last_reminder_at=now)
            status = fact["chat"].get("health_status")
            if isinstance(status, str):
                activity, health_at = replace(activity, health_status=status), now
            rows.prune(conn, pk, now)
        kept = tx.pending(rows.LifecycleBatch)
        kept.bump_day(pk, day, counts)
        kept.save_activity(pk, activity, health_at=health_at)

    def _message(
        self,
        tx: ChatTx,
        event: Event,
        p: Message,
        text_key: str,
        result: Evaluation,
        activity: ChatActivity,
        counts: dict[str, int],
    ) -> ChatActivity:
        pk = tx.chat_pk
        env = event.envelope
        assert env.actor is not None
        now = env.occurred_at
        message, chat, actor = result.fact["message"], result.fact["chat"], result.fact["actor"]
        window = activity.topic_window
        topic = message["topic"]
        if topic in ("on_topic", "off_topic"):
            window = (window + ("x" if topic == "off_topic" else "o"))[-pure.WINDOW :]
            counts[topic] = 1
        nudged = bool(chat["nudged_this_streak"]) or pure.fired_reading(
            result.decision, pure.NUDGE_GUARD
        )
        counts["messages"] = 1
        if message["expands_theme"]:
            counts["theme_expansions"] = 1
        tx.pending(rows.LifecycleBatch).bump_poster(pk, rows.day_of(now), env.actor.id)
        mentions = len([m for m in p.mentions if m.user_id or m.everyone])
        prune = tx.chat.message_count % rows.PRUNE_EVERY == 0
        tx.pending(rows.LifecycleBatch).add_recent(
            pk, env.actor.id, now, text_key, mentions, prune_now=prune
        )
        return replace(
            activity,
            topic_window=window,
            off_topic_streak=int(chat["off_topic_streak"]),
            nudged_this_streak=nudged,
            last_human_message_at=_later(activity.last_human_message_at, now),
            last_owner_message_at=_later(activity.last_owner_message_at, now)
            if actor["is_owner"]
            else activity.last_owner_message_at,
            last_admin_message_at=_later(activity.last_admin_message_at, now)
            if actor["is_admin"]
            else activity.last_admin_message_at,
        )
