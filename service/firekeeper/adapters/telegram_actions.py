"""Actions -> Telegram Bot API calls (as data).

``method`` is the Bot API method; ``params`` its parameters (send them as JSON
to ``https://api.telegram.org/bot<token>/<method>``). Fallbacks, where the Bot
API has no method for an action, are marked ``fallback=True`` with a note.
"""

from __future__ import annotations

from firekeeper.adapters.base import NO_CALL, PlatformCall, UnmappableAction, is_number, utf16_len
from firekeeper.adapters.calls import (
    CallContext,
    admin_chat,
    admin_text,
    channel_of,
    chat_of,
    clip,
    fill_mention,
    for_whom,
    mark,
    name_of,
    private_chat,
    target_message,
    target_user,
)
from firekeeper.domain.decisions import Action, ActionType
from firekeeper.domain.events import EventKind, Platform

MESSAGE_LIMIT = 4096  # characters of a sendMessage text
_MIN_RESTRICTION_S = 30  # shorter restrictions and bans are permanent
_MAX_RESTRICTION_S = 366 * 86400  # longer ones are permanent too
SLOW_MODE_STEPS_S = (10, 30, 60, 300, 900, 3600)  # the delays the apps offer
_SEND_PERMISSIONS = (
    "can_send_messages", "can_send_audios", "can_send_documents", "can_send_photos",
    "can_send_videos", "can_send_video_notes", "can_send_voice_notes", "can_send_polls",
    "can_send_other_messages", "can_add_web_page_previews",
)  # fmt: skip


def telegram_calls(action: Action, ctx: CallContext) -> list[PlatformCall]:
    """The Bot API calls that carry out one action."""
    return [mark(call, action) for call in _calls(action, ctx)]


def _calls(action: Action, ctx: CallContext) -> list[PlatformCall]:
    chat = _chat_param(chat_of(action, ctx))
    kind = action.type
    if kind is ActionType.DELETE_MESSAGE:
        return [_call("deleteMessage", chat_id=chat, message_id=_int(target_message(action)))]
    if kind is ActionType.WARN_USER:
        return [_warn(action, ctx, chat)]
    if kind is ActionType.MUTE:
        until, note = _until(action.duration_seconds, ctx)
        permissions = dict.fromkeys(_SEND_PERMISSIONS, False)
        params: dict[str, object] = {
            "chat_id": chat,
            "user_id": _user(action),
            "permissions": permissions,
            "use_independent_chat_permissions": True,
        }
        if until is not None:
            params["until_date"] = until
        return [PlatformCall(Platform.TELEGRAM, "restrictChatMember", "", params, note)]
    if kind is ActionType.REMOVE:
        return _remove(action, chat, "")
    if kind is ActionType.BAN:
        until, note = _until(action.duration_seconds, ctx)
        params = {"chat_id": chat, "user_id": _user(action)}
        if until is not None:
            params["until_date"] = until
        return [PlatformCall(Platform.TELEGRAM, "banChatMember", "", params, note)]
    if kind is ActionType.APPROVE_JOIN:
        if ctx.event_kind is EventKind.MEMBER_JOINED:
            return [_nothing("the member is already in the chat: nothing to approve")]
        return [_call("approveChatJoinRequest", chat_id=chat, user_id=_user(action))]
    if kind is ActionType.DENY_JOIN:
        if ctx.event_kind is EventKind.MEMBER_JOINED:
            note = "fallback: the member joined without a request; denied by removing them"
            return _remove(action, chat, note)
        return [_call("declineChatJoinRequest", chat_id=chat, user_id=_user(action))]
    if kind is ActionType.HOLD_FOR_REVIEW:
        return [_hold(action, ctx)]
    if kind is ActionType.NOTIFY_ADMINS:
        return [_notify(action, ctx, "notice", "", fallback=False)]
    if kind is ActionType.MESSAGE_USER:
        if private := private_chat(action, ctx):
            params = {"chat_id": _chat_param(private), "text": clip(action.text, MESSAGE_LIMIT)}
            return [PlatformCall(Platform.TELEGRAM, "sendMessage", "", params)]
        note = (
            "fallback: a bot can write privately only to users who started it (none is known "
            "for this one); the admins are told instead, not the chat"
        )
        return [_notify(action, ctx, for_whom(action, ctx), note, fallback=True)]
    if kind is ActionType.POST_MESSAGE:
        params = {"chat_id": chat, "text": clip(action.text, MESSAGE_LIMIT)}
        params.update(_thread(action, ctx))
        return [PlatformCall(Platform.TELEGRAM, "sendMessage", "", params)]
    if kind is ActionType.SET_SLOW_MODE:
        return [_slow_mode(action, ctx)]
    if kind is ActionType.PAUSE_INVITES:
        return _pause_invites(action, ctx, chat)
    raise UnmappableAction(f"no Telegram mapping for action {kind}")


