"""JSON codecs for what the store keeps in JSON columns: events, decisions, themes, params.

Every encoded object is plain JSON (str, int, bool, None, list, dict); datetimes are
ISO-8601 strings with their UTC offset, enums their values. Events and decisions
carry ``"v": 1`` so a later format can be told apart. Decoding fills absent keys
with the dataclass defaults (older rows stay readable when a field is added) and
raises :class:`CodecError` naming the path of anything malformed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar, assert_never

from firekeeper.domain.chats import ChannelTheme, Theme
from firekeeper.domain.decisions import (
    Action,
    ActionType,
    Decision,
    FailedCondition,
    RuleCheck,
    RuleMatch,
    RuleMode,
)
from firekeeper.domain.events import (
    Actor,
    Attachment,
    ChatTick,
    ChatUpdated,
    EntryAnswer,
    Envelope,
    Event,
    EventKind,
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
)

FORMAT_VERSION = 1

JsonObject = dict[str, Any]
E = TypeVar("E", bound=enum.Enum)


class CodecError(ValueError):
    """A stored JSON document does not decode (or a value cannot be encoded)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        super().__init__(f"stored JSON at {path or '<root>'}: {reason}")


# -- encoding -----------------------------------------------------------------------------------


def _time(value: datetime, path: str) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise CodecError(path, f"naive datetime {value!r}: times must be timezone-aware")
    return value.isoformat()


def _time_opt(value: datetime | None, path: str) -> str | None:
    return None if value is None else _time(value, path)


def _actor(actor: Actor, path: str) -> JsonObject:
    return {
        "id": actor.id,
        "display_name": actor.display_name,
        "is_bot": actor.is_bot,
        "role": actor.role.value,
        "account_created_at": _time_opt(actor.account_created_at, f"{path}.account_created_at"),
        "language_code": actor.language_code,
        "is_premium": actor.is_premium,
    }


def _actor_opt(actor: Actor | None, path: str) -> JsonObject | None:
    return None if actor is None else _actor(actor, path)


def _payload(p: Payload) -> JsonObject:
    match p:
        case MessagePosted():
            return {
                "message_id": p.message_id,
                "text": p.text,
                "links": list(p.links),
                "mentions": [
                    {"user_id": m.user_id, "everyone": m.everyone, "role_id": m.role_id}
                    for m in p.mentions
                ],
                "attachments": [
                    {
                        "kind": a.kind,
                        "url": a.url,
                        "title": a.title,
                        "description": a.description,
                        "file_name": a.file_name,
                    }
                    for a in p.attachments
                ],
                "reply_to_message_id": p.reply_to_message_id,
                "reply_to_user_id": p.reply_to_user_id,
                "is_forward": p.is_forward,
                "forwarded_from": p.forwarded_from,
                "is_announcement": p.is_announcement,
                "is_pinned_notice": p.is_pinned_notice,
                "is_edit": p.is_edit,
            }
        case MemberJoined():
            return {
                "member": _actor(p.member, "payload.member"),
                "inviter": _actor_opt(p.inviter, "payload.inviter"),
                "method": p.method.value,
                "invite_link": p.invite_link,
            }
        case JoinRequested():
            return {
                "member": _actor(p.member, "payload.member"),
                "answers": [{"question": a.question, "answer": a.answer} for a in p.answers],
                "bio": p.bio,
                "invite_link": p.invite_link,
                "inviter": _actor_opt(p.inviter, "payload.inviter"),
            }
        case MemberLeft():
            return {
                "member": _actor(p.member, "payload.member"),
                "reason": p.reason.value,
                "removed_by": _actor_opt(p.removed_by, "payload.removed_by"),
            }
        case ChatUpdated():
            return {
                "title": p.title,
                "announcement_text": p.announcement_text,
                "platform_member_count": p.platform_member_count,
                "title_changed": p.title_changed,
                "announcement_changed": p.announcement_changed,
            }
        case RoleChanged():
            return {
                "member": _actor(p.member, "payload.member"),
                "old_role": p.old_role.value,
                "new_role": p.new_role.value,
            }
        case ChatTick():
            return {"period_seconds": p.period_seconds, "period_index": p.period_index}
        case _:
            assert_never(p)


