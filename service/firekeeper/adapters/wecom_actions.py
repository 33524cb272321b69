"""Actions -> WeCom (企业微信) API calls (as data).

``method`` is the HTTP verb, ``route`` the path under ``https://qyapi.weixin.qq.com``
(the adapter adds ``?access_token=``), ``params`` the JSON body.

WeCom gives apps little power over customer groups (客户群): no API deletes a
message, mutes, removes or bans a member, or sets a pace. What it has:

- ``/cgi-bin/externalcontact/add_msg_template`` with ``chat_type`` group: a
  group message that the sending staff member must confirm in the app before
  it goes out (企业群发; WeCom caps how many a group receives a month);
- ``/cgi-bin/message/send``: an app message to staff, used to tell admins and
  to write privately to a staff member (message_user);
- ``/cgi-bin/externalcontact/groupchat/del_join_way``: delete a join-way
  config (群二维码 / 加入群聊 button) so it stops admitting people.

Every other action falls back to telling admins what to do by hand, marked
``fallback=True`` with a note saying what is lost.
"""

from __future__ import annotations

from firekeeper.adapters.base import NO_CALL, MissingContext, PlatformCall, UnmappableAction
from firekeeper.adapters.calls import (
    CallContext,
    admin_text,
    chat_of,
    fill_mention,
    for_whom,
    mark,
    name_of,
    target_message,
    target_user,
)
from firekeeper.domain.decisions import Action, ActionType
from firekeeper.domain.events import Platform

GROUP_MESSAGE = "/cgi-bin/externalcontact/add_msg_template"
APP_MESSAGE = "/cgi-bin/message/send"
DELETE_JOIN_WAY = "/cgi-bin/externalcontact/groupchat/del_join_way"
TEXT_LIMIT_BYTES = 2048  # an app text message longer than this is cut by WeCom

_NO_API = "fallback: WeCom has no API to {what} in a customer group; admins are asked to"


def wecom_calls(action: Action, ctx: CallContext) -> list[PlatformCall]:
    """The WeCom calls that carry out one action."""
    return [mark(call, action) for call in _calls(action, ctx)]


def _calls(action: Action, ctx: CallContext) -> list[PlatformCall]:
    kind = action.type
    if kind is ActionType.DELETE_MESSAGE:
        message = target_message(action)
        return [_notify(action, ctx, f"delete message {message}", _NO_API.format(what="delete"))]
    if kind is ActionType.WARN_USER:
        return [_group_message(action, ctx, _warning(action, ctx))]
    if kind is ActionType.MUTE:
        user = name_of(target_user(action), ctx)
        minutes = action.duration_seconds // 60
        note = "fallback: WeCom cannot mute; the member is warned and admins are told"
        return [
            _group_message(action, ctx, _warning(action, ctx), note),
            _notify(action, ctx, f"{user} should be silent for {minutes} min", note),
        ]
    if kind in (ActionType.REMOVE, ActionType.BAN):
        verb = "remove" if kind is ActionType.REMOVE else "ban"
        user = name_of(target_user(action), ctx)
        note = _NO_API.format(what=verb + " a member")
        if kind is ActionType.BAN:
            note += "; re-entry is only stopped by removing the group's join ways"
        return [_notify(action, ctx, f"{verb} {user}", note)]
    if kind is ActionType.APPROVE_JOIN:
        note = "WeCom customer groups have no join requests: the member is already in"
        return [PlatformCall(Platform.WECOM, NO_CALL, "", {}, note)]
    if kind is ActionType.DENY_JOIN:
        user = name_of(target_user(action), ctx)
        note = "fallback: no join requests and no API to remove; admins are asked to remove"
        return [_notify(action, ctx, f"remove {user}, who joined", note)]
    if kind is ActionType.HOLD_FOR_REVIEW:
        user = name_of(target_user(action), ctx)
        note = "fallback: no pending state in WeCom; the member is in and admins are told"
        return [_notify(action, ctx, f"review {user}", note)]
    if kind is ActionType.NOTIFY_ADMINS:
        return [_notify(action, ctx, "notice", "")]
    if kind is ActionType.MESSAGE_USER:
        return [_private(action, ctx)]
    if kind is ActionType.POST_MESSAGE:
        return [_group_message(action, ctx, action.text)]
    if kind is ActionType.SET_SLOW_MODE:
        note = "fallback: WeCom groups have no slow mode; admins are asked to calm the group"
        what = f"slow the group down (one message per {action.duration_seconds} s)"
        return [_notify(action, ctx, what, note)]
    if kind is ActionType.PAUSE_INVITES:
        return _pause_invites(action, ctx)
    raise UnmappableAction(f"no WeCom mapping for action {kind}")


