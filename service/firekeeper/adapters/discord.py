"""Discord gateway dispatches -> normalized events.

Input: a gateway dispatch ``{"op": 0, "t": "MESSAGE_CREATE", "s": 42, "d": {...}}``
or its ``d`` alone with the event type passed. A guild is the chat
(``chat_id``), a channel or thread is ``channel_id``.

Event ids: ``dc:{message_id}`` for a message, ``dc:{message_id}:edit:{edited_timestamp}``
for an edit, ``dc:{guild}:{user}:{joined_at}`` for a join and
``dc:{guild}:{user}:left:{joined_at}`` for the leave that ends that membership.

What Discord does not say: who invited a member (an invite tracker may pass it
in :class:`DiscordContext`), whether a member left or was kicked, and when a
member left. What it does say without being asked: every snowflake id encodes
its creation time, so a user id gives the account's creation time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from firekeeper.adapters.base import (
    Json,
    MissingContext,
    PayloadError,
    Skipped,
    Translation,
    flag,
    from_iso,
    from_unix_ms,
    ident,
    is_number,
    number,
    obj,
    objs,
    scalars,
    text,
    unique,
)
from firekeeper.domain.events import (
    Actor,
    Attachment,
    Envelope,
    Event,
    JoinMethod,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    Mention,
    MessagePosted,
    Payload,
    Platform,
)

DISCORD_EPOCH_MS = 1420070400000  # 2015-01-01T00:00:00Z, the epoch of Discord snowflakes

_IS_CROSSPOST = 1 << 1  # message flag: copied from a followed announcement channel
_IS_VOICE_MESSAGE = 1 << 13
_USER_MESSAGE_TYPES = frozenset({0, 19, 20, 23})  # default, reply, slash / context command
_PIN_NOTICE_TYPE = 6  # CHANNEL_PINNED_MESSAGE
_REFERENCE_FORWARD = 1  # message_reference.type FORWARD (0 is DEFAULT: a reply)

_SKIP_REASONS = {
    "INVITE_CREATE": (
        "no normalized event for a new invite; track it with discord_invite() to name "
        "inviters of later joins"
    ),
    "GUILD_BAN_ADD": (
        "a ban is reported as a leave by the GUILD_MEMBER_REMOVE Discord sends with it; "
        "pass leave_reason=BANNED there if your adapter pairs the two"
    ),
}


@dataclass(frozen=True, slots=True)
class InviteUse:
    """The invite an adapter's invite tracker matched to a join (Discord does not say)."""

    code: str
    inviter_id: str = ""
    inviter_name: str = ""


@dataclass(frozen=True, slots=True)
class DiscordContext:
    tenant: str
    guild_id: str = ""  # for payloads without guild_id (REST message objects)
    # GUILD_MEMBER_REMOVE carries no time and no unique id:
    received_at: datetime | None = None  # when the adapter received the dispatch
    member_joined_at: str = ""  # joined_at of that membership, from the adapter's cache
    session_id: str = ""  # gateway session id: with the dispatch's "s", an id fallback
    leave_reason: LeaveReason = LeaveReason.UNKNOWN  # when the adapter knows better
    invite: InviteUse | None = None  # for GUILD_MEMBER_ADD


@dataclass(frozen=True, slots=True)
class DiscordInvite:
    """An invite as INVITE_CREATE or the invite resource describes it."""

    code: str
    guild_id: str = ""
    channel_id: str = ""
    inviter_id: str = ""
    inviter_name: str = ""
    created_at: datetime | None = None
    max_age_seconds: int | None = None  # 0: never expires
    max_uses: int | None = None  # 0: unlimited
    uses: int | None = None
    temporary: bool = False

    @property
    def url(self) -> str:
        return f"https://discord.gg/{self.code}"


def snowflake_time(snowflake: str) -> datetime:
    """When a Discord id was made: ``(id >> 22) + 1420070400000`` ms since the Unix epoch."""
    if not is_number(snowflake) or int(snowflake) >= 1 << 64:
        raise PayloadError("snowflake", f"not a Discord snowflake: {snowflake!r}")
    return from_unix_ms((int(snowflake) >> 22) + DISCORD_EPOCH_MS, "snowflake")


def _created_at(snowflake: str) -> datetime | None:
    try:
        return snowflake_time(snowflake)
    except PayloadError:
        return None


def discord_invite(data: Json) -> DiscordInvite:
    """An INVITE_CREATE body, or an invite object (with metadata), as a :class:`DiscordInvite`."""
    path = "invite"
    inviter = obj(data, "inviter", path)
    created = text(data, "created_at", path)
    return DiscordInvite(
        code=ident(data, "code", path),
        guild_id=text(data, "guild_id", path) or text(obj(data, "guild", path), "id", path),
        channel_id=text(data, "channel_id", path) or text(obj(data, "channel", path), "id", path),
        inviter_id=text(inviter, "id", f"{path}.inviter"),
        inviter_name=_name(inviter, {}, f"{path}.inviter"),
        created_at=from_iso(created, f"{path}.created_at") if created else None,
        max_age_seconds=number(data, "max_age", path),
        max_uses=number(data, "max_uses", path),
        uses=number(data, "uses", path),
        temporary=flag(data, "temporary"),
    )