def event_to_json(event: Event) -> JsonObject:
    env = event.envelope
    return {
        "v": FORMAT_VERSION,
        "kind": event.kind.value,
        "envelope": {
            "event_id": env.event_id,
            "platform": env.platform.value,
            "tenant": env.tenant,
            "chat_id": env.chat_id,
            "occurred_at": _time(env.occurred_at, "envelope.occurred_at"),
            "actor": _actor_opt(env.actor, "envelope.actor"),
            "channel_id": env.channel_id,
            "thread_id": env.thread_id,
        },
        "payload": _payload(event.payload),
    }


def action_to_json(a: Action) -> JsonObject:
    """One action, as the decision log and the outbox store it."""
    return {
        "type": a.type.value,
        "rule_id": a.rule_id,
        "target_user_id": a.target_user_id,
        "target_message_id": a.target_message_id,
        "text": a.text,
        "duration_seconds": a.duration_seconds,
        "chat_id": a.chat_id,
        "channel_id": a.channel_id,
    } | ({"mention_user_id": a.mention_user_id} if a.mention_user_id else {})


def decision_to_json(decision: Decision) -> JsonObject:
    """Everything but ``replayed``, which describes how a decision is returned, not what it is."""
    return (
        {
            "v": FORMAT_VERSION,
            "event_id": decision.event_id,
            "ruleset": decision.ruleset,
            "ruleset_version": decision.ruleset_version,
            "decided_at": _time(decision.decided_at, "decided_at"),
            "actions": [action_to_json(a) for a in decision.actions],
            "trace": [
                {
                    "rule_id": m.rule_id,
                    "mode": m.mode.value,
                    "reason": m.reason,
                    "values": [[path, value] for path, value in m.values],
                }
                | ({"silenced_by": m.silenced_by} if m.silenced_by else {})
                for m in decision.trace
            ],
        }
        | _explanation(decision)
        | _skipped(decision)
        | _language(decision)
    )


def _language(decision: Decision) -> JsonObject:
    """The texts' language and its source, when the decision has them."""
    if not decision.language:
        return {}
    return {"language": decision.language, "language_source": decision.language_source}


def _skipped(decision: Decision) -> JsonObject:
    """Only when the time budget ran out (rare): nothing is added otherwise."""
    return {"skipped_stages": list(decision.skipped_stages)} if decision.skipped_stages else {}


def _explanation(decision: Decision) -> JsonObject:
    """Only when the decision was explained (on request): nothing is added otherwise."""
    if not decision.explanation:
        return {}
    return {
        "explanation": [
            {
                "rule_id": c.rule_id,
                "mode": c.mode.value,
                "matched": c.matched,
                "failed": [
                    {"condition": f.condition, "values": [[p, v] for p, v in f.values]}
                    for f in c.failed
                ],
                "values": [[p, v] for p, v in c.values],
            }
            for c in decision.explanation
        ]
    }


def theme_to_json(theme: Theme) -> JsonObject:
    return {
        "keywords": list(theme.keywords),
        "phrases": list(theme.phrases),
        "languages": list(theme.languages),
        "channels": [
            {
                "channel_id": c.channel_id,
                "keywords": list(c.keywords),
                "phrases": list(c.phrases),
                "examples": list(c.examples),
            }
            for c in theme.channels
        ],
        "examples": list(theme.examples),
    }


def params_to_json(params: Iterable[tuple[str, str]]) -> dict[str, str]:
    return dict(params)


# -- decoding -----------------------------------------------------------------------------------


