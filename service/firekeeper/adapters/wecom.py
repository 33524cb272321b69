"""WeCom (企业微信) customer-group callbacks -> normalized events.

Input: the plaintext XML of a ``change_external_chat`` callback (客户群变更事件),
after the adapter has checked its signature and decrypted it. Both formats are
read: the self-built / agent format (``MsgType`` event, ``Event``,
``CreateTime``, ``ToUserName``) and the third-party suite format (``InfoType``,
``TimeStamp``, ``AuthCorpId``). Message-archive records (会话存档) are in
``firekeeper.adapters.wecom_archive``.

Event ids: callbacks carry no id, so the id is ``wecom:cb:{hash}`` of the
callback's own fields (corp, chat, change, scene, members, member-list
versions, time), with ``:{member}`` appended when one callback lists several
members. WeCom retries an unanswered callback with the same fields, so a
retry maps to the same id.

Ordering: callbacks can arrive out of order. Each one carries the member-list
version before and after the change (LastMemVer, CurMemVer); the translation
exposes them as ``sequence_hint`` (see ``SequenceHint``).

What WeCom does not say in a callback: who invited a member, who removed one,
the new title, notice or owner, display names. ``groupchat/get`` returns them;
an adapter that calls it passes them in :class:`WeComContext`.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from firekeeper.adapters.base import (
    PayloadError,
    SequenceHint,
    Skipped,
    Translation,
    digest,
    from_unix,
    is_number,
)
from firekeeper.domain.events import (
    Actor,
    ChatUpdated,
    Envelope,
    Event,
    JoinMethod,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    Payload,
    Platform,
)

# JoinScene. The callback documents 0 (invited by a member, directly or through
# a member's invite link) and 3 (scanned the group QR code); groupchat/get's
# join_scene numbers them 1 (direct), 2 (invite link), 3 (QR code), and the
# docs' own callback example shows 1. The two numberings agree where they meet.
_JOIN_SCENES = {
    "0": JoinMethod.ADDED_BY_MEMBER,
    "1": JoinMethod.ADDED_BY_MEMBER,
    "2": JoinMethod.INVITE_LINK,
    "3": JoinMethod.QR_CODE,
}
# QuitScene: 0 left by themself, 1 removed by the group owner or an admin.
_QUIT_SCENES = {"0": LeaveReason.LEFT, "1": LeaveReason.REMOVED}

_UNSAID = (
    "the callback does not carry the {what}: fetch it with groupchat/get and pass "
    "WeComContext.{field} to report the change"
)
_HASHED_FIELDS = (
    "ToUserName", "AuthCorpId", "ChatId", "ChangeType", "UpdateDetail", "JoinScene",
    "QuitScene", "MemChangeCnt", "LastMemVer", "CurMemVer", "CreateTime", "TimeStamp",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class WeComContext:
    """What the caller knows that a callback does not say (from ``groupchat/get``)."""

    tenant: str
    chat_title: str = ""  # the group's name: fills change_name / create
    chat_notice: str = ""  # the group's notice: fills change_notice
    member_count: int | None = None  # len(member_list), for reconciliation
    inviters: Mapping[str, str] = field(default_factory=dict)  # member id -> invitor.userid


@dataclass(frozen=True, slots=True)
class _Callback:
    fields: dict[str, str]
    members: tuple[str, ...]

    def get(self, name: str) -> str:
        return self.fields.get(name, "")


def parse_callback(xml_text: str | bytes) -> tuple[dict[str, str], tuple[str, ...]]:
    """The callback's top-level fields and its MemChangeList items."""
    raw = xml_text.decode("utf-8") if isinstance(xml_text, bytes) else xml_text
    upper = raw.upper()
    if "<!DOCTYPE" in upper or "<!ENTITY" in upper:
        raise PayloadError("xml", "document type declarations are not accepted in a callback")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise PayloadError("xml", f"not well-formed XML: {exc}") from exc
    fields = {child.tag: (child.text or "").strip() for child in root if len(child) == 0}
    members = tuple(
        (item.text or "").strip() for item in root.iterfind("MemChangeList/Item") if item.text
    )
    return fields, members


