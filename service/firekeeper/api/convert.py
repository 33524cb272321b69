"""Protobuf messages <-> domain values, both directions.

Generated types stop here: the server turns requests into domain values with
the ``*_from_proto`` functions, which are also where a request is parsed and
bounded (``InvalidEvent`` with the field path of the offending value, e.g.
``event.envelope.platform``). The Python client uses the opposite direction
(``event_to_proto``, ``decision_from_proto``).

Times are timezone-aware UTC ``datetime`` values on the domain side.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.domain import (
    Action,
    ActionType,
    Actor,
    Attachment,
    ChatTick,
    ChatUpdated,
    Decision,
    EntryAnswer,
    Envelope,
    Event,
    JoinMethod,
    JoinRequested,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    Mention,
    MessagePosted,
    Payload,
    Platform,
    Role,
    RoleChanged,
    RuleMatch,
    RuleMode,
)
from firekeeper.domain.chats import ChannelTheme, ChatKey, ChatRecord, ChatRegistration, Theme
from firekeeper.domain.decisions import FailedCondition, RuleCheck
from firekeeper.domain.views import ChatView, RulesetSummary
from firekeeper.errors import InvalidEvent
from firekeeper.rules import language

MAX_ID_CHARS = 256  # ids, names of rulesets and parameters
MAX_NAME_CHARS = 1024  # display names, titles, keywords
MAX_URL_CHARS = 4096
MAX_TEXT_BYTES = 64 * 1024  # message text, bios, announcements (UTF-8 bytes)
MAX_EXAMPLES = 200  # a theme's example messages
MAX_ITEMS = 1000  # links, mentions, attachments, answers, keywords, params

_K = TypeVar("_K")
_V = TypeVar("_V")


def _inverse(mapping: Mapping[_K, _V]) -> dict[_V, _K]:
    return {v: k for k, v in mapping.items()}


_PLATFORM: dict[pb.Platform.ValueType, Platform] = {
    pb.PLATFORM_TELEGRAM: Platform.TELEGRAM,
    pb.PLATFORM_DISCORD: Platform.DISCORD,
    pb.PLATFORM_WECOM: Platform.WECOM,
    pb.PLATFORM_SLACK: Platform.SLACK,
    pb.PLATFORM_MATRIX: Platform.MATRIX,
    pb.PLATFORM_OTHER: Platform.OTHER,
}
_ROLE: dict[pb.Role.ValueType, Role] = {
    pb.ROLE_MEMBER: Role.MEMBER,
    pb.ROLE_ADMIN: Role.ADMIN,
    pb.ROLE_OWNER: Role.OWNER,
    pb.ROLE_RESTRICTED: Role.RESTRICTED,
}
_ATTACHMENT: dict[pb.AttachmentKind.ValueType, str] = {
    value: name.removeprefix("ATTACHMENT_KIND_").lower()
    for name, value in pb.AttachmentKind.items()
    if value != pb.ATTACHMENT_KIND_UNSPECIFIED
}
_JOIN: dict[pb.JoinMethod.ValueType, JoinMethod] = {
    pb.JOIN_METHOD_UNSPECIFIED: JoinMethod.UNKNOWN,
    pb.JOIN_METHOD_INVITE_LINK: JoinMethod.INVITE_LINK,
    pb.JOIN_METHOD_ADDED_BY_MEMBER: JoinMethod.ADDED_BY_MEMBER,
    pb.JOIN_METHOD_JOIN_REQUEST: JoinMethod.JOIN_REQUEST,
    pb.JOIN_METHOD_QR_CODE: JoinMethod.QR_CODE,
    pb.JOIN_METHOD_SELF: JoinMethod.SELF,
}
_LEAVE: dict[pb.LeaveReason.ValueType, LeaveReason] = {
    pb.LEAVE_REASON_UNSPECIFIED: LeaveReason.UNKNOWN,
    pb.LEAVE_REASON_LEFT: LeaveReason.LEFT,
    pb.LEAVE_REASON_REMOVED: LeaveReason.REMOVED,
    pb.LEAVE_REASON_BANNED: LeaveReason.BANNED,
}
_ACTION: dict[pb.ActionType.ValueType, ActionType] = {
    pb.ActionType.Value(f"ACTION_TYPE_{t.name}"): t for t in ActionType
}
_MODE: dict[pb.RuleMode.ValueType, RuleMode] = {
    pb.RULE_MODE_ENFORCE: RuleMode.ENFORCE,
    pb.RULE_MODE_SHADOW: RuleMode.SHADOW,
    pb.RULE_MODE_OFF: RuleMode.OFF,
}
_CHAT_KIND: dict[pb.ChatKind.ValueType, str] = {
    value: name.removeprefix("CHAT_KIND_").lower() for name, value in pb.ChatKind.items()
}
_PLATFORM_TO, _ROLE_TO, _ATTACHMENT_TO = _inverse(_PLATFORM), _inverse(_ROLE), _inverse(_ATTACHMENT)
_JOIN_TO, _LEAVE_TO, _ACTION_TO = _inverse(_JOIN), _inverse(_LEAVE), _inverse(_ACTION)
_MODE_TO, _CHAT_KIND_TO = _inverse(_MODE), _inverse(_CHAT_KIND)

# Timestamps a request may carry: 1970-01-01T00:00:00Z up to, not including,
# 2100-01-01T00:00:00Z. Outside it, date arithmetic downstream (ages, windows,
# durations from parameters) could leave the years datetime and the stores hold.
MIN_TIME = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TIME = datetime(2100, 1, 1, tzinfo=UTC)
_MIN_TS_SECONDS, _MAX_TS_SECONDS = 0, int(MAX_TIME.timestamp()) - 1
# Member counts: at most 2**53 - 1, the largest integer every downstream holds
# exactly (the matcher's numbers, JSON, a count plus the members still to join).
MAX_COUNT = 2**53 - 1

# ---------------------------------------------------------------- parsing helpers


# Every string of an event passes through ``_string`` or ``_text``, which also refuse
# what the boundary refuses (``firekeeper.api.boundary``): a NUL character, and (a
# decoded message cannot hold one) no lone surrogate. So the boundary leaves the events
# of Evaluate and EvaluateBatch to the converters, and an event is walked once.


def nul_refusal(value: str) -> str:
    """Why ``value``, holding a NUL, is refused."""
    at = value.index("\x00")
    return f"holds a NUL character (U+0000), which the store cannot keep (at character {at})"


def _string(value: str, path: str, *, limit: int = MAX_ID_CHARS, required: bool = False) -> str:
    if required and not value.strip():
        raise InvalidEvent(path, "required")
    if len(value) > limit:
        raise InvalidEvent(path, f"too long: {len(value)} characters, at most {limit}")
    if "\x00" in value:
        raise InvalidEvent(path, nul_refusal(value))
    return value


def _text(value: str, path: str) -> str:
    if len(value) > MAX_TEXT_BYTES // 4 and len(value.encode("utf-8")) > MAX_TEXT_BYTES:
        raise InvalidEvent(path, f"too long: more than {MAX_TEXT_BYTES} bytes of UTF-8")
    if "\x00" in value:
        raise InvalidEvent(path, nul_refusal(value))
    return value


def _items(values: Sequence[Any], path: str) -> None:
    if len(values) > MAX_ITEMS:
        raise InvalidEvent(path, f"too many: {len(values)} entries, at most {MAX_ITEMS}")


def _strings(values: Sequence[str], path: str, *, limit: int) -> tuple[str, ...]:
    _items(values, path)
    return tuple(_string(v, f"{path}[{i}]", limit=limit) for i, v in enumerate(values))


def _enum(mapping: Mapping[Any, _V], value: int, path: str, what: str) -> _V:
    try:
        return mapping[value]
    except KeyError:
        raise InvalidEvent(path, f"unknown {what} {value}") from None


def _time(ts: Timestamp, path: str) -> datetime:
    if not (_MIN_TS_SECONDS <= ts.seconds <= _MAX_TS_SECONDS) or not 0 <= ts.nanos < 10**9:
        raise InvalidEvent(
            path, "timestamp out of range: from 1970-01-01T00:00:00Z to before 2100-01-01"
        )
    return ts.ToDatetime(tzinfo=UTC)


def count(value: int, path: str) -> int:
    """A member count: 0 to ``MAX_COUNT``."""
    if not 0 <= value <= MAX_COUNT:
        raise InvalidEvent(path, f"must be from 0 to {MAX_COUNT}, not {value}")
    return value


def _optional_time(msg: Any, name: str, path: str) -> datetime | None:
    return _time(getattr(msg, name), f"{path}.{name}") if msg.HasField(name) else None


def _set_time(ts: Timestamp, value: datetime | None) -> None:
    if value is not None:
        ts.FromDatetime(value)


# ---------------------------------------------------------------- events: proto -> domain


def _actor(msg: pb.Actor, path: str) -> Actor:
    role = pb.ROLE_MEMBER if msg.role == pb.ROLE_UNSPECIFIED else msg.role
    return Actor(
        id=_string(msg.id, f"{path}.id", required=True),
        display_name=_string(msg.display_name, f"{path}.display_name", limit=MAX_NAME_CHARS),
        is_bot=msg.is_bot,
        role=_enum(_ROLE, role, f"{path}.role", "role"),
        account_created_at=_optional_time(msg, "account_created_at", path),
        language_code=_string(msg.language_code, f"{path}.language_code"),
        is_premium=msg.is_premium,
    )


def _optional_actor(parent: Any, name: str, path: str) -> Actor | None:
    return _actor(getattr(parent, name), f"{path}.{name}") if parent.HasField(name) else None


def _member(parent: Any, path: str) -> Actor:
    if not parent.HasField("member"):
        raise InvalidEvent(f"{path}.member", "required")
    return _actor(parent.member, f"{path}.member")


_NO_ACTOR = ("chat_updated", "chat_tick")  # the platform itself / the scheduler


def _envelope(msg: pb.Envelope, path: str, *, kind: str | None) -> Envelope:
    event_id = _string(msg.event_id, f"{path}.event_id", required=True)
    if msg.platform == pb.PLATFORM_UNSPECIFIED:
        raise InvalidEvent(f"{path}.platform", "required: the platform is unspecified")
    platform = _enum(_PLATFORM, msg.platform, f"{path}.platform", "platform")
    tenant = _string(msg.tenant, f"{path}.tenant", required=True)
    chat_id = _string(msg.chat_id, f"{path}.chat_id", required=True)
    if not msg.HasField("occurred_at"):
        raise InvalidEvent(f"{path}.occurred_at", "required")
    if kind not in _NO_ACTOR and not msg.HasField("actor"):
        raise InvalidEvent(
            f"{path}.actor", f"required for {kind or 'every event but chat_updated and chat_tick'}"
        )
    return Envelope(
        event_id=event_id,
        platform=platform,
        tenant=tenant,
        chat_id=chat_id,
        occurred_at=_time(msg.occurred_at, f"{path}.occurred_at"),
        actor=_optional_actor(msg, "actor", path),
        channel_id=_string(msg.channel_id, f"{path}.channel_id"),
        thread_id=_string(msg.thread_id, f"{path}.thread_id"),
    )


def _message_posted(msg: pb.MessagePosted, path: str) -> MessagePosted:
    for name in ("mentions", "attachments"):
        _items(getattr(msg, name), f"{path}.{name}")
    return MessagePosted(
        message_id=_string(msg.message_id, f"{path}.message_id", required=True),
        text=_text(msg.text, f"{path}.text"),
        links=_strings(msg.links, f"{path}.links", limit=MAX_URL_CHARS),
        mentions=tuple(
            Mention(
                user_id=_string(m.user_id, f"{path}.mentions[{i}].user_id"),
                everyone=m.everyone,
                role_id=_string(m.role_id, f"{path}.mentions[{i}].role_id"),
            )
            for i, m in enumerate(msg.mentions)
        ),
        attachments=tuple(
            _attachment(a, f"{path}.attachments[{i}]") for i, a in enumerate(msg.attachments)
        ),
        reply_to_message_id=_string(msg.reply_to_message_id, f"{path}.reply_to_message_id"),
        reply_to_user_id=_string(msg.reply_to_user_id, f"{path}.reply_to_user_id"),
        is_forward=msg.is_forward,
        forwarded_from=_string(msg.forwarded_from, f"{path}.forwarded_from", limit=MAX_NAME_CHARS),
        is_announcement=msg.is_announcement,
        is_pinned_notice=msg.is_pinned_notice,
        is_edit=msg.is_edit,
    )


def _attachment(msg: pb.Attachment, path: str) -> Attachment:
    kind = pb.ATTACHMENT_KIND_OTHER if msg.kind == pb.ATTACHMENT_KIND_UNSPECIFIED else msg.kind
    return Attachment(
        kind=_enum(_ATTACHMENT, kind, f"{path}.kind", "attachment kind"),
        url=_string(msg.url, f"{path}.url", limit=MAX_URL_CHARS),
        title=_string(msg.title, f"{path}.title", limit=MAX_NAME_CHARS),
        description=_text(msg.description, f"{path}.description"),
        file_name=_string(msg.file_name, f"{path}.file_name", limit=MAX_NAME_CHARS),
    )


def _member_joined(msg: pb.MemberJoined, path: str) -> MemberJoined:
    return MemberJoined(
        member=_member(msg, path),
        inviter=_optional_actor(msg, "inviter", path),
        method=_enum(_JOIN, msg.method, f"{path}.method", "join method"),
        invite_link=_string(msg.invite_link, f"{path}.invite_link", limit=MAX_URL_CHARS),
    )


def _join_requested(msg: pb.JoinRequested, path: str) -> JoinRequested:
    _items(msg.answers, f"{path}.answers")
    return JoinRequested(
        member=_member(msg, path),
        answers=tuple(
            EntryAnswer(
                question=_text(a.question, f"{path}.answers[{i}].question"),
                answer=_text(a.answer, f"{path}.answers[{i}].answer"),
            )
            for i, a in enumerate(msg.answers)
        ),
        bio=_text(msg.bio, f"{path}.bio"),
        invite_link=_string(msg.invite_link, f"{path}.invite_link", limit=MAX_URL_CHARS),
        inviter=_optional_actor(msg, "inviter", path),
    )


def _member_left(msg: pb.MemberLeft, path: str) -> MemberLeft:
    return MemberLeft(
        member=_member(msg, path),
        reason=_enum(_LEAVE, msg.reason, f"{path}.reason", "leave reason"),
        removed_by=_optional_actor(msg, "removed_by", path),
    )


def _chat_updated(msg: pb.ChatUpdated, path: str) -> ChatUpdated:
    members = (
        count(msg.platform_member_count, f"{path}.platform_member_count")
        if msg.HasField("platform_member_count")
        else None
    )
    return ChatUpdated(
        title=_string(msg.title, f"{path}.title", limit=MAX_NAME_CHARS),
        announcement_text=_text(msg.announcement_text, f"{path}.announcement_text"),
        platform_member_count=members,
        title_changed=msg.title_changed,
        announcement_changed=msg.announcement_changed,
    )


def _role_changed(msg: pb.RoleChanged, path: str) -> RoleChanged:
    def role(value: pb.Role.ValueType, name: str) -> Role:
        value = pb.ROLE_MEMBER if value == pb.ROLE_UNSPECIFIED else value
        return _enum(_ROLE, value, f"{path}.{name}", "role")

    return RoleChanged(
        member=_member(msg, path),
        old_role=role(msg.old_role, "old_role"),
        new_role=role(msg.new_role, "new_role"),
    )


def _chat_tick(msg: pb.ChatTick, path: str) -> ChatTick:
    if msg.period_seconds <= 0:
        raise InvalidEvent(f"{path}.period_seconds", "must be a positive number of seconds")
    if msg.period_index < 0:
        raise InvalidEvent(f"{path}.period_index", "must not be negative")
    return ChatTick(period_seconds=msg.period_seconds, period_index=msg.period_index)


_PAYLOADS: dict[str, Callable[[Any, str], Payload]] = {
    "message_posted": _message_posted,
    "member_joined": _member_joined,
    "join_requested": _join_requested,
    "member_left": _member_left,
    "chat_updated": _chat_updated,
    "role_changed": _role_changed,
    "chat_tick": _chat_tick,
}


def event_from_proto(msg: pb.Event, *, path: str = "event") -> Event:
    """Parse and bound an event; raise ``InvalidEvent`` naming the first bad field.

    ``path`` prefixes field paths: ``event`` for Evaluate, ``events[3]`` in a batch.
    """
    if not msg.HasField("envelope"):
        raise InvalidEvent(f"{path}.envelope", "required")
    kind = msg.WhichOneof("payload")
    envelope = _envelope(msg.envelope, f"{path}.envelope", kind=kind)
    if kind is None:
        raise InvalidEvent(f"{path}.payload", f"required: set one of {', '.join(_PAYLOADS)}")
    return Event(envelope=envelope, payload=_PAYLOADS[kind](getattr(msg, kind), f"{path}.{kind}"))


# ---------------------------------------------------------------- events: domain -> proto


def _actor_to(actor: Actor, out: pb.Actor) -> None:
    out.id, out.display_name, out.is_bot = actor.id, actor.display_name, actor.is_bot
    out.role = _ROLE_TO[actor.role]
    out.language_code, out.is_premium = actor.language_code, actor.is_premium
    _set_time(out.account_created_at, actor.account_created_at)


def _attachment_to(a: Attachment) -> pb.Attachment:
    if a.kind not in _ATTACHMENT_TO:
        raise ValueError(f"unknown attachment kind {a.kind!r}; known: {sorted(_ATTACHMENT_TO)}")
    return pb.Attachment(
        kind=_ATTACHMENT_TO[a.kind],
        url=a.url,
        title=a.title,
        description=a.description,
        file_name=a.file_name,
    )


def _payload_to(p: Payload, out: pb.Event) -> None:
    if isinstance(p, MessagePosted):
        m = out.message_posted
        m.message_id, m.text, m.is_forward = p.message_id, p.text, p.is_forward
        m.links.extend(p.links)
        m.mentions.extend(
            pb.Mention(user_id=x.user_id, everyone=x.everyone, role_id=x.role_id)
            for x in p.mentions
        )
        m.attachments.extend(_attachment_to(a) for a in p.attachments)
        m.reply_to_message_id, m.reply_to_user_id = p.reply_to_message_id, p.reply_to_user_id
        m.forwarded_from, m.is_announcement = p.forwarded_from, p.is_announcement
        m.is_pinned_notice, m.is_edit = p.is_pinned_notice, p.is_edit
    elif isinstance(p, MemberJoined):
        _actor_to(p.member, out.member_joined.member)
        if p.inviter is not None:
            _actor_to(p.inviter, out.member_joined.inviter)
        out.member_joined.method = _JOIN_TO[p.method]
        out.member_joined.invite_link = p.invite_link
    elif isinstance(p, JoinRequested):
        r = out.join_requested
        _actor_to(p.member, r.member)
        r.answers.extend(pb.EntryAnswer(question=a.question, answer=a.answer) for a in p.answers)
        r.bio, r.invite_link = p.bio, p.invite_link
        if p.inviter is not None:
            _actor_to(p.inviter, r.inviter)
    elif isinstance(p, MemberLeft):
        _actor_to(p.member, out.member_left.member)
        out.member_left.reason = _LEAVE_TO[p.reason]
        if p.removed_by is not None:
            _actor_to(p.removed_by, out.member_left.removed_by)
    elif isinstance(p, ChatUpdated):
        u = out.chat_updated
        u.title, u.announcement_text = p.title, p.announcement_text
        u.title_changed, u.announcement_changed = p.title_changed, p.announcement_changed
        if p.platform_member_count is not None:
            u.platform_member_count = p.platform_member_count
        u.SetInParent()  # an update with every field empty is still a chat_updated payload
    elif isinstance(p, ChatTick):
        out.chat_tick.period_seconds, out.chat_tick.period_index = p.period_seconds, p.period_index
    else:
        _actor_to(p.member, out.role_changed.member)
        out.role_changed.old_role = _ROLE_TO[p.old_role]
        out.role_changed.new_role = _ROLE_TO[p.new_role]


def event_to_proto(event: Event) -> pb.Event:
    env = event.envelope
    out = pb.Event()
    e = out.envelope
    e.event_id, e.platform, e.tenant = env.event_id, _PLATFORM_TO[env.platform], env.tenant
    e.chat_id, e.channel_id, e.thread_id = env.chat_id, env.channel_id, env.thread_id
    e.occurred_at.FromDatetime(env.occurred_at)
    if env.actor is not None:
        _actor_to(env.actor, e.actor)
    _payload_to(event.payload, out)
    return out


# ---------------------------------------------------------------- decisions


def decision_to_proto(decision: Decision) -> pb.Decision:
    out = pb.Decision()
    decision_into(out, decision)
    return out


def decision_into(out: pb.Decision, decision: Decision) -> None:
    """Write ``decision`` into ``out`` (an empty message, e.g. a response's field: no copy)."""
    out.SetInParent()  # present (a result's oneof chosen) even if every field is empty
    out.event_id = decision.event_id
    out.ruleset = decision.ruleset
    out.ruleset_version = decision.ruleset_version
    out.replayed = decision.replayed
    out.skipped_stages.extend(decision.skipped_stages)
    out.language = decision.language
    out.language_source = decision.language_source
    if decision.actions:
        out.actions.extend(action_to_proto(a) for a in decision.actions)
    for m in decision.trace:
        match = out.trace.add(
            rule_id=m.rule_id, mode=_MODE_TO[m.mode], reason=m.reason, silenced_by=m.silenced_by
        )
        match.values.extend(pb.FieldValue(field=f, value=v) for f, v in m.values)
    for c in decision.explanation:
        check = out.explanation.add(rule_id=c.rule_id, mode=_MODE_TO[c.mode], matched=c.matched)
        check.values.extend(pb.FieldValue(field=f, value=v) for f, v in c.values)
        for failed in c.failed:
            part = check.failed.add(condition=failed.condition)
            part.values.extend(pb.FieldValue(field=f, value=v) for f, v in failed.values)
    out.decided_at.FromDatetime(decision.decided_at)


def _pairs(values: Iterable[pb.FieldValue]) -> tuple[tuple[str, str], ...]:
    return tuple((v.field, v.value) for v in values)


def action_to_proto(a: Action) -> pb.Action:
    """One action, as a decision or the outbox carries it."""
    out = pb.Action(
        type=_ACTION_TO[a.type],
        target_user_id=a.target_user_id,
        target_message_id=a.target_message_id,
        text=a.text,
        rule_id=a.rule_id,
        chat_id=a.chat_id,
        channel_id=a.channel_id,
        mention_user_id=a.mention_user_id,
    )
    if a.duration_seconds:
        out.duration.FromSeconds(a.duration_seconds)
    return out


def _action_from(a: pb.Action) -> Action:
    return Action(
        type=_ACTION[a.type],
        rule_id=a.rule_id,
        target_user_id=a.target_user_id,
        target_message_id=a.target_message_id,
        text=a.text,
        duration_seconds=a.duration.seconds,
        chat_id=a.chat_id,
        channel_id=a.channel_id,
        mention_user_id=a.mention_user_id,
    )


def action_from_proto(msg: pb.Action) -> Action:
    """The client's direction; an action type this version does not know is an error."""
    try:
        return _action_from(msg)
    except KeyError as exc:
        raise ValueError(f"action of rule {msg.rule_id!r} has an unknown type {exc}") from None


def decision_from_proto(msg: pb.Decision) -> Decision:
    """The client's direction; an action type or mode this version does not know is an error."""
    try:
        return Decision(
            event_id=msg.event_id,
            actions=tuple(_action_from(a) for a in msg.actions),
            trace=tuple(
                RuleMatch(
                    m.rule_id,
                    _MODE[m.mode],
                    m.reason,
                    tuple((v.field, v.value) for v in m.values),
                    silenced_by=m.silenced_by,
                )
                for m in msg.trace
            ),
            ruleset=msg.ruleset,
            ruleset_version=msg.ruleset_version,
            decided_at=msg.decided_at.ToDatetime(tzinfo=UTC),
            replayed=msg.replayed,
            explanation=tuple(
                RuleCheck(
                    c.rule_id,
                    _MODE[c.mode],
                    c.matched,
                    tuple(FailedCondition(f.condition, _pairs(f.values)) for f in c.failed),
                    _pairs(c.values),
                )
                for c in msg.explanation
            ),
            skipped_stages=tuple(msg.skipped_stages),
            language=msg.language,
            language_source=msg.language_source,
        )
    except KeyError as exc:
        raise ValueError(f"decision {msg.event_id!r} has an unknown enum value {exc}") from None


# ---------------------------------------------------------------- chats and rulesets


def chat_key_from_proto(msg: pb.ChatKey, *, path: str = "key") -> ChatKey:
    return _key(msg.platform, msg.tenant, msg.chat_id, f"{path}." if path else "")


def _key(platform: pb.Platform.ValueType, tenant: str, chat_id: str, prefix: str) -> ChatKey:
    if platform == pb.PLATFORM_UNSPECIFIED:
        raise InvalidEvent(f"{prefix}platform", "required: the platform is unspecified")
    return ChatKey(
        platform=_enum(_PLATFORM, platform, f"{prefix}platform", "platform"),
        tenant=_string(tenant, f"{prefix}tenant", required=True),
        chat_id=_string(chat_id, f"{prefix}chat_id", required=True),
    )


def chat_key_to_proto(key: ChatKey) -> pb.ChatKey:
    return pb.ChatKey(platform=_PLATFORM_TO[key.platform], tenant=key.tenant, chat_id=key.chat_id)


def _theme_from(msg: pb.Theme, path: str) -> Theme:
    _items(msg.channels, f"{path}.channels")
    channels: dict[str, ChannelTheme] = {}
    for i, c in enumerate(msg.channels):
        where = f"{path}.channels[{i}]"
        channel_id = _string(c.channel_id, f"{where}.channel_id", required=True)
        if channel_id in channels:
            raise InvalidEvent(f"{where}.channel_id", f"{channel_id!r} is given twice")
        channels[channel_id] = ChannelTheme(
            channel_id=channel_id,
            keywords=_strings(c.keywords, f"{where}.keywords", limit=MAX_NAME_CHARS),
            phrases=_strings(c.phrases, f"{where}.phrases", limit=MAX_NAME_CHARS),
            examples=_examples(c.examples, f"{where}.examples"),
        )
    return Theme(
        keywords=_strings(msg.keywords, f"{path}.keywords", limit=MAX_NAME_CHARS),
        phrases=_strings(msg.phrases, f"{path}.phrases", limit=MAX_NAME_CHARS),
        languages=_strings(msg.languages, f"{path}.languages", limit=MAX_ID_CHARS),
        channels=tuple(channels.values()),
        examples=_examples(msg.examples, f"{path}.examples"),
    )


def _examples(values: Sequence[str], path: str) -> tuple[str, ...]:
    if len(values) > MAX_EXAMPLES:
        raise InvalidEvent(path, f"too many: {len(values)} examples, at most {MAX_EXAMPLES}")
    return _strings(values, path, limit=MAX_NAME_CHARS)


def _theme_to(theme: Theme) -> pb.Theme:
    return pb.Theme(
        keywords=theme.keywords,
        phrases=theme.phrases,
        languages=theme.languages,
        channels=[
            pb.ChannelTheme(
                channel_id=c.channel_id, keywords=c.keywords, phrases=c.phrases, examples=c.examples
            )
            for c in theme.channels
        ],
        examples=theme.examples,
    )


def registration_from_proto(msg: pb.RegisterChatRequest) -> ChatRegistration:
    key = _key(msg.platform, msg.tenant, msg.chat_id, "")
    _items(list(msg.params), "params")
    params = {
        _string(k, f"params[{k[:MAX_ID_CHARS]}]", required=True): _string(
            v, f"params[{k}]", limit=MAX_NAME_CHARS
        )
        for k, v in sorted(msg.params.items())
    }
    members = count(msg.member_count, "member_count") if msg.HasField("member_count") else None
    return ChatRegistration(
        key=key,
        ruleset=_string(msg.ruleset, "ruleset"),
        kind=_enum(_CHAT_KIND, msg.kind, "kind", "chat kind"),
        theme=_theme_from(msg.theme, "theme"),
        created_at=_time(msg.created_at, "created_at") if msg.HasField("created_at") else None,
        params=params,
        title=_string(msg.title, "title", limit=MAX_NAME_CHARS),
        member_count=members,
        owner_id=_string(msg.owner_id, "owner_id"),
        language=_language(msg.language, "language"),
    )


def _language(value: str, path: str) -> str:
    """A BCP 47 tag in its canonical case (``zh-hans`` -> ``zh-Hans``), or ""."""
    if not value:
        return ""
    if not language.valid_tag(value):
        raise InvalidEvent(path, f"{value[:40]!r} is not a BCP 47 language tag, e.g. zh-Hans or en")
    return language.canonical(value)


def registration_to_proto(reg: ChatRegistration) -> pb.RegisterChatRequest:
    out = pb.RegisterChatRequest(
        platform=_PLATFORM_TO[reg.key.platform],
        tenant=reg.key.tenant,
        chat_id=reg.key.chat_id,
        ruleset=reg.ruleset,
        kind=_CHAT_KIND_TO.get(reg.kind, pb.CHAT_KIND_UNSPECIFIED),
        theme=_theme_to(reg.theme),
        params=reg.params,
        title=reg.title,
        owner_id=reg.owner_id,
        language=reg.language,
    )
    _set_time(out.created_at, reg.created_at)
    if reg.member_count is not None:
        out.member_count = reg.member_count
    return out


def chat_view_to_proto(view: ChatView) -> pb.ChatState:
    c = view.chat
    out = pb.ChatState(
        key=chat_key_to_proto(c.key),
        ruleset=c.ruleset,
        kind=_CHAT_KIND_TO.get(c.kind, pb.CHAT_KIND_UNSPECIFIED),
        theme=_theme_to(c.theme),
        params=dict(c.params),
        effective_params=view.effective_params,
        member_count=c.member_count,
        size_tier=view.size_tier,
        title=c.title,
        message_count=c.message_count,
        owner_id=c.owner_id,
        events_processed=c.events_processed,
        language=c.language,
        detected_language=c.detected_language,
    )
    _set_time(out.created_at, c.created_at)
    _set_time(out.last_message_at, c.last_message_at)
    return out


def chat_view_from_proto(msg: pb.ChatState) -> ChatView:
    """The client's direction. ``ChatRecord.registered`` is not on the wire and stays False."""

    chat = ChatRecord(
        key=ChatKey(_PLATFORM[msg.key.platform], msg.key.tenant, msg.key.chat_id),
        ruleset=msg.ruleset,
        kind=_CHAT_KIND.get(msg.kind, "unspecified"),
        theme=Theme(
            tuple(msg.theme.keywords),
            tuple(msg.theme.phrases),
            tuple(msg.theme.languages),
            tuple(
                ChannelTheme(c.channel_id, tuple(c.keywords), tuple(c.phrases), tuple(c.examples))
                for c in msg.theme.channels
            ),
            tuple(msg.theme.examples),
        ),
        created_at=_optional_time(msg, "created_at", "chat"),
        params=tuple(sorted(msg.params.items())),
        member_count=msg.member_count,
        title=msg.title,
        message_count=msg.message_count,
        last_message_at=_optional_time(msg, "last_message_at", "chat"),
        owner_id=msg.owner_id,
        events_processed=msg.events_processed,
        language=msg.language,
        detected_language=msg.detected_language,
    )
    return ChatView(chat=chat, effective_params=dict(msg.effective_params), size_tier=msg.size_tier)


def ruleset_summary_to_proto(summary: RulesetSummary) -> pb.RulesetInfo:
    return pb.RulesetInfo(
        name=summary.name,
        version=summary.version,
        kind=summary.kind,
        description=summary.description,
        rule_count=summary.rule_count,
        params=[pb.RulesetParam(name=n, value=v, description=d) for n, v, d in summary.params],
        source=summary.source,
        extends=summary.extends,
    )


def ruleset_summary_from_proto(msg: pb.RulesetInfo) -> RulesetSummary:
    return RulesetSummary(
        name=msg.name,
        version=msg.version,
        kind=msg.kind,
        description=msg.description,
        rule_count=msg.rule_count,
        params=tuple((p.name, p.value, p.description) for p in msg.params),
        source=msg.source,
        extends=msg.extends,
    )