class _Obj:
    """A JSON object being decoded, with typed getters that name the failing path."""

    __slots__ = ("_data", "_path")

    def __init__(self, data: object, path: str) -> None:
        if not isinstance(data, dict):
            raise CodecError(path, f"expected an object, got {type(data).__name__}")
        self._data: dict[str, object] = data
        self._path = path

    def _at(self, key: str) -> str:
        return f"{self._path}.{key}" if self._path else key

    def _get(self, key: str, expected: type[Any], default: Any) -> Any:
        value = self._data.get(key, default)
        # bool is an int subclass: never accept it where an int is expected
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise CodecError(self._at(key), f"expected {expected.__name__}, got {value!r}")
        return value

    def text(self, key: str, default: str = "") -> str:
        return str(self._get(key, str, default))

    def flag(self, key: str, default: bool = False) -> bool:
        return bool(self._get(key, bool, default))

    def number(self, key: str, default: int = 0) -> int:
        return int(self._get(key, int, default))

    def number_opt(self, key: str) -> int | None:
        return None if self._data.get(key) is None else self.number(key)

    def time(self, key: str) -> datetime:
        raw = self._get(key, str, None)
        try:
            value = datetime.fromisoformat(raw)
        except ValueError as e:
            raise CodecError(self._at(key), f"not an ISO-8601 time: {raw!r}") from e
        if value.tzinfo is None:
            raise CodecError(self._at(key), f"naive time {raw!r}: expected a UTC offset")
        return value

    def time_opt(self, key: str) -> datetime | None:
        return None if self._data.get(key) is None else self.time(key)

    def choice(self, key: str, enum_type: type[E], default: E | None = None) -> E:
        """An enum value; required when there is no default."""
        raw = self._get(key, str, None if default is None else default.value)
        try:
            return enum_type(raw)
        except ValueError as e:
            raise CodecError(self._at(key), f"unknown {enum_type.__name__} {raw!r}") from e

    def obj(self, key: str) -> _Obj:
        return _Obj(self._data.get(key), self._at(key))

    def obj_opt(self, key: str) -> _Obj | None:
        return None if self._data.get(key) is None else self.obj(key)

    def objs(self, key: str) -> list[_Obj]:
        items: list[object] = self._get(key, list, [])
        return [_Obj(item, f"{self._at(key)}[{i}]") for i, item in enumerate(items)]

    def texts(self, key: str) -> tuple[str, ...]:
        items: list[object] = self._get(key, list, [])
        for i, item in enumerate(items):
            if not isinstance(item, str):
                raise CodecError(f"{self._at(key)}[{i}]", f"expected str, got {item!r}")
        return tuple(str(item) for item in items)

    def pairs(self, key: str) -> tuple[tuple[str, str], ...]:
        items: list[object] = self._get(key, list, [])
        out: list[tuple[str, str]] = []
        for i, item in enumerate(items):
            if not (
                isinstance(item, list) and len(item) == 2 and all(isinstance(x, str) for x in item)
            ):
                raise CodecError(f"{self._at(key)}[{i}]", f"expected [str, str], got {item!r}")
            out.append((str(item[0]), str(item[1])))
        return tuple(out)

    def check_version(self) -> None:
        version = self.number("v", FORMAT_VERSION)
        if version != FORMAT_VERSION:
            raise CodecError(self._at("v"), f"unsupported format version {version}")


def _read_actor(o: _Obj) -> Actor:
    return Actor(
        id=o.text("id"),
        display_name=o.text("display_name"),
        is_bot=o.flag("is_bot"),
        role=o.choice("role", Role, Role.MEMBER),
        account_created_at=o.time_opt("account_created_at"),
        language_code=o.text("language_code"),
        is_premium=o.flag("is_premium"),
    )


def _read_actor_opt(o: _Obj | None) -> Actor | None:
    return None if o is None else _read_actor(o)


def _read_payload(kind: EventKind, p: _Obj) -> Payload:
    match kind:
        case EventKind.MESSAGE_POSTED:
            return MessagePosted(
                message_id=p.text("message_id"),
                text=p.text("text"),
                links=p.texts("links"),
                mentions=tuple(
                    Mention(m.text("user_id"), m.flag("everyone"), m.text("role_id"))
                    for m in p.objs("mentions")
                ),
                attachments=tuple(
                    Attachment(
                        kind=a.text("kind"),
                        url=a.text("url"),
                        title=a.text("title"),
                        description=a.text("description"),
                        file_name=a.text("file_name"),
                    )
                    for a in p.objs("attachments")
                ),
                reply_to_message_id=p.text("reply_to_message_id"),
                reply_to_user_id=p.text("reply_to_user_id"),
                is_forward=p.flag("is_forward"),
                forwarded_from=p.text("forwarded_from"),
                is_announcement=p.flag("is_announcement"),
                is_pinned_notice=p.flag("is_pinned_notice"),
                is_edit=p.flag("is_edit"),
            )
        case EventKind.MEMBER_JOINED:
            return MemberJoined(
                member=_read_actor(p.obj("member")),
                inviter=_read_actor_opt(p.obj_opt("inviter")),
                method=p.choice("method", JoinMethod, JoinMethod.UNKNOWN),
                invite_link=p.text("invite_link"),
            )
        case EventKind.JOIN_REQUESTED:
            return JoinRequested(
                member=_read_actor(p.obj("member")),
                answers=tuple(
                    EntryAnswer(a.text("question"), a.text("answer")) for a in p.objs("answers")
                ),
                bio=p.text("bio"),
                invite_link=p.text("invite_link"),
                inviter=_read_actor_opt(p.obj_opt("inviter")),
            )
        case EventKind.MEMBER_LEFT:
            return MemberLeft(
                member=_read_actor(p.obj("member")),
                reason=p.choice("reason", LeaveReason, LeaveReason.UNKNOWN),
                removed_by=_read_actor_opt(p.obj_opt("removed_by")),
            )
        case EventKind.CHAT_UPDATED:
            return ChatUpdated(
                title=p.text("title"),
                announcement_text=p.text("announcement_text"),
                platform_member_count=p.number_opt("platform_member_count"),
                title_changed=p.flag("title_changed"),
                announcement_changed=p.flag("announcement_changed"),
            )
        case EventKind.ROLE_CHANGED:
            return RoleChanged(
                member=_read_actor(p.obj("member")),
                old_role=p.choice("old_role", Role, Role.MEMBER),
                new_role=p.choice("new_role", Role, Role.MEMBER),
            )
        case EventKind.CHAT_TICK:
            return ChatTick(
                period_seconds=p.number("period_seconds"), period_index=p.number("period_index")
            )
        case _:
            assert_never(kind)


