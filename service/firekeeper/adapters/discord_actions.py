"""Actions -> Discord REST calls (as data).

``method`` is the HTTP verb, ``route`` the path under ``https://discord.com/api/v10``
with ids filled in, ``params`` the JSON body. Moderation calls carry an
``X-Audit-Log-Reason`` header naming the rule. Fallbacks are marked
``fallback=True`` with a note.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from urllib.parse import quote

from firekeeper.adapters.base import NO_CALL, PlatformCall, UnmappableAction, to_iso
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
    private_chat,
    target_message,
    target_user,
)
from firekeeper.domain.decisions import Action, ActionType
from firekeeper.domain.events import Platform

MESSAGE_LIMIT = 2000  # characters of message content
MAX_TIMEOUT_S = 28 * 86400  # communication_disabled_until: at most 28 days ahead
MAX_SLOW_MODE_S = 21600  # rate_limit_per_user: 0..21600 seconds
MAX_INVITE_PAUSE_S = 86400  # invites_disabled_until: at most 24 hours ahead


def discord_calls(action: Action, ctx: CallContext) -> list[PlatformCall]:
    """The REST calls that carry out one action."""
    return [mark(call, action) for call in _calls(action, ctx)]


def _calls(action: Action, ctx: CallContext) -> list[PlatformCall]:
    guild = chat_of(action, ctx)
    kind = action.type
    if kind is ActionType.DELETE_MESSAGE:
        route = f"/channels/{_channel(action, ctx)}/messages/{target_message(action)}"
        return [_call("DELETE", route, {}, action)]
    if kind is ActionType.WARN_USER:
        user = action.mention_user_id or target_user(action)
        body: dict[str, object] = {
            "content": clip(fill_mention(action, f"<@{user}>")[0], MESSAGE_LIMIT),
            "allowed_mentions": {"parse": [], "users": [user]},
        }
        if action.target_message_id:
            # fail_if_not_exists false: the warned message may have been deleted first.
            body["message_reference"] = {
                "message_id": action.target_message_id,
                "fail_if_not_exists": False,
            }
        return [_call("POST", f"/channels/{_channel(action, ctx)}/messages", body)]
    if kind is ActionType.MUTE:
        seconds, note = action.duration_seconds, ""
        if seconds <= 0 or seconds > MAX_TIMEOUT_S:
            seconds = MAX_TIMEOUT_S
            note = "fallback: Discord timeouts last at most 28 days; set to 28 days"
        until = to_iso(ctx.now + timedelta(seconds=seconds))
        route = f"/guilds/{guild}/members/{target_user(action)}"
        body = {"communication_disabled_until": until}
        return [_call("PATCH", route, body, action, note)]
    if kind is ActionType.REMOVE:
        return [_kick(action, guild, "")]
    if kind is ActionType.BAN:
        route = f"/guilds/{guild}/bans/{target_user(action)}"
        note = ""
        if action.duration_seconds > 0:
            note = (
                f"fallback: Discord bans do not expire; lift it after "
                f"{action.duration_seconds} s with DELETE {route}"
            )
        return [_call("PUT", route, {}, action, note)]
    if kind is ActionType.APPROVE_JOIN:
        note = "Discord admits members before a bot sees them: nothing to approve"
        return [PlatformCall(Platform.DISCORD, NO_CALL, "", {}, note)]
    if kind is ActionType.DENY_JOIN:
        return [_kick(action, guild, "fallback: Discord has no join requests; denied by a kick")]
    if kind is ActionType.HOLD_FOR_REVIEW:
        note = (
            "fallback: Discord has no pending state a bot controls; the member is in and "
            "admins are told (add a mute rule to silence them meanwhile)"
        )
        return [_notify(action, ctx, f"review <@{target_user(action)}>", note)]
    if kind is ActionType.NOTIFY_ADMINS:
        return [_notify(action, ctx, "notice", "")]
    if kind is ActionType.MESSAGE_USER:
        if private := private_chat(action, ctx):
            body = {"content": clip(action.text, MESSAGE_LIMIT), "allowed_mentions": {"parse": []}}
            return [_call("POST", f"/channels/{private}/messages", body)]
        note = (
            "fallback: no DM channel with this member is known (the bot opens one with "
            "POST /users/@me/channels and passes it in CallContext.private_chats); the "
            "admins are told instead, not the channel"
        )
        return [_notify(action, ctx, for_whom(action, ctx), note)]
    if kind is ActionType.POST_MESSAGE:
        body = {"content": clip(action.text, MESSAGE_LIMIT), "allowed_mentions": {"parse": []}}
        return [_call("POST", f"/channels/{_channel(action, ctx)}/messages", body)]
    if kind is ActionType.SET_SLOW_MODE:
        seconds = min(max(action.duration_seconds, 0), MAX_SLOW_MODE_S)
        note = ""
        if action.duration_seconds > MAX_SLOW_MODE_S:
            note = "fallback: Discord slow mode is at most 21600 s (6 hours); set to that"
        body = {"rate_limit_per_user": seconds}
        return [_call("PATCH", f"/channels/{_channel(action, ctx)}", body, action, note)]
    if kind is ActionType.PAUSE_INVITES:
        seconds = action.duration_seconds
        note = ""
        if seconds <= 0 or seconds > MAX_INVITE_PAUSE_S:
            seconds = MAX_INVITE_PAUSE_S
            note = "fallback: Discord pauses invites for at most 24 hours; set to 24 hours"
        body = {"invites_disabled_until": to_iso(ctx.now + timedelta(seconds=seconds))}
        return [_call("PUT", f"/guilds/{guild}/incident-actions", body, action, note)]
    raise UnmappableAction(f"no Discord mapping for action {kind}")


def _kick(action: Action, guild: str, note: str) -> PlatformCall:
    return _call("DELETE", f"/guilds/{guild}/members/{target_user(action)}", {}, action, note)


def _notify(action: Action, ctx: CallContext, what: str, note: str) -> PlatformCall:
    channel = admin_chat(ctx, Platform.DISCORD)
    body = {
        "content": clip(admin_text(action, ctx, what), MESSAGE_LIMIT),
        "allowed_mentions": {"parse": []},  # name users without pinging them
    }
    return _call("POST", f"/channels/{channel}/messages", body, note=note)


def _channel(action: Action, ctx: CallContext) -> str:
    channel = channel_of(action, ctx)
    if not channel:
        raise UnmappableAction(
            f"{action.type} from rule {action.rule_id!r} needs a channel: "
            "set the action's channel_id or CallContext.channel_id"
        )
    return channel


def _call(
    method: str,
    route: str,
    body: Mapping[str, object],
    audited: Action | None = None,
    note: str = "",
) -> PlatformCall:
    headers = {}
    if audited is not None:  # moderation: say which rule did it in the audit log
        headers["X-Audit-Log-Reason"] = quote(f"firekeeper rule {audited.rule_id}", safe=" ")
    return PlatformCall(
        Platform.DISCORD,
        method,
        route,
        body,
        note,
        fallback=note.startswith("fallback"),
        headers=headers,
    )