def translate_discord(payload: Json, context: DiscordContext, event_type: str = "") -> Translation:
    """Translate one gateway dispatch (or its ``d`` with ``event_type``)."""
    seq: int | None = None
    if "op" in payload or "t" in payload:
        op = number(payload, "op", "dispatch")
        if op not in (None, 0):
            return _skip(f"gateway opcode {op} is not a dispatch", f"op{op}")
        event_type = text(payload, "t", "dispatch")
        seq = number(payload, "s", "dispatch")
        data = obj(payload, "d", "dispatch")
    elif event_type:
        data = payload
    else:
        raise PayloadError("t", "a bare dispatch body needs its event_type passed")
    if event_type in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
        return _message(data, event_type, context)
    if event_type == "GUILD_MEMBER_ADD":
        return _member_add(data, context)
    if event_type == "GUILD_MEMBER_REMOVE":
        return _member_remove(data, context, seq)
    reason = _SKIP_REASONS.get(event_type, f"{event_type or 'untyped'} has no normalized event")
    return _skip(reason, event_type)


def actor_from_user(user: Json, path: str, member: Json | None = None) -> Actor:
    """A Discord user (with its guild member, when given) as an actor."""
    uid = ident(user, "id", path)
    return Actor(
        id=uid,
        display_name=_name(user, member or {}, path),
        is_bot=flag(user, "bot") or flag(user, "system"),
        account_created_at=_created_at(uid),
    )


def message_posted(data: Json, path: str = "d") -> MessagePosted:
    """The content of a message object: text, embeds, files, mentions, reply or forward."""
    flags = number(data, "flags", path) or 0
    body = text(data, "content", path)
    files = objs(data, "attachments", path)
    embeds = objs(data, "embeds", path)
    reference = obj(data, "message_reference", path)
    ref_path = f"{path}.message_reference"
    ref_type = number(reference, "type", ref_path) or 0
    is_forward = bool(reference) and (bool(flags & _IS_CROSSPOST) or ref_type == _REFERENCE_FORWARD)
    if ref_type == _REFERENCE_FORWARD:  # a forward's content is in its snapshot
        for i, snapshot in enumerate(objs(data, "message_snapshots", path)):
            inner = obj(snapshot, "message", f"{path}.message_snapshots[{i}]")
            body = body or text(inner, "content", path)
            files += objs(inner, "attachments", path)
            embeds += objs(inner, "embeds", path)
    reply_id = reply_user = ""
    if reference and not is_forward:
        reply_id = text(reference, "message_id", ref_path)
        author = obj(obj(data, "referenced_message", path), "author", path)
        reply_user = text(author, "id", path)
    attachments = [_file(f, flags, f"{path}.attachments") for f in files]
    attachments += [
        Attachment(
            "link_card",
            url=text(e, "url", path),
            title=text(e, "title", path),
            description=text(e, "description", path),
        )
        for e in embeds
    ]
    for sticker in objs(data, "sticker_items", path):
        attachments.append(Attachment("sticker", title=text(sticker, "name", path)))
    poll = obj(data, "poll", path)
    if poll:
        question = text(obj(poll, "question", f"{path}.poll"), "text", f"{path}.poll")
        attachments.append(Attachment("poll", title=question))
    mentions = [
        Mention(user_id=ident(u, "id", f"{path}.mentions")) for u in objs(data, "mentions", path)
    ]
    mentions += [Mention(role_id=r) for r in scalars(data, "mention_roles", path) if r]
    if flag(data, "mention_everyone"):  # @everyone and @here
        mentions.append(Mention(everyone=True))
    return MessagePosted(
        message_id=ident(data, "id", path),
        text=body,
        links=unique(a.url for a in attachments if a.kind == "link_card" and a.url),
        mentions=unique(mentions),
        attachments=tuple(attachments),
        reply_to_message_id=reply_id,
        reply_to_user_id=reply_user,
        is_forward=is_forward,
        forwarded_from=text(reference, "channel_id", ref_path) if is_forward else "",
        is_pinned_notice=flag(data, "pinned"),
    )


# ------------------------------------------------------------------ handlers