def _warning(action: Action, ctx: CallContext) -> str:
    who = action.mention_user_id or action.target_user_id
    if not who:
        return fill_mention(action, "")[0]
    # An API text cannot @-mention; the name is written out where {mention} stands.
    return fill_mention(action, f"@{name_of(who, ctx)}")[0]


def _group_message(action: Action, ctx: CallContext, content: str, note: str = "") -> PlatformCall:
    if not ctx.sender_user_id:
        raise MissingContext(
            "a WeCom group message needs CallContext.sender_user_id: the staff member "
            "(usually the group owner) who confirms it"
        )
    params = {
        "chat_type": "group",
        "chat_id_list": [chat_of(action, ctx)],
        "sender": ctx.sender_user_id,
        "text": {"content": content},
    }
    note = note or (
        "fallback: no API posts into a customer group directly; this creates a group "
        "message the sender must confirm in WeCom (sent late, or never)"
    )
    return PlatformCall(Platform.WECOM, "POST", GROUP_MESSAGE, params, note, fallback=True)


def _private(action: Action, ctx: CallContext) -> PlatformCall:
    """An app message to one staff member; a customer (external contact) cannot be
    written to privately by the app, so the admins are told instead."""
    user = action.target_user_id
    staff = ctx.private_chats.get(user, "") or (user if user in ctx.admin_user_ids else "")
    if not staff or ctx.agent_id is None:
        note = (
            "fallback: the app writes privately only to staff members (this one is not "
            "known as one); the admins are told instead, not the group"
        )
        return _notify(action, ctx, for_whom(action, ctx), note)
    params = {
        "touser": staff,
        "msgtype": "text",
        "agentid": ctx.agent_id,
        "text": {"content": _clip_bytes(action.text, TEXT_LIMIT_BYTES)},
    }
    return PlatformCall(Platform.WECOM, "POST", APP_MESSAGE, params)


def _pause_invites(action: Action, ctx: CallContext) -> list[PlatformCall]:
    hours = action.duration_seconds / 3600
    if not ctx.join_way_config_ids:
        note = (
            "fallback: no join-way config of this group is known; admins are asked to "
            "stop sharing the group QR code and invitations"
        )
        return [_notify(action, ctx, f"pause invites for {hours:g} h", note)]
    note = (
        "fallback: WeCom cannot pause invites; the join way is deleted (add it again with "
        f"groupchat/add_join_way after {hours:g} h, which makes a new QR code). Members can "
        "still invite people directly"
    )
    return [
        PlatformCall(
            Platform.WECOM, "POST", DELETE_JOIN_WAY, {"config_id": config}, note, fallback=True
        )
        for config in ctx.join_way_config_ids
    ]


def _notify(action: Action, ctx: CallContext, what: str, note: str) -> PlatformCall:
    if not ctx.admin_user_ids or ctx.agent_id is None:
        raise MissingContext(
            "telling WeCom admins needs CallContext.admin_user_ids (staff user ids) and "
            "agent_id (the app that sends the message)"
        )
    params = {
        "touser": "|".join(ctx.admin_user_ids),
        "msgtype": "text",
        "agentid": ctx.agent_id,
        "text": {"content": _clip_bytes(admin_text(action, ctx, what), TEXT_LIMIT_BYTES)},
    }
    return PlatformCall(
        Platform.WECOM, "POST", APP_MESSAGE, params, note, fallback=note.startswith("fallback")
    )


def _clip_bytes(value: str, limit: int) -> str:
    """At most ``limit`` UTF-8 bytes, cut on a character boundary."""
    return value.encode("utf-8")[:limit].decode("utf-8", errors="ignore")
