"""Events and chats for the lifecycle tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from firekeeper.domain.chats import ChatKey, ChatRegistration, Theme
from firekeeper.domain.events import (
    Actor,
    ChatUpdated,
    Envelope,
    Event,
    MemberJoined,
    MemberLeft,
    Mention,
    MessagePosted,
    Platform,
    Role,
)

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
KEY = ChatKey(Platform.TELEGRAM, "acme", "-100555")
READING = Theme(
    keywords=("book", "reading", "chapter", "author", "novel", "读书", "阅读", "小说"),
    phrases=("book club",),
    languages=("en", "zh"),
)
OWNER = Actor(id="olga", display_name="Olga", role=Role.OWNER)

OFF_TOPIC = (
    "What did everyone eat for lunch today? I had noodles",
    "My boss is so annoying again this week at work",
    "Anyone watching the football game tonight at home",
    "The weather is terrible, raining all day long here",
    "I bought new running shoes yesterday afternoon downtown",
    "Traffic downtown was awful this morning once again",
    "Which phone should I buy next month, any advice",
    "Our cat knocked over a plant in the kitchen today",
)
ON_TOPIC = "Chapter 4 of the book was the best so far"

_seq = iter(range(10**9))


def registration(kind: str = "growth", **kw: object) -> ChatRegistration:
    values: dict[str, object] = {
        "key": KEY,
        "kind": kind,
        "theme": READING,
        "owner_id": OWNER.id,
        "member_count": 30,
        "created_at": T0 - timedelta(days=90),
    }
    values.update(kw)
    return ChatRegistration(**values)  # type: ignore[arg-type]


def person(user_id: str, role: Role = Role.MEMBER) -> Actor:
    return Actor(id=user_id, display_name=user_id.title(), role=role)


def message(
    text: str,
    at: datetime,
    who: Actor | str = "u1",
    *,
    mentions: tuple[str, ...] = (),
    announcement: bool = False,
    channel: str = "",
) -> Event:
    actor = person(who) if isinstance(who, str) else who
    n = next(_seq)
    return Event(
        Envelope(f"m-{n}", KEY.platform, KEY.tenant, KEY.chat_id, at, actor, channel_id=channel),
        MessagePosted(
            message_id=f"msg-{n}",
            text=text,
            mentions=tuple(Mention(user_id=m) for m in mentions),
            is_announcement=announcement,
        ),
    )


def joined(user_id: str, at: datetime) -> Event:
    member = person(user_id)
    return Event(
        Envelope(f"j-{next(_seq)}", KEY.platform, KEY.tenant, KEY.chat_id, at, member),
        MemberJoined(member=member),
    )


def left(user_id: str, at: datetime) -> Event:
    member = person(user_id)
    return Event(
        Envelope(f"l-{next(_seq)}", KEY.platform, KEY.tenant, KEY.chat_id, at, member),
        MemberLeft(member=member),
    )


def announcement_update(text: str, at: datetime) -> Event:
    return Event(
        Envelope(f"u-{next(_seq)}", KEY.platform, KEY.tenant, KEY.chat_id, at, OWNER),
        ChatUpdated(announcement_text=text, announcement_changed=True),
    )