def translate_wecom_callback(xml_text: str | bytes, context: WeComContext) -> Translation:
    """Translate one decrypted ``change_external_chat`` callback."""
    fields, members = parse_callback(xml_text)
    cb = _Callback(fields, members)
    kind = cb.get("InfoType") or (cb.get("Event") if cb.get("MsgType") == "event" else "")
    if kind != "change_external_chat":
        return _skip(
            f"callback {kind or cb.get('MsgType') or 'unknown'} has no normalized event", kind
        )
    chat_id = cb.get("ChatId")
    if not chat_id:
        raise PayloadError("xml.ChatId", "required chat id is missing")
    stamp = cb.get("CreateTime") or cb.get("TimeStamp")
    if not is_number(stamp):
        raise PayloadError("xml.CreateTime", f"required time is missing or not a number: {stamp!r}")
    hint = None
    if cb.get("CurMemVer"):
        hint = SequenceHint(chat_id, previous=cb.get("LastMemVer"), current=cb.get("CurMemVer"))
    env = _Env(context, chat_id, from_unix(int(stamp), "xml.CreateTime"), _event_id(cb))
    change = cb.get("ChangeType")
    detail = cb.get("UpdateDetail")
    if change == "create":
        result = env.chat_updated(title=context.chat_title, title_changed=bool(context.chat_title))
    elif change == "dismiss":
        result = _skip("the group was dismissed: no normalized event", "dismiss")
    elif change != "update":
        result = _skip(f"unknown ChangeType {change!r}", change)
    elif detail == "add_member":
        result = _joins(cb, env)
    elif detail == "del_member":
        result = _leaves(cb, env)
    elif detail == "change_name":
        # Without the new name the event would blank the stored title: skip instead.
        if context.chat_title:
            result = env.chat_updated(title=context.chat_title, title_changed=True)
        else:
            result = _skip(_UNSAID.format(what="new name", field="chat_title"), detail)
    elif detail == "change_notice":
        # Without the text, notice rules would judge an empty announcement: skip instead.
        if context.chat_notice:
            result = env.chat_updated(
                announcement_text=context.chat_notice, announcement_changed=True
            )
        else:
            result = _skip(_UNSAID.format(what="notice text", field="chat_notice"), detail)
    elif detail == "change_owner":
        result = _skip(
            "change_owner does not name the new owner; groupchat/get gives it (owner)",
            "change_owner",
        )
    else:
        result = _skip(f"update {detail or 'without UpdateDetail'} has no normalized event", detail)
    return Translation(result.events, result.skipped, hint)


def _joins(cb: _Callback, env: _Env) -> Translation:
    if not cb.members:
        return _no_member_ids(cb, "add_member")
    method = _JOIN_SCENES.get(cb.get("JoinScene"), JoinMethod.UNKNOWN)
    events = []
    for member_id in cb.members:
        member = Actor(id=member_id)
        inviter_id = env.ctx.inviters.get(member_id, "")
        inviter = Actor(id=inviter_id) if inviter_id else None
        payload = MemberJoined(member, inviter=inviter, method=method)
        events.append(env.event(f"{env.event_id}:{member_id}", inviter or member, payload))
    return Translation(events=tuple(events))


def _leaves(cb: _Callback, env: _Env) -> Translation:
    if not cb.members:
        return _no_member_ids(cb, "del_member")
    reason = _QUIT_SCENES.get(cb.get("QuitScene"), LeaveReason.UNKNOWN)
    events = []
    for member_id in cb.members:
        member = Actor(id=member_id)
        # WeCom does not name the remover: the member is the envelope's actor.
        payload = MemberLeft(member, reason=reason)
        events.append(env.event(f"{env.event_id}:{member_id}", member, payload))
    return Translation(events=tuple(events))


def _no_member_ids(cb: _Callback, detail: str) -> Translation:
    count = cb.get("MemChangeCnt") or "an unknown number of"
    return _skip(
        f"{detail} of {count} member(s) without MemChangeList (an older callback): "
        "no member ids to report; reconcile the member list with groupchat/get",
        detail,
    )


def _event_id(cb: _Callback) -> str:
    parts: list[object] = [cb.get(name) for name in _HASHED_FIELDS]
    parts.append(list(cb.members))
    return f"wecom:cb:{digest(parts)}"


@dataclass(frozen=True, slots=True)
class _Env:
    ctx: WeComContext
    chat_id: str
    occurred_at: datetime
    event_id: str

    def event(self, event_id: str, actor: Actor | None, payload: Payload) -> Event:
        envelope = Envelope(
            event_id=event_id,
            platform=Platform.WECOM,
            tenant=self.ctx.tenant,
            chat_id=self.chat_id,
            occurred_at=self.occurred_at,
            actor=actor,
        )
        return Event(envelope, payload)

    def chat_updated(
        self,
        *,
        title: str = "",
        title_changed: bool = False,
        announcement_text: str = "",
        announcement_changed: bool = False,
    ) -> Translation:
        payload = ChatUpdated(
            title=title,
            announcement_text=announcement_text,
            platform_member_count=self.ctx.member_count,
            title_changed=title_changed,
            announcement_changed=announcement_changed,
        )
        return Translation(events=(self.event(self.event_id, None, payload),))


def _skip(reason: str, native_type: str) -> Translation:
    return Translation(skipped=(Skipped(reason, native_type),))
