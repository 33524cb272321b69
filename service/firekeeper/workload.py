"""A deterministic, realistic mix of events over many chats, for the benchmark.

Shares of event kinds follow what a busy group sees: mostly messages (some with
links, mentions or attachments), a steady trickle of joins (some by invitation,
some through join requests), leaves, and occasional chat updates carrying the
platform's member count. Chats are spread over the six kinds of the article.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.events import (
    Actor,
    Attachment,
    ChatUpdated,
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
)

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
KINDS = ("work", "hobby", "growth", "family", "entertainment", "goal")
PLATFORMS = (Platform.TELEGRAM, Platform.DISCORD, Platform.WECOM)
TEXTS = (
    "Morning all! Did anyone try the new route up the north ridge?",
    "Thanks, that helped a lot",
    "Here is the chapter summary for this week: https://example.org/notes/ch7",
    "今天的读书打卡：第三章读完了，感觉作者的论证很有说服力。",
    "Can someone share the spreadsheet template from yesterday's call?",
    "😂😂😂",
    "Limited offer! Course only ¥99 today, add me on WeChat: abc123 https://t.cn/xyz",
    "Reminder: the meeting moved to 3pm, same room.",
    "I baked the sourdough again, second try came out much better",
    "ok",
)


@dataclass(frozen=True, slots=True)
class Workload:
    chats: tuple[ChatRegistration, ...]
    events: tuple[Event, ...]


def build(
    n_events: int, n_chats: int = 200, members_per_chat: int = 150, seed: int = 7
) -> Workload:
    rng = random.Random(seed)
    chats = registrations(n_chats, rng)
    return Workload(chats, tuple(stream(chats, n_events, rng, members_per_chat)))


def registrations(n_chats: int, rng: random.Random) -> tuple[ChatRegistration, ...]:
    """The workload's chats (the first draws of ``rng``)."""
    chats = []
    for i in range(n_chats):
        platform = PLATFORMS[i % len(PLATFORMS)]
        chats.append(
            ChatRegistration(
                key=ChatKey(platform, "bench", f"chat-{i}"),
                kind=KINDS[i % len(KINDS)],
                created_at=START - timedelta(days=rng.randint(1, 400)),
                member_count=rng.randint(10, 190),
                title=f"Bench group {i}",
                owner_id=f"u{i}-0",
            )
        )
    return tuple(chats)


def stream(
    chats: Sequence[ChatRegistration],
    n_events: int,
    rng: random.Random,
    members_per_chat: int = 150,
) -> Iterator[Event]:
    """The workload's events over ``chats``, made one at a time (the soak bench
    streams a million without holding them)."""
    n_chats = len(chats)
    start = START
    next_member = [members_per_chat] * n_chats
    for n in range(n_events):
        c = rng.randrange(n_chats)
        reg = chats[c]
        at = start + timedelta(seconds=n * 3)
        actor_id = f"u{c}-{rng.randrange(members_per_chat)}"
        roll = rng.random()
        payload: Payload
        actor = Actor(id=actor_id, display_name=f"Member {actor_id}")
        if roll < 0.78:
            text = rng.choice(TEXTS)
            payload = MessagePosted(
                message_id=f"m{n}",
                text=text,
                mentions=(Mention(user_id=f"u{c}-1"),) if rng.random() < 0.1 else (),
                attachments=(Attachment(kind="image"),) if rng.random() < 0.08 else (),
                reply_to_message_id=f"m{n - 1}" if rng.random() < 0.2 else "",
            )
        elif roll < 0.90:
            new_id = f"u{c}-{next_member[c]}"
            next_member[c] += 1
            invited = rng.random() < 0.6
            member = Actor(
                id=new_id,
                display_name=f"New {new_id}",
                account_created_at=at - timedelta(days=rng.randint(0, 2000))
                if reg.key.platform == Platform.DISCORD
                else None,
            )
            payload = MemberJoined(
                member=member,
                inviter=actor if invited else None,
                method=JoinMethod.ADDED_BY_MEMBER if invited else JoinMethod.INVITE_LINK,
            )
            if not invited:
                actor = member
        elif roll < 0.94:
            new_id = f"u{c}-{next_member[c]}"
            next_member[c] += 1
            member = Actor(id=new_id, display_name=f"Applicant {new_id}")
            payload = JoinRequested(member=member, bio="I like this topic")
            actor = member
        elif roll < 0.99:
            payload = MemberLeft(member=actor, reason=LeaveReason.LEFT)
        else:
            payload = ChatUpdated(
                platform_member_count=(reg.member_count or 0) + rng.randint(-3, 3)
            )
            actor = Actor(id=reg.owner_id, role=Role.OWNER)
        yield (
            Event(
                Envelope(
                    event_id=f"bench-{n}",
                    platform=reg.key.platform,
                    tenant=reg.key.tenant,
                    chat_id=reg.key.chat_id,
                    occurred_at=at,
                    actor=actor,
                ),
                payload,
            )
        )


def p50_p99_ms(latencies: Sequence[float]) -> tuple[float, float]:
    """The median and the 99th percentile of ``latencies`` (seconds), in milliseconds;
    (0, 0) for none. Every benchmark line reports these two."""
    lat = sorted(latencies)
    if not lat:
        return 0.0, 0.0
    return statistics.median(lat) * 1000, lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
