"""The lifecycle area's pure feature stage: topic windows, flood counts, notices, ticks.

``firekeeper.areas.lifecycle.area.LifecycleArea.load`` reads a :class:`LifecycleLoad`
under the chat's lock; :func:`enrich` turns it and the event into fact
sections; the area's ``write`` stores what changed, reading the enriched fact
(``Evaluation.fact``) so both sides agree on what this event was.

Windows (documented in docs/lifecycle.md):

- topic window: the last :data:`WINDOW` messages judged on or off topic
  (neutral and unscored ones do not enter it); ``chat.off_topic_streak`` counts
  off-topic messages since the last on-topic one (neutral ones neither break
  nor extend it); every count includes the event's own message;
- flood: the actor's messages and mentions in the last minute, the chat's
  messages in the last minute, the actor's identical texts in the last
  :data:`REPEAT_WINDOW_SECONDS`; edits and bots do not count.

"One nudge per streak": a rule whose condition reads ``chat.nudged_this_streak``
marks the streak nudged when it fires enforced with an action; the flag holds
until an on-topic message ends the streak. Likewise on ``chat.tick``, a rule
reading ``chat.days_since_reminder`` restarts the chat's reminder clock.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from firekeeper.areas.lifecycle.pure import announcements, theme_vocab, topic
from firekeeper.areas.lifecycle.pure.health import maturity, status
from firekeeper.domain.chats import ChatContext, Theme
from firekeeper.domain.decisions import Decision, RuleMode
from firekeeper.domain.events import ChatTick, ChatUpdated, Event, MessagePosted
from firekeeper.domain.health import HealthMetrics
from firekeeper.rules import features
from firekeeper.rules.facts import effective_role
from firekeeper.rules.textchecks import Check
from firekeeper.rules.textmatch import fold

AREA = "lifecycle"
WINDOW = 20
REPEAT_WINDOW_SECONDS = 600
RATE_WINDOW_SECONDS = 60
NUDGE_GUARD = "chat.nudged_this_streak"
REMINDER_GUARD = "chat.days_since_reminder"


@dataclass(frozen=True, slots=True)
class ChatActivity:
    """The lifecycle row of one chat (defaults: never seen)."""

    topic_window: str = ""  # "o" on topic, "x" off topic; oldest first, at most WINDOW
    off_topic_streak: int = 0
    nudged_this_streak: bool = False
    first_seen_at: datetime | None = None
    last_human_message_at: datetime | None = None
    last_owner_message_at: datetime | None = None
    last_admin_message_at: datetime | None = None
    last_reminder_at: datetime | None = None
    health_status: str = ""
    # the words members used on the theme lately, with decaying weights (theme_vocab)
    recent_vocabulary: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True, slots=True)
class RecentActivity:
    """Counts before the event (message events only)."""

    actor_last_minute: int = 0
    actor_mentions_last_minute: int = 0
    same_text_recent: int = 0
    chat_last_minute: int = 0


@dataclass(frozen=True, slots=True)
class LifecycleLoad:
    activity: ChatActivity
    theme: Theme = field(default_factory=Theme)  # the chat's, else its ruleset's
    new_themes_30d: int = 0  # before the event
    recent: RecentActivity | None = None  # message.posted
    health: HealthMetrics | None = None  # chat.tick


def text_key(text: str) -> str:
    """Identity of a text for repeat counting: folded, whitespace collapsed, hashed."""
    folded = " ".join(features.of(text).folded.split())  # the fold the matcher shares
    return hashlib.blake2b(folded.encode(), digest_size=12).hexdigest()


def _days(now: datetime, then: datetime | None) -> int | None:
    return None if then is None else max(0, int((now - then).total_seconds() // 86_400))


def fired_reading(decision: Decision, path: str) -> bool:
    """An enforced rule that reads ``path`` matched and asked for at least one action."""
    acting = {a.rule_id for a in decision.actions}
    return any(
        m.mode is RuleMode.ENFORCE and m.rule_id in acting and any(f == path for f, _ in m.values)
        for m in decision.trace
    )


def notice_section(text: str, language: str = "") -> dict[str, Any]:
    """``language``: the chat's; the suggestion is written in it (else in the notice's script)."""
    c = announcements.check(text)
    return {
        "present": True,
        "length": c.length,
        "line_count": c.line_count,
        "reading_seconds": c.reading_seconds,
        "first_line": c.first_line,
        "first_line_clear": c.first_line_clear,
        "is_wall": c.is_wall,
        "too_short": c.too_short,
        "says_what": c.has_what,
        "says_when": c.has_when,
        "says_where": c.has_where,
        "states_rules": c.states_rules,
        "announces_change": c.announces_change,
        "unclear": c.unclear,
        "missing": list(c.missing),
        "problems": list(c.problems),
        "suggestion": announcements.suggestion_for(c, language) if language else c.suggestion,
    }


def theme_name(title: str, language: str) -> str:
    """The chat's theme in words for people: its title, quoted the language's way."""
    zh = language.split("-")[0].lower() == "zh"
    title = " ".join(title.split())[:60]
    if not title:
        return "本群的主题" if zh else "what this group is about"
    return f"「{title}」" if zh else f'"{title}"'


def counted(event: Event) -> bool:
    """A message that enters windows and daily counts: a person's, not an edit."""
    p = event.payload
    actor = event.envelope.actor
    return isinstance(p, MessagePosted) and not p.is_edit and actor is not None and not actor.is_bot


