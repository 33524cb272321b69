"""Events in the compact form of ruleset tests, to domain events.

    {kind: member.joined, member: carol, inviter: olga, method: invite_link}

One function per event kind, registered with :func:`kind`; adding a kind is
adding one function. A function reads its keys through :class:`Fields`, which
records every key asked for, so a key no function reads is reported as unknown
(with a "did you mean"). People are a user id or a mapping
``{id, name, bot, role, account_age}``.
"""

from __future__ import annotations

import difflib
import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from firekeeper.domain.events import (
    Actor,
    Attachment,
    ChatTick,
    ChatUpdated,
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
)
from firekeeper.tools.suite import DEFAULT_START, moment, seconds

E = TypeVar("E", bound=enum.Enum)
SubPath = tuple[str | int, ...]

COMMON_KEYS = frozenset({"kind", "actor", "id", "channel", "thread"})
STEP_KEYS = frozenset({"at", "after", "repeat", "every", "expect"})  # read by the test runner


class StepError(Exception):
    """A problem with one key of a step (``path`` is inside the step)."""

    def __init__(self, path: SubPath, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.hint = hint


@dataclass(frozen=True)
class EventContext:
    """What a compact event does not say: where and when it happens, and its id."""

    platform: Platform = Platform.TELEGRAM
    tenant: str = "tests"
    chat_id: str = "chat"
    occurred_at: datetime = DEFAULT_START
    event_id: str = "event-1"
    owner: str = ""
    names: Mapping[str, str] = field(default_factory=dict)  # display names of known members
    n: int = 1  # the repetition, for "{n}" in strings


class Fields:
    """Typed reads of a step's keys; remembers which keys were asked for."""

    def __init__(self, raw: Mapping[str, object], ctx: EventContext) -> None:
        self.raw = raw
        self.ctx = ctx
        self.asked: set[str] = set()

    def get(self, key: str) -> object:
        self.asked.add(key)
        return self.raw.get(key)

    def text(self, key: str, default: str = "") -> str:
        value = self.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise StepError((key,), f"{key} must be text, not {value!r}")
        return str(value).replace("{n}", str(self.ctx.n))

    def flag(self, key: str) -> bool:
        value = self.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise StepError((key,), f"{key} must be true or false, not {value!r}")
        return value

    def count(self, key: str) -> int | None:
        value = self.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise StepError((key,), f"{key} must be a whole number >= 0, not {value!r}")
        return value

    def duration(self, key: str) -> int | None:
        value = self.get(key)
        if value is None:
            return None
        try:
            return seconds(value)
        except ValueError as exc:
            raise StepError((key,), str(exc)) from None

    def choice(self, key: str, enum_type: type[E], default: E) -> E:
        value = self.get(key)
        if value is None:
            return default
        try:
            return enum_type(value)
        except ValueError:
            options = [str(e.value) for e in enum_type]
            close = difflib.get_close_matches(str(value), options, n=1)
            hint = f"did you mean {close[0]!r}?" if close else "one of: " + ", ".join(options)
            raise StepError((key,), f"invalid {key} {value!r}", hint) from None

    def items(self, key: str) -> list[object]:
        value = self.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise StepError((key,), f"{key} must be a list")
        return value

    def person(self, key: str, *, required: bool = False) -> Actor | None:
        value = self.get(key)
        if value is None:
            if required:
                raise StepError((), f"missing required key {key!r}", f"e.g. `{key}: carol`")
            return None
        return _person(value, (key,), self)

    def require(self, key: str) -> Actor:
        found = self.person(key, required=True)
        assert found is not None
        return found


_PERSON_KEYS = ("id", "name", "bot", "role", "account_age")


def _person(value: object, path: SubPath, f: Fields) -> Actor:
    ctx = f.ctx
    if isinstance(value, str | int) and not isinstance(value, bool):
        user = str(value).replace("{n}", str(ctx.n))
        return Actor(id=user, display_name=ctx.names.get(user, user))
    if not isinstance(value, dict):
        raise StepError(path, "a person is a user id or a mapping {id, name, bot, role}")
    unknown = [k for k in value if k not in _PERSON_KEYS]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), _PERSON_KEYS, n=1)
        hint = f"did you mean {close[0]!r}?" if close else _allowed(_PERSON_KEYS)
        raise StepError((*path, unknown[0]), f"unknown key {unknown[0]!r}", hint)
    sub = Fields(value, ctx)
    user = sub.text("id")
    if not user:
        raise StepError(path, "a person needs an id")
    age = sub.duration("account_age")
    try:
        return Actor(
            id=user,
            display_name=sub.text("name") or ctx.names.get(user, user),
            is_bot=sub.flag("bot"),
            role=sub.choice("role", Role, Role.MEMBER),
            account_created_at=None if age is None else ctx.occurred_at - timedelta(seconds=age),
        )
    except StepError as exc:
        raise StepError((*path, *exc.path), exc.message, exc.hint) from None


