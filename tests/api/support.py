"""Test doubles and builders for the API tests: a fake GovernancePort, sample events."""

from __future__ import annotations

import dataclasses
import threading
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime

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
from firekeeper.domain.chats import ChatKey, ChatRecord, ChatRegistration
from firekeeper.domain.views import ChatView, RulesetSummary
from firekeeper.errors import ChatNotFound

DECIDED_AT = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


class FakePort:
    """In-memory stand-in for the pipeline. Thread-safe enough for the tests."""

    def __init__(self) -> None:
        self.evaluated: list[str] = []  # event ids, in the order evaluate() was entered
        self.batches: list[int] = []  # the size of each evaluate_batch call, in order
        self.failures: dict[str, Exception] = {}  # event id -> exception to raise
        self.blocked: dict[str, threading.Event] = {}  # event id -> released when set
        self.entered = threading.Event()  # set when a blocked event starts
        self.decisions: dict[str, Decision] = {}
        self.chats: dict[ChatKey, ChatView] = {}
        self.is_ready = True
        self.ready_error: Exception | None = None

    def evaluate(self, event: Event) -> Decision:
        event_id = event.envelope.event_id
        self.evaluated.append(event_id)
        gate = self.blocked.get(event_id)
        if gate is not None:
            self.entered.set()
            gate.wait(10)
        if event_id in self.failures:
            raise self.failures[event_id]
        if event_id in self.decisions:
            return dataclasses.replace(self.decisions[event_id], replayed=True)
        actor = event.envelope.actor or Actor(id="")
        decision = Decision(
            event_id=event_id,
            actions=(
                Action(ActionType.WARN_USER, "promo.too_early", target_user_id=actor.id, text="no"),
                Action(ActionType.MUTE, "promo.too_early", actor.id, duration_seconds=600),
            ),
            trace=(
                RuleMatch(
                    "promo.too_early",
                    RuleMode.ENFORCE,
                    "promotion before trust",
                    (("chat.age", "3600"),),
                ),
                RuleMatch("topic.drift", RuleMode.SHADOW, "off topic", ()),
            ),
            ruleset="hobby",
            ruleset_version="3",
            decided_at=DECIDED_AT,
        )
        self.decisions[event_id] = decision
        return decision

    def evaluate_batch(
        self, events: Sequence[Event], *, explain: bool | Sequence[bool] = False
    ) -> list[Decision | Exception]:
        """As ``Pipeline.evaluate_batch``: in order, one event's error is its own."""
        self.batches.append(len(events))
        out: list[Decision | Exception] = []
        for item in events:
            try:
                out.append(self.evaluate(item))
            except Exception as exc:
                out.append(exc)
        return out

    def register_chat(self, reg: ChatRegistration) -> ChatView:
        view = ChatView(
            chat=ChatRecord(
                key=reg.key,
                ruleset=reg.ruleset or "hobby",
                kind=reg.kind,
                theme=reg.theme,
                created_at=reg.created_at,
                params=tuple(sorted(reg.params.items())),
                member_count=reg.member_count or 0,
                title=reg.title,
                owner_id=reg.owner_id,
                registered=True,
            ),
            effective_params={"max_members": "200", **reg.params},
            size_tier="small",
        )
        self.chats[reg.key] = view
        return view

    def get_chat(self, key: ChatKey) -> ChatView:
        try:
            return self.chats[key]
        except KeyError:
            raise ChatNotFound(str(key)) from None

    def list_rulesets(self) -> list[RulesetSummary]:
        return [
            RulesetSummary(
                name="hobby",
                version="3",
                kind="hobby",
                description="hobby groups",
                rule_count=12,
                params=(("max_members", "200", "size cap"),),
                source="hobby.yaml",
            )
        ]

    def ready(self) -> bool:
        if self.ready_error is not None:
            raise self.ready_error
        return self.is_ready


def actor(user_id: str = "u1", **kw: object) -> Actor:
    return Actor(id=user_id, **kw)  # type: ignore[arg-type]


def event(
    payload: Payload | None = None,
    *,
    event_id: str = "e1",
    platform: Platform = Platform.TELEGRAM,
    who: Actor | None = None,
) -> Event:
    return Event(
        envelope=Envelope(
            event_id=event_id,
            platform=platform,
            tenant="acme",
            chat_id="-1001",
            occurred_at=datetime(2024, 5, 1, 9, 30, 15, 123456, tzinfo=UTC),
            actor=who if who is not None else actor(),
        ),
        payload=payload if payload is not None else MessagePosted(message_id="m1", text="hi"),
    )


FULL_ACTOR = Actor(
    id="u42",
    display_name="Ada",
    is_bot=False,
    role=Role.ADMIN,
    account_created_at=datetime(2019, 1, 2, 3, 4, 5, tzinfo=UTC),
    language_code="zh-Hans",
    is_premium=True,
)

PAYLOADS: dict[str, Payload] = {
    "message_posted": MessagePosted(
        message_id="m7",
        text="join my paid course 👉 https://x.example",
        links=("https://x.example", "https://y.example/a?b=c"),
        mentions=(Mention(user_id="u2"), Mention(everyone=True), Mention(role_id="r1")),
        attachments=(
            Attachment(kind="image"),
            Attachment(kind="link_card", url="https://x.example", title="X", description="d"),
            Attachment(kind="mini_program", title="shop"),
            Attachment(kind="file", file_name="a.pdf"),
            Attachment(kind="other"),
        ),
        reply_to_message_id="m6",
        reply_to_user_id="u3",
        is_forward=True,
        forwarded_from="channel:deals",
        is_announcement=True,
        is_pinned_notice=True,
        is_edit=True,
    ),
    "member_joined": MemberJoined(
        member=FULL_ACTOR, inviter=actor("u9"), method=JoinMethod.QR_CODE, invite_link="t.me/+x"
    ),
    "join_requested": JoinRequested(
        member=actor("u5", is_bot=True),
        answers=(EntryAnswer("why?", "to learn"), EntryAnswer("from?", "")),
        bio="I sell things",
        invite_link="t.me/+y",
        inviter=actor("u6", role=Role.OWNER),
    ),
    "member_left": MemberLeft(
        member=actor("u5"), reason=LeaveReason.BANNED, removed_by=actor("u1", role=Role.ADMIN)
    ),
    "chat_updated": ChatUpdated(
        title="Runners",
        announcement_text="Rules:\n1. run",
        platform_member_count=51,
        title_changed=True,
        announcement_changed=True,
    ),
    "role_changed": RoleChanged(member=actor("u5"), old_role=Role.MEMBER, new_role=Role.RESTRICTED),
    "chat_tick": ChatTick(period_seconds=3600, period_index=476_000),
}

MINIMAL_PAYLOADS: dict[str, Payload] = {
    "message_posted": MessagePosted(message_id="m1"),
    "member_joined": MemberJoined(member=actor("u2")),
    "join_requested": JoinRequested(member=actor("u2")),
    "member_left": MemberLeft(member=actor("u2")),
    "chat_updated": ChatUpdated(),
    "role_changed": RoleChanged(member=actor("u2")),
    "chat_tick": ChatTick(period_seconds=60),
}


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as response:
        return str(response.read().decode())
