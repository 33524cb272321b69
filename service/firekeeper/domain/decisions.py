"""What the engine answers: actions for the adapter and the trace that explains them."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class ActionType(enum.StrEnum):
    DELETE_MESSAGE = "delete_message"
    WARN_USER = "warn_user"
    MUTE = "mute"
    REMOVE = "remove"
    BAN = "ban"
    APPROVE_JOIN = "approve_join"
    DENY_JOIN = "deny_join"
    HOLD_FOR_REVIEW = "hold_for_review"
    NOTIFY_ADMINS = "notify_admins"
    POST_MESSAGE = "post_message"
    SET_SLOW_MODE = "set_slow_mode"
    PAUSE_INVITES = "pause_invites"
    # A private message to one person (the target, the actor by default): feedback
    # meant for them alone. Adapters fall back to the admins where the platform
    # cannot reach them privately (docs/adapters.md); never to the whole chat.
    MESSAGE_USER = "message_user"


class RuleMode(enum.StrEnum):
    ENFORCE = "enforce"
    SHADOW = "shadow"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class Action:
    type: ActionType
    rule_id: str
    target_user_id: str = ""
    target_message_id: str = ""
    text: str = ""
    duration_seconds: int = 0
    chat_id: str = ""
    channel_id: str = ""
    # The member the text's `{mention}` placeholder stands for; the adapter replaces
    # the placeholder with its platform's mention of them (docs/adapters.md).
    mention_user_id: str = ""


@dataclass(frozen=True, slots=True)
class RuleMatch:
    rule_id: str
    mode: RuleMode
    reason: str
    values: tuple[tuple[str, str], ...]  # (field path, JSON rendering of the value)
    # On a chat.tick: the rule whose reminder went out instead of this one's (one
    # voice per chat per period); "" when this rule's actions were not held back.
    silenced_by: str = ""


@dataclass(frozen=True, slots=True)
class FailedCondition:
    """A part of a rule's condition that was false, with the values it read."""

    condition: str  # the sub-expression's text
    values: tuple[tuple[str, str], ...]  # (field path, JSON rendering or "absent")


@dataclass(frozen=True, slots=True)
class RuleCheck:
    """Why one rule did or did not match an event (the decision's explanation)."""

    rule_id: str
    mode: RuleMode
    matched: bool
    failed: tuple[FailedCondition, ...] = ()  # when not matched
    values: tuple[tuple[str, str], ...] = ()  # every field the condition reads


@dataclass(frozen=True, slots=True)
class Decision:
    event_id: str
    actions: tuple[Action, ...]
    trace: tuple[RuleMatch, ...]
    ruleset: str
    ruleset_version: str
    decided_at: datetime
    replayed: bool = False
    # Only when asked for: every rule (not `off`) on the event's kind, matched or
    # not and why (firekeeper.rules.explain).
    explanation: tuple[RuleCheck, ...] = ()
    # Feature stages (area names) whose text checks did not run because the
    # event's time budget had run out (firekeeper.rules.evaluate); usually empty.
    skipped_stages: tuple[str, ...] = ()
    # The language of the decision's texts (one of the ruleset's, BCP 47), and
    # where it came from: "declared" at registration, "detected" from the chat's
    # messages, or the ruleset's "default" (firekeeper.rules.language).
    language: str = ""
    language_source: str = ""