def event_from_json(data: object) -> Event:
    root = _Obj(data, "")
    root.check_version()
    raw_kind = root.text("kind")
    try:
        kind = EventKind(raw_kind)
    except ValueError as e:
        raise CodecError("kind", f"unknown event kind {raw_kind!r}") from e
    env = root.obj("envelope")
    envelope = Envelope(
        event_id=env.text("event_id"),
        platform=env.choice("platform", Platform),
        tenant=env.text("tenant"),
        chat_id=env.text("chat_id"),
        occurred_at=env.time("occurred_at"),
        actor=_read_actor_opt(env.obj_opt("actor")),
        channel_id=env.text("channel_id"),
        thread_id=env.text("thread_id"),
    )
    return Event(envelope=envelope, payload=_read_payload(kind, root.obj("payload")))


def _read_action(a: _Obj) -> Action:
    return Action(
        type=a.choice("type", ActionType),
        rule_id=a.text("rule_id"),
        target_user_id=a.text("target_user_id"),
        target_message_id=a.text("target_message_id"),
        text=a.text("text"),
        duration_seconds=a.number("duration_seconds"),
        chat_id=a.text("chat_id"),
        channel_id=a.text("channel_id"),
        mention_user_id=a.text("mention_user_id"),
    )


def action_from_json(data: object) -> Action:
    """One action stored by :func:`action_to_json`; ``CodecError`` when malformed."""
    return _read_action(_Obj(data, "action"))


def decision_from_json(data: object, *, replayed: bool = False) -> Decision:
    root = _Obj(data, "")
    root.check_version()
    return Decision(
        event_id=root.text("event_id"),
        actions=tuple(_read_action(a) for a in root.objs("actions")),
        trace=tuple(
            RuleMatch(
                rule_id=m.text("rule_id"),
                mode=m.choice("mode", RuleMode, RuleMode.ENFORCE),
                reason=m.text("reason"),
                values=m.pairs("values"),
                silenced_by=m.text("silenced_by"),
            )
            for m in root.objs("trace")
        ),
        ruleset=root.text("ruleset"),
        ruleset_version=root.text("ruleset_version"),
        decided_at=root.time("decided_at"),
        replayed=replayed,
        explanation=tuple(_read_check(c) for c in root.objs("explanation")),
        skipped_stages=root.texts("skipped_stages"),
        language=root.text("language"),
        language_source=root.text("language_source"),
    )


def _read_check(c: _Obj) -> RuleCheck:
    return RuleCheck(
        rule_id=c.text("rule_id"),
        mode=c.choice("mode", RuleMode, RuleMode.ENFORCE),
        matched=c.flag("matched"),
        failed=tuple(
            FailedCondition(f.text("condition"), f.pairs("values")) for f in c.objs("failed")
        ),
        values=c.pairs("values"),
    )


def theme_from_json(data: object) -> Theme:
    o = _Obj(data, "theme")
    return Theme(
        keywords=o.texts("keywords"),
        phrases=o.texts("phrases"),
        languages=o.texts("languages"),
        channels=tuple(
            ChannelTheme(
                c.text("channel_id"), c.texts("keywords"), c.texts("phrases"), c.texts("examples")
            )
            for c in o.objs("channels")
        ),
        examples=o.texts("examples"),
    )


def params_from_json(data: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(data, dict):
        raise CodecError("params", f"expected an object, got {type(data).__name__}")
    for name, value in data.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise CodecError(f"params.{name}", f"expected a string value, got {value!r}")
    return tuple(sorted((str(k), str(v)) for k, v in data.items()))
