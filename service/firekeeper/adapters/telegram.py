"""Telegram Bot API updates -> normalized events.

Input: one ``Update`` object as the Bot API sends it (webhook body or one item
of ``getUpdates``), parsed from JSON. Only group and supergroup chats are
governed; private chats and channels give a :class:`Skipped` note.

Event ids: ``tg:{update_id}``; an update listing several new members gives one
event per member, ``tg:{update_id}:{user_id}`` (always suffixed for
``new_chat_members``, even for one member). Telegram redelivers an update with
the same ``update_id``, so a retry maps to the same id.

What Telegram does not say, and is left unset rather than guessed:
account creation times; the invite link on a join reported by a service
message; whether a member removed by a service message was banned or kicked.
``docs/adapters.md`` has the full mapping table.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime

from firekeeper.adapters.base import (
    Json,
    PayloadError,
    Skipped,
    Translation,
    flag,
    from_unix,
    ident,
    number,
    obj,
    objs,
    text,
)
from firekeeper.adapters.telegram_content import (
    NON_CONTENT_FIELDS,
    actor_from_user,
    is_content,
    message_posted,
    message_sender,
    placement,
)
from firekeeper.domain.events import (
    Actor,
    ChatUpdated,
    Envelope,
    Event,
    JoinMethod,
    JoinRequested,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    Payload,
    Platform,
    Role,
    RoleChanged,
)

GROUP_CHAT_TYPES = frozenset({"group", "supergroup"})


class MembershipSource(enum.StrEnum):
    """Which of Telegram's two reports of a join or leave becomes the event.

    Telegram reports a join twice when the bot is an admin that asked for
    ``chat_member`` updates (``allowed_updates``): once as a service message
    (``new_chat_members`` / ``left_chat_member``) and once as a ``chat_member``
    update. Translating both would count the member twice, so one is chosen.
    ``chat_member`` updates are richer (invite link, join request, ban vs
    kick) but are only sent to admins that ask for them; service messages
    always arrive. Role changes come only from ``chat_member`` and are
    translated whatever the source.
    """

    SERVICE_MESSAGES = "service_messages"
    CHAT_MEMBER = "chat_member"


@dataclass(frozen=True, slots=True)
class TelegramContext:
    tenant: str
    membership_source: MembershipSource = MembershipSource.SERVICE_MESSAGES


_SKIPPED_UPDATES = {
    "my_chat_member": "the bot's own membership changed; no member event",
    "channel_post": "channel posts are broadcasts, not group chat",
    "edited_channel_post": "channel posts are broadcasts, not group chat",
}


def translate_telegram(update: Json, context: TelegramContext) -> Translation:
    """Translate one Bot API ``Update``."""
    event_id = f"tg:{ident(update, 'update_id', 'update')}"
    for key in ("message", "edited_message"):
        if key in update:
            return _message_update(obj(update, key, "update"), key, event_id, context)
    if "chat_member" in update:
        return _chat_member(obj(update, "chat_member", "update"), event_id, context)
    if "chat_join_request" in update:
        return _join_request(obj(update, "chat_join_request", "update"), event_id, context)
    kind = next((k for k in update if k != "update_id"), "empty")
    reason = _SKIPPED_UPDATES.get(kind, f"update type {kind!r} has no normalized event")
    return _skip(reason, kind)


# ------------------------------------------------------------------ messages


def _message_update(msg: Json, key: str, event_id: str, ctx: TelegramContext) -> Translation:
    path = f"update.{key}"
    chat = obj(msg, "chat", path)
    if not_group := _not_group(chat, path, key):
        return not_group
    env = _Env(ctx, event_id, chat, _date(msg, path), *placement(msg, path))

    if "new_chat_members" in msg:
        return _service_joins(msg, path, env)
    if "left_chat_member" in msg:
        return _service_leave(msg, path, env)
    sender = message_sender(msg, path, env.chat_id)
    if "pinned_message" in msg:
        pinned = obj(msg, "pinned_message", path)
        if number(pinned, "date", f"{path}.pinned_message") == 0:  # InaccessibleMessage
            notice = MessagePosted(message_id=ident(pinned, "message_id", f"{path}.pinned_message"))
        else:
            notice = message_posted(pinned, f"{path}.pinned_message")
        return env.one(sender, replace(notice, is_pinned_notice=True))
    if "new_chat_title" in msg:
        title = text(msg, "new_chat_title", path)
        return env.one(sender, ChatUpdated(title=title, title_changed=True))
    if not is_content(msg, path):
        service = next((k for k in msg if k not in NON_CONTENT_FIELDS), "unknown")
        reason = f"service message {service!r} has no normalized event"
        if service == "migrate_to_chat_id":
            reason += "; the group became a supergroup with a new chat id: register that id"
        return _skip(reason, f"{key}/{service}")
    return env.one(sender, message_posted(msg, path, is_edit=key == "edited_message"))


# ------------------------------------------------------------------ membership


def _service_joins(msg: Json, path: str, env: _Env) -> Translation:
    if env.ctx.membership_source is MembershipSource.CHAT_MEMBER:
        return _skip("joins are taken from chat_member updates", "message/new_chat_members")
    by = obj(msg, "from", path)
    adder = actor_from_user(by, f"{path}.from") if by else None
    events = []
    for i, user in enumerate(objs(msg, "new_chat_members", path)):
        member = actor_from_user(user, f"{path}.new_chat_members[{i}]")
        if adder is not None and adder.id != member.id:
            payload = MemberJoined(member, inviter=adder, method=JoinMethod.ADDED_BY_MEMBER)
            actor = adder
        else:  # joined by themself: a public group, or an invite link the message does not name
            payload = MemberJoined(member, method=env.self_join_method)
            actor = member
        events.append(env.event(f"{env.event_id}:{member.id}", actor, payload))
    return Translation(events=tuple(events))


def _service_leave(msg: Json, path: str, env: _Env) -> Translation:
    if env.ctx.membership_source is MembershipSource.CHAT_MEMBER:
        return _skip("leaves are taken from chat_member updates", "message/left_chat_member")
    member = actor_from_user(obj(msg, "left_chat_member", path), f"{path}.left_chat_member")
    by = obj(msg, "from", path)
    remover = actor_from_user(by, f"{path}.from") if by else None
    if remover is not None and remover.id != member.id:
        # A ban and a kick look the same here; chat_member updates tell them apart.
        return env.one(remover, MemberLeft(member, LeaveReason.REMOVED, removed_by=remover))
    return env.one(member, MemberLeft(member, LeaveReason.LEFT))


_STATUS: dict[str, tuple[bool | None, Role]] = {
    "creator": (True, Role.OWNER),
    "administrator": (True, Role.ADMIN),
    "member": (True, Role.MEMBER),
    "restricted": (None, Role.RESTRICTED),  # in the chat when is_member is true
    "left": (False, Role.MEMBER),
    "kicked": (False, Role.MEMBER),
}


def _status(member: Json, path: str) -> tuple[bool, Role, str]:
    status = text(member, "status", path)
    if status not in _STATUS:
        raise PayloadError(f"{path}.status", f"unknown chat member status {status!r}")
    inside, role = _STATUS[status]
    return (flag(member, "is_member") if inside is None else inside), role, status


def _chat_member(update: Json, event_id: str, ctx: TelegramContext) -> Translation:
    path = "update.chat_member"
    chat = obj(update, "chat", path)
    if not_group := _not_group(chat, path, "chat_member"):
        return not_group
    env = _Env(ctx, event_id, chat, _date(update, path))
    actor = actor_from_user(obj(update, "from", path), f"{path}.from")
    was_in, old_role, _ = _status(obj(update, "old_chat_member", path), f"{path}.old_chat_member")
    new = obj(update, "new_chat_member", path)
    is_in, new_role, new_status = _status(new, f"{path}.new_chat_member")
    user_path = f"{path}.new_chat_member.user"
    member = actor_from_user(obj(new, "user", user_path), user_path, new_role)
    from_service = ctx.membership_source is MembershipSource.SERVICE_MESSAGES

    if not was_in and is_in:
        if from_service:
            return _skip("joins are taken from service messages", "chat_member/joined")
        link = obj(update, "invite_link", path)
        creator = obj(link, "creator", f"{path}.invite_link")
        inviter = actor_from_user(creator, f"{path}.invite_link.creator") if creator else None
        if flag(update, "via_join_request"):
            method = JoinMethod.JOIN_REQUEST
        elif link or flag(update, "via_chat_folder_invite_link"):
            method = JoinMethod.INVITE_LINK
        elif actor.id != member.id:
            method, inviter = JoinMethod.ADDED_BY_MEMBER, actor
        else:
            method = env.self_join_method
        invite = text(link, "invite_link", f"{path}.invite_link")
        return env.one(actor, MemberJoined(member, inviter, method, invite_link=invite))
    if was_in and not is_in:
        if from_service:
            return _skip("leaves are taken from service messages", "chat_member/left")
        member = replace(member, role=old_role)
        by_other = actor.id != member.id
        if new_status == "kicked":
            reason = LeaveReason.BANNED
        else:
            reason = LeaveReason.REMOVED if by_other else LeaveReason.LEFT
        return env.one(actor, MemberLeft(member, reason, removed_by=actor if by_other else None))
    if was_in and is_in and old_role != new_role:
        return env.one(actor, RoleChanged(member, old_role=old_role, new_role=new_role))
    return _skip("no change of membership or role (permissions or rights edited)", "chat_member")


def _join_request(request: Json, event_id: str, ctx: TelegramContext) -> Translation:
    path = "update.chat_join_request"
    chat = obj(request, "chat", path)
    if not_group := _not_group(chat, path, "chat_join_request"):
        return not_group
    env = _Env(ctx, event_id, chat, _date(request, path))
    member = actor_from_user(obj(request, "from", path), f"{path}.from")
    link = obj(request, "invite_link", path)
    creator = obj(link, "creator", f"{path}.invite_link")
    payload = JoinRequested(
        member,
        bio=text(request, "bio", path),
        invite_link=text(link, "invite_link", f"{path}.invite_link"),
        inviter=actor_from_user(creator, f"{path}.invite_link.creator") if creator else None,
    )
    return env.one(member, payload)


# ------------------------------------------------------------------ helpers


@dataclass(frozen=True, slots=True)
class _Env:
    ctx: TelegramContext
    event_id: str
    chat: Json
    occurred_at: datetime
    channel_id: str = ""
    thread_id: str = ""

    @property
    def chat_id(self) -> str:
        return ident(self.chat, "id", "chat")

    @property
    def self_join_method(self) -> JoinMethod:
        # A public group (it has a username) can be joined by anyone; in a private one a
        # self-join came through a link or request Telegram does not name here.
        return JoinMethod.SELF if self.chat.get("username") else JoinMethod.UNKNOWN

    def event(self, event_id: str, actor: Actor, payload: Payload) -> Event:
        envelope = Envelope(
            event_id=event_id,
            platform=Platform.TELEGRAM,
            tenant=self.ctx.tenant,
            chat_id=self.chat_id,
            occurred_at=self.occurred_at,
            actor=actor,
            channel_id=self.channel_id,
            thread_id=self.thread_id,
        )
        return Event(envelope, payload)

    def one(self, actor: Actor, payload: Payload) -> Translation:
        return Translation(events=(self.event(self.event_id, actor, payload),))


def _date(data: Json, path: str) -> datetime:
    value = number(data, "date", path)
    if value is None:
        raise PayloadError(f"{path}.date", "required date is missing")
    return from_unix(value, f"{path}.date")


def _not_group(chat: Json, path: str, native: str) -> Translation | None:
    chat_type = text(chat, "type", f"{path}.chat") or "unknown"
    if chat_type in GROUP_CHAT_TYPES:
        return None
    return _skip(f"{chat_type} chat: only groups are governed", f"{native}/{chat_type}")


def _skip(reason: str, native_type: str) -> Translation:
    return Translation(skipped=(Skipped(reason, native_type),))