def remembered(
    event: Event, theme: Theme, activity: ChatActivity, topic_judged: str
) -> theme_vocab.Remembered:
    """The chat's recent vocabulary after this event (the writer stores it): an on-topic
    message by a person, under the chat's own theme, adds its words."""
    p = event.payload
    env = event.envelope
    if (
        not isinstance(p, MessagePosted)
        or not counted(event)
        or topic_judged != "on_topic"
        or not topic.own_theme(theme, env.channel_id, env.thread_id)
    ):
        return activity.recent_vocabulary
    return topic.remember(activity.recent_vocabulary, p.text, topic.theme_for(theme))


def enrich(
    event: Event, ctx: ChatContext, loaded: LifecycleLoad
) -> Mapping[str, Mapping[str, Any]]:
    p = event.payload
    chat: dict[str, Any] = {
        "theme_keywords": list(loaded.theme.keywords),
        "theme_name": theme_name(ctx.chat.title, ctx.language),
    }
    out: dict[str, dict[str, Any]] = {"chat": chat}
    window = loaded.activity.topic_window
    if window:
        chat["off_topic_share"] = round(window.count("x") / len(window), 2)
    chat["topic_window_size"] = len(window)
    if isinstance(p, MessagePosted):
        _message(event, p, ctx, loaded, out)
        notice = (p.is_announcement or p.is_pinned_notice) and bool(p.text.strip())
        out["notice"] = notice_section(p.text, ctx.language) if notice else {"present": False}
    elif isinstance(p, ChatUpdated):
        if p.announcement_changed and p.announcement_text.strip():
            out["notice"] = notice_section(p.announcement_text, ctx.language)
        else:
            out["notice"] = {"present": False}
    elif isinstance(p, ChatTick):
        _tick(event, p, ctx, loaded, out)
    return out