def _warn(action: Action, ctx: CallContext, chat: int | str) -> PlatformCall:
    params: dict[str, object] = {"chat_id": chat}
    who = action.mention_user_id or action.target_user_id
    if who:
        # A text_link to tg://user?id=<id> mentions a user by id, username or not; it
        # stands where the text's {mention} placeholder is (in front when it has none).
        label = name_of(who, ctx)
        text, at = fill_mention(action, label, ", ")
        body = clip(text, MESSAGE_LIMIT)
        params["text"] = body
        offset = utf16_len(text[:at])
        if offset + utf16_len(label) <= utf16_len(body):
            link = f"tg://user?id={_int(who)}"
            params["entities"] = [
                {"type": "text_link", "offset": offset, "length": utf16_len(label), "url": link}
            ]
    else:
        params["text"] = clip(fill_mention(action, "")[0], MESSAGE_LIMIT)
    if action.target_message_id:
        params["reply_parameters"] = {
            "message_id": _int(action.target_message_id),
            "allow_sending_without_reply": True,  # the message may be deleted first
        }
    params.update(_thread(action, ctx))
    return PlatformCall(Platform.TELEGRAM, "sendMessage", "", params)


def _remove(action: Action, chat: int | str, note: str) -> list[PlatformCall]:
    user = _user(action)
    why = note or "remove = ban then unban: the member is out but may rejoin"
    return [
        PlatformCall(
            Platform.TELEGRAM,
            "banChatMember",
            "",
            {"chat_id": chat, "user_id": user},
            why,
            fallback=bool(note),
        ),
        PlatformCall(
            Platform.TELEGRAM,
            "unbanChatMember",
            "",
            {"chat_id": chat, "user_id": user, "only_if_banned": True},
            why,
            fallback=bool(note),
        ),
    ]


def _hold(action: Action, ctx: CallContext) -> PlatformCall:
    who = name_of(action.target_user_id, ctx) if action.target_user_id else "a member"
    if ctx.event_kind is EventKind.MEMBER_JOINED:
        note = "fallback: the member is already in (no request to keep pending); admins are told"
        return _notify(action, ctx, f"review {who}, who joined", note, fallback=True)
    # A join request that is neither approved nor declined stays pending: that is the hold.
    note = "the join request is left pending for admins to answer"
    return _notify(action, ctx, f"join request of {who} held for review", note, fallback=False)


def _slow_mode(action: Action, ctx: CallContext) -> PlatformCall:
    seconds = max(action.duration_seconds, 0)
    step = next((s for s in SLOW_MODE_STEPS_S if s >= seconds), SLOW_MODE_STEPS_S[-1])
    what = f"set slow mode to {step} s" if seconds else "turn slow mode off"
    note = (
        "fallback: the Bot API cannot set slow mode (slow_mode_delay is read-only); "
        "admins are asked to set it in the app"
    )
    return _notify(action, ctx, what, note, fallback=True)


def _pause_invites(action: Action, ctx: CallContext, chat: int | str) -> list[PlatformCall]:
    hours = action.duration_seconds / 3600
    if not ctx.invite_links:
        note = (
            "fallback: Telegram cannot pause invites and no invite link of the bot is known; "
            "admins are asked to revoke links"
        )
        return [_notify(action, ctx, f"pause invites for {hours:g} h", note, fallback=True)]
    note = (
        "fallback: Telegram cannot pause invites; joins through this link now need approval "
        f"(join requests). Restore with creates_join_request=false after {hours:g} h. "
        "Public @username joins are not affected"
    )
    return [
        PlatformCall(
            Platform.TELEGRAM,
            "editChatInviteLink",
            "",
            {"chat_id": chat, "invite_link": link, "creates_join_request": True},
            note,
            fallback=True,
        )
        for link in ctx.invite_links
    ]


def _notify(
    action: Action, ctx: CallContext, what: str, note: str, *, fallback: bool
) -> PlatformCall:
    params = {
        "chat_id": _chat_param(admin_chat(ctx, Platform.TELEGRAM)),
        "text": clip(admin_text(action, ctx, what), MESSAGE_LIMIT),
    }
    return PlatformCall(Platform.TELEGRAM, "sendMessage", "", params, note, fallback=fallback)


def _until(seconds: int, ctx: CallContext) -> tuple[int | None, str]:
    """Bot API until_date for a duration, and a note when Telegram changes its meaning."""
    if seconds <= 0:
        return None, "no duration: until lifted"
    if seconds > _MAX_RESTRICTION_S:
        return None, "over 366 days: Telegram makes it permanent"
    note = ""
    if seconds < _MIN_RESTRICTION_S:
        seconds, note = _MIN_RESTRICTION_S, "raised to 30 s: Telegram makes shorter ones permanent"
    return int(ctx.now.timestamp()) + seconds, note


def _thread(action: Action, ctx: CallContext) -> dict[str, object]:
    channel = channel_of(action, ctx)  # a forum topic
    return {"message_thread_id": _int(channel)} if channel else {}


def _user(action: Action) -> int:
    return _int(target_user(action))


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise UnmappableAction(f"Telegram needs a numeric id here, got {value!r}") from None


def _chat_param(chat: str) -> int | str:
    """Numeric chat ids as integers; ``@channelusername`` stays a string."""
    return int(chat) if is_number(chat.removeprefix("-")) else chat


def _call(method: str, **params: object) -> PlatformCall:
    return PlatformCall(Platform.TELEGRAM, method, "", params)


def _nothing(note: str) -> PlatformCall:
    return PlatformCall(Platform.TELEGRAM, NO_CALL, "", {}, note)