Builder = Callable[[Fields], tuple[Payload, Actor | None]]
"""Reads a kind's keys; returns the payload and the actor when the step names none."""

BUILDERS: dict[str, Builder] = {}


def kind(name: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        BUILDERS[name] = fn
        return fn

    return register


@kind("message.posted")
def _message(f: Fields) -> tuple[Payload, Actor | None]:
    actor = f.require("actor")
    attachments = []
    for i, item in enumerate(f.items("attachments")):
        if isinstance(item, str):
            attachments.append(Attachment(kind=item))
        elif isinstance(item, dict) and isinstance(item.get("kind"), str):
            keys = ("kind", "url", "title", "description", "file_name")
            if any(k not in keys for k in item):
                raise StepError(("attachments", i), "unknown key in attachment", _allowed(keys))
            attachments.append(Attachment(**{k: str(v) for k, v in item.items()}))
        else:
            raise StepError(("attachments", i), "an attachment is a kind or {kind, url, title}")
    mentions = []
    for i, item in enumerate(f.items("mentions")):
        if item in ("everyone", "all"):
            mentions.append(Mention(everyone=True))
        elif isinstance(item, str | int) and not isinstance(item, bool):
            mentions.append(Mention(user_id=str(item)))
        else:
            raise StepError(("mentions", i), "a mention is a user id or `everyone`")
    links = []
    for i, item in enumerate(f.items("links")):
        if not isinstance(item, str):
            raise StepError(("links", i), "a link is a URL")
        links.append(item)
    forward = f.get("forward")
    reply_to = f.text("reply_to")
    payload = MessagePosted(
        message_id=f.text("message_id") or f"msg-{f.ctx.event_id}",
        text=f.text("text"),
        links=tuple(links),
        mentions=tuple(mentions),
        attachments=tuple(attachments),
        reply_to_message_id=f"msg-to-{reply_to}" if reply_to else "",
        reply_to_user_id=reply_to,
        is_forward=bool(forward),
        forwarded_from=forward if isinstance(forward, str) else "",
        is_announcement=f.flag("announcement"),
        is_pinned_notice=f.flag("pinned"),
        is_edit=f.flag("edit"),
    )
    return payload, actor


@kind("member.joined")
def _joined(f: Fields) -> tuple[Payload, Actor | None]:
    member = f.require("member")
    inviter = f.person("inviter")
    method = f.choice("method", JoinMethod, JoinMethod.UNKNOWN)
    payload = MemberJoined(
        member=member, inviter=inviter, method=method, invite_link=f.text("invite_link")
    )
    by_inviter = method == JoinMethod.ADDED_BY_MEMBER and inviter is not None
    return payload, inviter if by_inviter else member


@kind("join.requested")
def _requested(f: Fields) -> tuple[Payload, Actor | None]:
    member = f.require("member")
    answers = []
    for i, item in enumerate(f.items("answers")):
        if isinstance(item, str):
            answers.append(EntryAnswer(question=f"question {i + 1}", answer=item))
        elif isinstance(item, dict) and set(item) <= {"question", "answer"}:
            answers.append(EntryAnswer(str(item.get("question", "")), str(item.get("answer", ""))))
        else:
            raise StepError(("answers", i), "an answer is text or {question, answer}")
    payload = JoinRequested(
        member=member,
        answers=tuple(answers),
        bio=f.text("bio"),
        invite_link=f.text("invite_link"),
        inviter=f.person("inviter"),
    )
    return payload, member


@kind("member.left")
def _left(f: Fields) -> tuple[Payload, Actor | None]:
    member = f.require("member")
    by = f.person("by")
    reason = f.choice("reason", LeaveReason, LeaveReason.LEFT)
    return MemberLeft(member=member, reason=reason, removed_by=by), by or member


@kind("chat.updated")
def _updated(f: Fields) -> tuple[Payload, Actor | None]:
    title, announcement = f.text("title"), f.text("announcement")
    title_changed = f.flag("title_changed") or bool(title and f.get("title_changed") is None)
    announced = f.flag("announcement_changed") or bool(
        announcement and f.get("announcement_changed") is None
    )
    payload = ChatUpdated(
        title=title,
        announcement_text=announcement,
        platform_member_count=f.count("member_count"),
        title_changed=title_changed,
        announcement_changed=announced,
    )
    return payload, _owner(f)


@kind("role.changed")
def _role(f: Fields) -> tuple[Payload, Actor | None]:
    member = f.require("member")
    if f.get("new") is None:
        raise StepError((), "missing required key 'new'", "the role after: member, admin, ...")
    old = f.choice("old", Role, Role.MEMBER)
    return RoleChanged(member=member, old_role=old, new_role=f.choice("new", Role, old)), _owner(f)


@kind("chat.tick")
def _tick(f: Fields) -> tuple[Payload, Actor | None]:
    period = f.duration("period") or 86400
    index = f.count("index")
    if index is None:
        index = int(f.ctx.occurred_at.timestamp()) // period
    return ChatTick(period_seconds=period, period_index=index), None


def _owner(f: Fields) -> Actor | None:
    owner = f.ctx.owner
    return Actor(id=owner, display_name=f.ctx.names.get(owner, owner)) if owner else None


def build_event(raw: Mapping[str, object], ctx: EventContext) -> Event:
    """The domain event a compact step describes; StepError names the offending key."""
    name = raw.get("kind")
    if not isinstance(name, str):
        raise StepError((), "missing required key 'kind'", "e.g. `kind: message.posted`")
    builder = BUILDERS.get(name)
    if builder is None:
        close = difflib.get_close_matches(name, list(BUILDERS), n=1)
        hint = f"did you mean {close[0]!r}?" if close else "kinds: " + ", ".join(BUILDERS)
        raise StepError(("kind",), f"unknown event kind {name!r}", hint)
    f = Fields(raw, ctx)
    payload, default_actor = builder(f)
    actor = f.person("actor") or default_actor
    envelope = Envelope(
        event_id=f.text("id") or ctx.event_id,
        platform=ctx.platform,
        tenant=ctx.tenant,
        chat_id=ctx.chat_id,
        occurred_at=ctx.occurred_at,
        actor=actor,
        channel_id=f.text("channel"),
        thread_id=f.text("thread"),
    )
    allowed = COMMON_KEYS | STEP_KEYS | f.asked
    for key in raw:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f"did you mean {close[0]!r}?" if close else _allowed(sorted(allowed))
            raise StepError((key,), f"unknown key {key!r} for {name}", hint)
    return Event(envelope, payload)


def step_time(raw: Mapping[str, object], start: datetime, previous: datetime | None) -> datetime:
    """When a step happens: ``at`` (``+2d`` after start, or a time), ``after`` (the previous
    step), else one second after the previous step (the start for the first)."""
    at, after = raw.get("at"), raw.get("after")
    if at is not None and after is not None:
        raise StepError(("after",), "give `at` or `after`, not both")
    if at is not None:
        if isinstance(at, str) and at.startswith("+"):
            try:
                return start + timedelta(seconds=seconds(at[1:]))
            except ValueError as exc:
                raise StepError(("at",), str(exc)) from None
        try:
            return moment(at)
        except ValueError as exc:
            raise StepError(("at",), str(exc), "write +2d for two days after the start") from None
    base = previous if previous is not None else start
    if after is not None:
        try:
            return base + timedelta(seconds=seconds(after))
        except ValueError as exc:
            raise StepError(("after",), str(exc)) from None
    return base if previous is None else base + timedelta(seconds=1)


def repeat_of(raw: Mapping[str, object]) -> int:
    value = raw.get("repeat", 1)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10_000:
        raise StepError(
            ("repeat",), f"repeat must be a whole number from 1 to 10000, not {value!r}"
        )
    return value


def every_of(raw: Mapping[str, object]) -> timedelta:
    """The time between repetitions of a step (``every``, default one second)."""
    value = raw.get("every")
    if value is None:
        return timedelta(seconds=1)
    try:
        return timedelta(seconds=seconds(value))
    except ValueError as exc:
        raise StepError(("every",), str(exc)) from None


def check_step(raw: Mapping[str, object]) -> list[tuple[SubPath, str, str]]:
    """Every problem of one step, found by building it once with a stand-in context."""
    problems: list[tuple[SubPath, str, str]] = []
    for check in (
        lambda: build_event(raw, EventContext()),
        lambda: step_time(raw, DEFAULT_START, None),
        lambda: repeat_of(raw),
        lambda: every_of(raw),
    ):
        try:
            check()
        except StepError as exc:
            problems.append((exc.path, exc.message, exc.hint))
    return problems


def _allowed(keys: Iterable[str]) -> str:
    return "allowed keys: " + ", ".join(keys)