def _message(
    event: Event,
    p: MessagePosted,
    ctx: ChatContext,
    loaded: LifecycleLoad,
    out: dict[str, dict[str, Any]],
) -> None:
    env = event.envelope
    actor = env.actor
    is_counted = counted(event)
    if actor is not None and actor.is_bot:
        result = topic.UNSCORED
    else:
        stickers = bool(p.attachments) and all(a.kind == "sticker" for a in p.attachments)
        theme = topic.theme_for(loaded.theme, env.channel_id, env.thread_id)
        lately = (
            theme_vocab.recent(loaded.activity.recent_vocabulary)
            if topic.own_theme(loaded.theme, env.channel_id, env.thread_id)
            else frozenset()
        )
        result = topic.score(
            p.text, theme, sticker_only=not p.text.strip() and stickers, recent=lately
        )
    role = effective_role(ctx.chat, actor, ctx.members.get(actor.id) if actor else None)
    is_admin = role.value in ("admin", "owner")
    activity_cue = p.is_announcement or p.is_pinned_notice or topic.announces_activity(p.text)
    expands = (
        is_admin and activity_cue and topic.expands_theme(result, opens=topic.opens_section(p.text))
    )
    message: dict[str, Any] = {
        "topic": result.topic,
        "is_social": result.is_social,
        "off_topic": result.off_topic,
        "theme_hits": list(result.hits),
        "announces_activity": activity_cue,
        "expands_theme": expands,
    }
    if result.score is not None:
        message["topic_score"] = result.score
    recent = loaded.recent or RecentActivity()
    own = 1 if is_counted else 0
    message["repeat_count"] = recent.same_text_recent + (own if p.text.strip() else 0)
    out["message"] = message

    a = loaded.activity
    window, streak, nudged = a.topic_window, a.off_topic_streak, a.nudged_this_streak
    if is_counted and result.scored:
        window = (window + ("x" if result.off_topic else "o"))[-WINDOW:]
        if result.off_topic:
            nudged = nudged and streak > 0
            streak += 1
        else:
            streak, nudged = 0, False
    chat = out["chat"]
    chat["off_topic_streak"] = streak
    chat["nudged_this_streak"] = nudged
    chat["topic_window_size"] = len(window)
    if window:
        chat["off_topic_share"] = round(window.count("x") / len(window), 2)
    else:
        chat.pop("off_topic_share", None)
    chat["new_themes_30d"] = loaded.new_themes_30d + (1 if expands and is_counted else 0)
    chat["messages_last_minute"] = recent.chat_last_minute + own
    mentions = len([m for m in p.mentions if m.user_id or m.everyone])
    out["actor"] = {
        "messages_last_minute": recent.actor_last_minute + own,
        "mentions_last_minute": recent.actor_mentions_last_minute + (mentions if own else 0),
    }


def _tick(
    event: Event,
    p: ChatTick,
    ctx: ChatContext,
    loaded: LifecycleLoad,
    out: dict[str, dict[str, Any]],
) -> None:
    now = event.envelope.occurred_at
    out["tick"] = {"period": p.period_seconds}
    chat = out["chat"]
    reminded = _days(now, loaded.activity.last_reminder_at)
    if reminded is not None:
        chat["days_since_reminder"] = reminded
    m = loaded.health
    if m is None:
        return
    for name in ("days_since_owner_spoke", "days_since_admin_spoke", "days_since_last_message"):
        value = getattr(m, name)
        if value is not None:
            chat[name] = value
    chat["messages_7d"] = m.messages_7d
    if m.activity_trend is not None:
        chat["activity_trend"] = m.activity_trend
    chat["weeks_falling"] = m.weeks_falling
    chat["activity_declining"] = m.activity_declining
    if m.activity_drop_percent is not None:
        chat["activity_drop_percent"] = m.activity_drop_percent
    if m.messages_usual_week is not None:
        chat["messages_usual_week"] = m.messages_usual_week
    chat["active_posters_30d"] = m.monthly_active_posters
    chat["new_themes_30d"] = m.new_themes_30d
    chat["health_status"] = status(m, ctx.chat.kind)[0].value
    chat["maturity"] = maturity(m, ctx.chat.kind)
    chat["others_active_30d"] = m.others_active_30d


# the lifecycle area's checks on user text, timed with the others
# (firekeeper.area_registry.text_checks)
_THEME = topic.compile_theme(
    ("reading", "books", "novel"),
    ("读书会", "book club"),
    ("Which translation are you reading?", "这周读到第三章了，结尾太意外"),
)
TEXT_CHECKS: tuple[Check, ...] = (
    Check("topic_score", topic.__name__, lambda text: topic.score(text, _THEME)),
    Check("social", topic.__name__, topic.is_social),
    Check("theme_features", theme_vocab.__name__, lambda text: theme_vocab.features(fold(text))),
    Check("announces_activity", topic.__name__, topic.announces_activity),
    Check("opens_section", topic.__name__, topic.opens_section),
    Check("notice", announcements.__name__, announcements.check),
    Check("repeat_key", __name__, text_key),
)
