"""Small builders for domain values in tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firekeeper.domain.chats import ChatContext, ChatKey, ChatRecord, MemberRecord
from firekeeper.domain.events import (
    Actor,
    Envelope,
    Event,
    MemberJoined,
    MessagePosted,
    Payload,
    Platform,
)

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = ChatKey(Platform.TELEGRAM, "acme", "-100123")


def event(
    payload: Payload, actor: Actor | None = None, eid: str = "e1", at: datetime = T0
) -> Event:
    return Event(
        Envelope(
            event_id=eid,
            platform=KEY.platform,
            tenant=KEY.tenant,
            chat_id=KEY.chat_id,
            occurred_at=at,
            actor=actor if actor is not None else Actor(id="u1", display_name="Ann"),
        ),
        payload,
    )


def join(member_id: str = "u9", inviter: Actor | None = None, eid: str = "j1") -> Event:
    member = Actor(id=member_id, display_name=f"M{member_id}")
    return event(MemberJoined(member=member, inviter=inviter), actor=inviter or member, eid=eid)


def message(text: str = "hello", eid: str = "m1", actor_id: str = "u1") -> Event:
    return event(MessagePosted(message_id=eid, text=text), actor=Actor(id=actor_id), eid=eid)


def chat(member_count: int = 10, **kw: object) -> ChatRecord:
    return ChatRecord(key=KEY, member_count=member_count, created_at=T0 - timedelta(days=30), **kw)  # type: ignore[arg-type]


def ctx(record: ChatRecord | None = None, *members: MemberRecord) -> ChatContext:
    return ChatContext(record or chat(), {m.user_id: m for m in members})