def _message(data: Json, event_type: str, ctx: DiscordContext) -> Translation:
    guild = text(data, "guild_id", "d") or ctx.guild_id
    if not guild:
        return _skip("a direct message (no guild_id): only guilds are governed", event_type)
    message_id = ident(data, "id", "d")
    if "author" not in data:
        return _skip("a partial message update without its author", event_type)
    actor = actor_from_user(obj(data, "author", "d"), "d.author", obj(data, "member", "d"))
    if data.get("webhook_id"):  # a webhook posts as a bot-like user
        actor = replace(actor, is_bot=True)
    kind = number(data, "type", "d") or 0
    channel = text(data, "channel_id", "d")
    if event_type == "MESSAGE_UPDATE":
        edited = text(data, "edited_timestamp", "d")
        if not edited:
            return _skip(
                "an update without edited_timestamp (embeds resolved), not an edit", event_type
            )
        payload = replace(message_posted(data), is_edit=True)
        when = from_iso(edited, "d.edited_timestamp")
        return _one(ctx, f"dc:{message_id}:edit:{edited}", guild, channel, when, actor, payload)
    when = from_iso(text(data, "timestamp", "d"), "d.timestamp")
    if kind == _PIN_NOTICE_TYPE:
        pinned = text(obj(data, "message_reference", "d"), "message_id", "d.message_reference")
        payload = MessagePosted(message_id=pinned or message_id, is_pinned_notice=True)
        return _one(ctx, f"dc:{message_id}", guild, channel, when, actor, payload)
    if kind not in _USER_MESSAGE_TYPES:
        return _skip(f"system message of type {kind} has no normalized event", event_type)
    return _one(ctx, f"dc:{message_id}", guild, channel, when, actor, message_posted(data))


def _member_add(data: Json, ctx: DiscordContext) -> Translation:
    guild = text(data, "guild_id", "d") or ctx.guild_id
    if not guild:
        raise MissingContext("GUILD_MEMBER_ADD without guild_id: pass DiscordContext.guild_id")
    member = actor_from_user(obj(data, "user", "d"), "d.user", data)
    joined_at = text(data, "joined_at", "d")
    if not joined_at:
        raise PayloadError("d.joined_at", "required join time is missing")
    invite = ctx.invite
    if invite is None:  # Discord never says how or by whom a member was invited
        payload = MemberJoined(member)
    else:
        inviter = Actor(
            id=invite.inviter_id,
            display_name=invite.inviter_name,
            account_created_at=_created_at(invite.inviter_id),
        )
        payload = MemberJoined(
            member,
            inviter=inviter if invite.inviter_id else None,
            method=JoinMethod.INVITE_LINK,
            invite_link=f"https://discord.gg/{invite.code}",
        )
    when = from_iso(joined_at, "d.joined_at")
    event_id = f"dc:{guild}:{member.id}:{joined_at}"
    return _one(ctx, event_id, guild, "", when, member, payload)


def _member_remove(data: Json, ctx: DiscordContext, seq: int | None) -> Translation:
    guild = text(data, "guild_id", "d") or ctx.guild_id
    if not guild:
        raise MissingContext("GUILD_MEMBER_REMOVE without guild_id: pass DiscordContext.guild_id")
    member = actor_from_user(obj(data, "user", "d"), "d.user")
    if ctx.member_joined_at:
        event_id = f"dc:{guild}:{member.id}:left:{ctx.member_joined_at}"
    elif ctx.session_id and seq is not None:
        event_id = f"dc:{guild}:{member.id}:left:{ctx.session_id}:{seq}"
    else:
        raise MissingContext(
            "GUILD_MEMBER_REMOVE carries no unique id: pass DiscordContext.member_joined_at "
            "(from your member cache) or session_id with the full dispatch (for its 's')"
        )
    if ctx.received_at is None:
        raise MissingContext("GUILD_MEMBER_REMOVE carries no time: pass DiscordContext.received_at")
    payload = MemberLeft(member, reason=ctx.leave_reason)
    return _one(ctx, event_id, guild, "", ctx.received_at, member, payload)


# ------------------------------------------------------------------ helpers


def _name(user: Json, member: Json, path: str) -> str:
    return (
        text(member, "nick", path)
        or text(user, "global_name", path)
        or text(user, "username", path)
    )


def _file(item: Json, flags: int, path: str) -> Attachment:
    content_type = text(item, "content_type", path)
    major = content_type.split("/", 1)[0]
    if major == "audio" and flags & _IS_VOICE_MESSAGE:
        kind = "voice"
    else:
        kind = {"image": "image", "video": "video", "audio": "audio"}.get(major, "file")
    return Attachment(
        kind,
        url=text(item, "url", path),
        title=text(item, "title", path),
        description=text(item, "description", path),
        file_name=text(item, "filename", path),
    )


def _one(
    ctx: DiscordContext,
    event_id: str,
    guild: str,
    channel: str,
    when: datetime,
    actor: Actor,
    payload: Payload,
) -> Translation:
    envelope = Envelope(
        event_id=event_id,
        platform=Platform.DISCORD,
        tenant=ctx.tenant,
        chat_id=guild,
        occurred_at=when,
        actor=actor,
        channel_id=channel,
    )
    return Translation(events=(Event(envelope, payload),))


def _skip(reason: str, native_type: str) -> Translation:
    return Translation(skipped=(Skipped(reason, native_type),))
