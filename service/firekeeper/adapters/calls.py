"""What action mapping needs beyond the action itself, and helpers the platforms share."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from firekeeper.adapters.base import MissingContext, PlatformCall, UnmappableAction
from firekeeper.domain.decisions import Action
from firekeeper.domain.events import EventKind, Platform


@dataclass(frozen=True, slots=True)
class CallContext:
    """The chat a decision is about and the adapter's configuration for it.

    ``chat_id`` and ``channel_id`` are used when an action leaves its own empty.
    ``now`` turns durations into the absolute times platforms want; it is
    passed in, never read from a clock. ``event_kind`` is the kind of the event
    decided on: approving or denying a join means answering a join request on
    ``join.requested`` but letting in or removing a member already in on
    ``member.joined`` (Discord and WeCom admit members before any bot sees them).
    """

    chat_id: str
    now: datetime
    channel_id: str = ""
    event_kind: EventKind | None = None
    # Where admins are told: a Telegram chat id or a Discord channel id.
    admin_chat_id: str = ""
    # WeCom: staff user ids told through the app (message/send) and the app's agentid.
    admin_user_ids: tuple[str, ...] = ()
    agent_id: int | None = None
    # WeCom: the staff member (usually the group owner) whose confirmation sends a group message.
    sender_user_id: str = ""
    # Invite links the bot manages (Telegram) / join-way config ids of the group (WeCom).
    invite_links: tuple[str, ...] = ()
    join_way_config_ids: tuple[str, ...] = ()
    # User id -> display name, to name a warned user.
    display_names: Mapping[str, str] = field(default_factory=dict)
    # User id -> the private chat the bot can write to them in (message_user):
    # Telegram: their user id once they started the bot; Discord: the DM channel
    # the bot opened with them; WeCom: a staff member's user id (admins in
    # admin_user_ids are reachable without it). A user not here is not reachable
    # privately, and the admins are told instead.
    private_chats: Mapping[str, str] = field(default_factory=dict)


def chat_of(action: Action, ctx: CallContext) -> str:
    return action.chat_id or ctx.chat_id


def channel_of(action: Action, ctx: CallContext) -> str:
    return action.channel_id or ctx.channel_id


def target_user(action: Action) -> str:
    if not action.target_user_id:
        raise UnmappableAction(f"{action.type} from rule {action.rule_id!r} names no target user")
    return action.target_user_id


def target_message(action: Action) -> str:
    if not action.target_message_id:
        raise UnmappableAction(
            f"{action.type} from rule {action.rule_id!r} names no target message"
        )
    return action.target_message_id


def admin_chat(ctx: CallContext, platform: Platform) -> str:
    if not ctx.admin_chat_id:
        raise MissingContext(
            f"telling admins on {platform} needs CallContext.admin_chat_id "
            "(the chat or channel where admins read the bot's notices)"
        )
    return ctx.admin_chat_id


def name_of(user_id: str, ctx: CallContext) -> str:
    return ctx.display_names.get(user_id) or f"user {user_id}"


MENTION = "{mention}"
"""The placeholder a warning's text carries where the warned member is mentioned
(``Action.mention_user_id``); :func:`fill_mention` replaces it (docs/adapters.md)."""


def fill_mention(action: Action, mention: str, joiner: str = " ") -> tuple[str, int]:
    """The action's text with its ``{mention}`` replaced by ``mention`` (the platform's
    mention of ``action.mention_user_id``, or their name), and where it starts.

    A text written without the placeholder (a ruleset of before it) gets the mention
    in front (then ``joiner``), as warnings always had it; a text without a member to mention keeps
    no placeholder either. Only the first placeholder is a mention: the rest are
    dropped, so nobody is pinged twice by one warning.
    """
    text = action.text
    if not (action.mention_user_id or action.target_user_id):
        return " ".join(text.replace(MENTION, "").split(" ")).strip(), -1
    at = text.find(MENTION)
    if at < 0:
        return f"{mention}{joiner}{text}", 0
    rest = text[at + len(MENTION) :].replace(MENTION, "")
    return text[:at] + mention + rest, at


def clip(value: str, limit: int) -> str:
    """At most ``limit`` characters, ending in an ellipsis when cut."""
    return value if len(value) <= limit else value[: limit - 1] + "…"


def private_chat(action: Action, ctx: CallContext) -> str:
    """Where ``action`` (a message_user) reaches its target privately; "" when it cannot."""
    return ctx.private_chats.get(action.target_user_id, "") if action.target_user_id else ""


def for_whom(action: Action, ctx: CallContext) -> str:
    """What admins read when a private message could not be delivered privately."""
    who = name_of(action.target_user_id, ctx) if action.target_user_id else "the author"
    return f"pass on to {who} privately"


def admin_text(action: Action, ctx: CallContext, what: str) -> str:
    """The text of a notice to admins: what to do, where, and which rule asked."""
    parts = [f"[firekeeper] {what}", f"chat {chat_of(action, ctx)}"]
    if action.rule_id:
        parts.append(f"rule {action.rule_id}")
    if action.text:
        parts.append(action.text)
    return " | ".join(parts)


def mark(call: PlatformCall, action: Action) -> PlatformCall:
    """The call with the action it carries out recorded on it."""
    return replace(call, action=action.type, rule_id=action.rule_id)
