"""``ImportChatHistory`` messages <-> domain values (``firekeeper.domain.onboarding``).

Parsed and bounded here: ``InvalidEvent`` with the field path of the first bad value.
"""

from __future__ import annotations

from datetime import date

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.onboarding import (
    MAX_DAYS,
    MAX_MEMBERS,
    ChatHistory,
    DayActivity,
    ImportSummary,
    MemberHistory,
)
from firekeeper.errors import InvalidEvent

MAX_MESSAGES = 2**31 - 1


def _member(m: pb.MemberHistory, path: str) -> MemberHistory:
    role = pb.ROLE_MEMBER if m.role == pb.ROLE_UNSPECIFIED else m.role
    if not 0 <= m.message_count <= convert.MAX_COUNT:
        raise InvalidEvent(f"{path}.message_count", f"must be from 0 to {convert.MAX_COUNT}")
    if m.messages_30d < 0:
        raise InvalidEvent(f"{path}.messages_30d", "must not be negative")
    if m.messages_30d > m.message_count:
        raise InvalidEvent(f"{path}.messages_30d", "more than the member's message_count")
    return MemberHistory(
        user_id=convert._string(m.user_id, f"{path}.user_id", required=True),
        display_name=convert._string(
            m.display_name, f"{path}.display_name", limit=convert.MAX_NAME_CHARS
        ),
        role=convert._enum(convert._ROLE, role, f"{path}.role", "role"),
        is_bot=m.is_bot,
        joined_at=convert._optional_time(m, "joined_at", path),
        message_count=m.message_count,
        last_message_at=convert._optional_time(m, "last_message_at", path),
        messages_30d=m.messages_30d,
    )


def _day(d: pb.DayActivity, path: str) -> DayActivity:
    try:
        day = date.fromisoformat(d.day) if len(d.day) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise InvalidEvent(f"{path}.day", f"not a UTC day YYYY-MM-DD: {d.day[:40]!r}")
    if d.messages < 0:
        raise InvalidEvent(f"{path}.messages", "must not be negative")
    return DayActivity(day, d.messages)


def import_request_from_proto(msg: pb.ImportChatHistoryRequest) -> tuple[ChatKey, ChatHistory]:
    if not msg.HasField("chat"):
        raise InvalidEvent("chat", "required")
    key = convert.chat_key_from_proto(msg.chat, path="chat")
    if not msg.HasField("as_of"):
        raise InvalidEvent("as_of", "required: when the history was read")
    as_of = convert._time(msg.as_of, "as_of")
    if len(msg.members) > MAX_MEMBERS:
        raise InvalidEvent("members", f"too many: {len(msg.members)}, at most {MAX_MEMBERS} a call")
    if len(msg.days) > MAX_DAYS:
        raise InvalidEvent("days", f"too many: {len(msg.days)}, at most {MAX_DAYS}")
    members: list[MemberHistory] = []
    seen: set[str] = set()
    for i, m in enumerate(msg.members):
        member = _member(m, f"members[{i}]")
        if member.user_id in seen:
            raise InvalidEvent(f"members[{i}].user_id", f"{member.user_id!r} is given twice")
        for name, at in (
            ("joined_at", member.joined_at),
            ("last_message_at", member.last_message_at),
        ):
            if at is not None and at > as_of:
                raise InvalidEvent(f"members[{i}].{name}", "after as_of")
        seen.add(member.user_id)
        members.append(member)
    days: list[DayActivity] = []
    dates: set[date] = set()
    for i, d in enumerate(msg.days):
        day = _day(d, f"days[{i}]")
        if day.day in dates:
            raise InvalidEvent(f"days[{i}].day", f"{day.day} is given twice")
        if day.day > as_of.date():
            raise InvalidEvent(f"days[{i}].day", "after as_of")
        dates.add(day.day)
        days.append(day)
    for name in ("substantive_posts", "answered_questions"):
        if not 0 <= getattr(msg, name) <= convert.MAX_COUNT:
            raise InvalidEvent(name, f"must be from 0 to {convert.MAX_COUNT}")
    return key, ChatHistory(
        as_of=as_of,
        members=tuple(members),
        days=tuple(days),
        substantive_posts=msg.substantive_posts,
        answered_questions=msg.answered_questions,
    )


def import_summary_to_proto(s: ImportSummary) -> pb.ImportChatHistoryResponse:
    out = pb.ImportChatHistoryResponse(
        members_added=s.members_added,
        members_updated=s.members_updated,
        days_imported=s.days_imported,
        days_skipped=s.days_skipped,
    )
    out.watched_since.FromDatetime(s.watched_since)
    return out
