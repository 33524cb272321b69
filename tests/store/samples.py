"""Domain values for the store tests: every payload kind, full snapshots, decisions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from firekeeper.domain.chats import ChannelTheme, ChatKey, ChatRecord, MemberRecord, Theme
from firekeeper.domain.decisions import Action, ActionType, Decision, RuleMatch, RuleMode
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

T0 = datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
KEY = ChatKey(Platform.TELEGRAM, "acme", "-100123")

ALICE = Actor(
    id="u-alice",
    display_name="Alice 🔥",
    is_bot=False,
    role=Role.ADMIN,
    account_created_at=T0 - timedelta(days=900),
    language_code="zh-hans",
    is_premium=True,
)
BOB = Actor(id="u-bob", display_name="Bob", is_bot=True, role=Role.RESTRICTED)


def envelope(event_id: str, *, key: ChatKey = KEY, at: datetime = T0) -> Envelope:
    return Envelope(
        event_id=event_id,
        platform=key.platform,
        tenant=key.tenant,
        chat_id=key.chat_id,
        occurred_at=at,
        actor=ALICE,
        channel_id="ch-1",
        thread_id="th-9",
    )


def every_payload() -> list[Payload]:
    """One payload of each kind, with every field away from its default."""
    return [
        MessagePosted(
            message_id="m-1",
            text="看看这个 https://example.com/x?a=1 \n second line",
            links=("https://example.com/x?a=1", "t.me/joinchat/abc"),
            mentions=(Mention(user_id="u-bob"), Mention(everyone=True), Mention(role_id="r-1")),
            attachments=(
                Attachment(kind="image", url="https://cdn/x.png", title="t", description="d"),
                Attachment(kind="file", file_name="a.pdf"),
            ),
            reply_to_message_id="m-0",
            reply_to_user_id="u-bob",
            is_forward=True,
            forwarded_from="channel-7",
            is_announcement=True,
            is_pinned_notice=True,
            is_edit=True,
        ),
        MemberJoined(
            member=BOB, inviter=ALICE, method=JoinMethod.INVITE_LINK, invite_link="t.me/+abc"
        ),
        MemberJoined(member=BOB),  # no inviter
        JoinRequested(
            member=BOB,
            answers=(EntryAnswer("why join?", "to learn"), EntryAnswer("from?", "")),
            bio="crypto signals daily",
            invite_link="t.me/+req",
            inviter=ALICE,
        ),
        MemberLeft(member=BOB, reason=LeaveReason.BANNED, removed_by=ALICE),
        ChatUpdated(
            title="Readers",
            announcement_text="Rules:\n1. be kind",
            platform_member_count=187,
            title_changed=True,
            announcement_changed=True,
        ),
        ChatUpdated(),  # platform_member_count None
        RoleChanged(member=BOB, old_role=Role.MEMBER, new_role=Role.OWNER),
        ChatTick(period_seconds=3600, period_index=480_000),
    ]


def event(
    event_id: str, payload: Payload | None = None, *, key: ChatKey = KEY, at: datetime = T0
) -> Event:
    return Event(
        envelope=envelope(event_id, key=key, at=at),
        payload=payload if payload is not None else MessagePosted(message_id=f"m-{event_id}"),
    )


def decision(event_id: str, decided_at: datetime = T0) -> Decision:
    return Decision(
        event_id=event_id,
        actions=(
            Action(type=ActionType.DELETE_MESSAGE, rule_id="no-promo", target_message_id="m-1"),
            Action(
                type=ActionType.MUTE,
                rule_id="no-promo",
                target_user_id="u-alice",
                text="请不要发广告",
                duration_seconds=3600,
                chat_id="-100123",
                channel_id="ch-1",
            ),
        ),
        trace=(
            RuleMatch(
                rule_id="no-promo",
                mode=RuleMode.ENFORCE,
                reason="promotion before the group is 30 days old",
                values=(("chat.age_days", "3"), ("message.links", '["https://x"]')),
            ),
            RuleMatch(rule_id="nudge", mode=RuleMode.SHADOW, reason="off topic", values=()),
        ),
        ruleset="hobby",
        ruleset_version="sha256:abc",
        decided_at=decided_at,
    )


def full_chat(key: ChatKey = KEY) -> ChatRecord:
    return ChatRecord(
        key=key,
        ruleset="hobby",
        kind="hobby",
        theme=Theme(
            keywords=("书", "reading"),
            phrases=("book club",),
            languages=("zh", "en"),
            channels=(ChannelTheme("c-free"), ChannelTheme("c-poems", ("poem", "诗"), ("haiku",))),
        ),
        created_at=T0 - timedelta(days=40),
        params=(("hard_cap", "500"), ("promo_min_age_days", "30")),
        member_count=42,
        title="Readers 📚",
        message_count=1234,
        last_message_at=T0,
        owner_id="u-alice",
        events_processed=2000,
        registered=True,
    )


def full_member(user_id: str = "u-bob") -> MemberRecord:
    return MemberRecord(
        user_id=user_id,
        display_name="Bob",
        is_bot=True,
        role=Role.RESTRICTED,
        is_member=True,
        joined_at=T0 - timedelta(days=1),
        first_joined_at=T0 - timedelta(days=10),
        left_at=T0 - timedelta(days=2),
        inviter_id="u-alice",
        message_count=17,
        last_seen_at=T0,
        invited_count=3,
        # a non-UTC offset: the store keeps the instant and answers in UTC
        account_created_at=datetime(2020, 1, 1, 8, 0, tzinfo=timezone(timedelta(hours=8))),
    )
