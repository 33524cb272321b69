"""proto <-> domain: round trips for every payload kind, and InvalidEvent field paths."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.domain import (
    Action,
    ActionType,
    ChatUpdated,
    Decision,
    Event,
    MessagePosted,
    Platform,
    RuleMatch,
    RuleMode,
)
from firekeeper.domain.chats import ChannelTheme, ChatKey, ChatRecord, ChatRegistration, Theme
from firekeeper.domain.views import ChatView, RulesetSummary
from firekeeper.errors import InvalidEvent

from .support import FULL_ACTOR, MINIMAL_PAYLOADS, PAYLOADS, event


def roundtrip(e: Event) -> Event:
    wire = pb.Event.FromString(convert.event_to_proto(e).SerializeToString())
    return convert.event_from_proto(wire)


@pytest.mark.parametrize("kind", sorted(PAYLOADS))
def test_every_payload_kind_round_trips(kind: str) -> None:
    original = event(PAYLOADS[kind], who=FULL_ACTOR)
    assert convert.event_to_proto(original).WhichOneof("payload") == kind
    assert roundtrip(original) == original


@pytest.mark.parametrize("kind", sorted(MINIMAL_PAYLOADS))
def test_minimal_payloads_round_trip(kind: str) -> None:
    original = event(MINIMAL_PAYLOADS[kind])
    assert roundtrip(original) == original


@pytest.mark.parametrize("platform", list(Platform))
def test_every_platform_round_trips(platform: Platform) -> None:
    original = event(platform=platform)
    assert roundtrip(original).envelope.platform is platform


def test_chat_updated_may_come_without_actor() -> None:
    original = event(ChatUpdated(title="x"))
    original = dataclasses.replace(
        original, envelope=dataclasses.replace(original.envelope, actor=None)
    )
    assert roundtrip(original) == original


def test_times_are_tz_aware_utc() -> None:
    local = datetime(2024, 5, 1, 11, 30, tzinfo=timezone(timedelta(hours=2)))
    msg = convert.event_to_proto(event())
    msg.envelope.occurred_at.FromDatetime(local)
    parsed = convert.event_from_proto(msg)
    assert parsed.envelope.occurred_at == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert parsed.envelope.occurred_at.tzinfo is UTC


def test_unspecified_role_and_attachment_kind_get_defaults() -> None:
    msg = convert.event_to_proto(event())
    msg.envelope.actor.role = pb.ROLE_UNSPECIFIED
    msg.message_posted.attachments.add(kind=pb.ATTACHMENT_KIND_UNSPECIFIED)
    parsed = convert.event_from_proto(msg)
    assert parsed.envelope.actor is not None
    assert parsed.envelope.actor.role == "member"
    assert isinstance(parsed.payload, MessagePosted)
    assert parsed.payload.attachments[0].kind == "other"


def _bad(mutate: Callable[[pb.Event], object]) -> pb.Event:
    msg = convert.event_to_proto(event())
    mutate(msg)
    return msg


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        (
            lambda m: setattr(m.envelope, "platform", 99),
            "event.envelope.platform",
            "unknown platform",
        ),
        (lambda m: setattr(m.envelope, "platform", 0), "event.envelope.platform", "required"),
        (lambda m: setattr(m.envelope, "event_id", ""), "event.envelope.event_id", "required"),
        (lambda m: setattr(m.envelope, "event_id", "  "), "event.envelope.event_id", "required"),
        (lambda m: setattr(m.envelope, "tenant", ""), "event.envelope.tenant", "required"),
        (lambda m: setattr(m.envelope, "chat_id", ""), "event.envelope.chat_id", "required"),
        (lambda m: m.envelope.ClearField("occurred_at"), "event.envelope.occurred_at", "required"),
        (lambda m: m.envelope.ClearField("actor"), "event.envelope.actor", "required"),
        (lambda m: m.ClearField("envelope"), "event.envelope", "required"),
        (lambda m: m.ClearField("message_posted"), "event.payload", "required"),
        (lambda m: setattr(m.envelope.actor, "id", ""), "event.envelope.actor.id", "required"),
        (
            lambda m: setattr(m.envelope.actor, "role", 42),
            "event.envelope.actor.role",
            "unknown role",
        ),
        (
            lambda m: setattr(m.envelope, "event_id", "x" * 257),
            "event.envelope.event_id",
            "too long",
        ),
        (
            lambda m: setattr(m.envelope.occurred_at, "seconds", 2**40),
            "event.envelope.occurred_at",
            "out of range",
        ),
        (
            lambda m: setattr(m.message_posted, "message_id", ""),
            "event.message_posted.message_id",
            "required",
        ),
        (
            lambda m: setattr(m.message_posted, "text", "é" * 40_000),
            "event.message_posted.text",
            "too long",
        ),
        (
            lambda m: m.message_posted.links.extend(["https://a"] * 1001),
            "event.message_posted.links",
            "too many",
        ),
        (
            lambda m: m.message_posted.links.append("h" * 5000),
            "event.message_posted.links[0]",
            "too long",
        ),
        (
            lambda m: m.message_posted.mentions.extend([pb.Mention(everyone=True)] * 1001),
            "event.message_posted.mentions",
            "too many",
        ),
        (
            lambda m: m.message_posted.attachments.add(kind=77),
            "event.message_posted.attachments[0].kind",
            "unknown attachment kind",
        ),
    ],
)
def test_invalid_events_name_the_field(
    mutate: Callable[[pb.Event], object], field: str, reason: str
) -> None:
    with pytest.raises(InvalidEvent) as info:
        convert.event_from_proto(_bad(mutate))
    assert info.value.field == field
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (pb.Event(member_joined=pb.MemberJoined()), "event.member_joined.member"),
        (
            pb.Event(member_joined=pb.MemberJoined(member=pb.Actor())),
            "event.member_joined.member.id",
        ),
        (
            pb.Event(member_joined=pb.MemberJoined(member=pb.Actor(id="u"), inviter=pb.Actor())),
            "event.member_joined.inviter.id",
        ),
        (
            pb.Event(
                member_joined=pb.MemberJoined(
                    member=pb.Actor(id="u"), method=pb.JoinMethod.ValueType(9)
                )
            ),
            "event.member_joined.method",
        ),
        (pb.Event(join_requested=pb.JoinRequested()), "event.join_requested.member"),
        (
            pb.Event(
                member_left=pb.MemberLeft(
                    member=pb.Actor(id="u"), reason=pb.LeaveReason.ValueType(9)
                )
            ),
            "event.member_left.reason",
        ),
        (
            pb.Event(
                role_changed=pb.RoleChanged(member=pb.Actor(id="u"), new_role=pb.Role.ValueType(9))
            ),
            "event.role_changed.new_role",
        ),
        (
            pb.Event(chat_updated=pb.ChatUpdated(platform_member_count=-1)),
            "event.chat_updated.platform_member_count",
        ),
    ],
)
def test_invalid_payloads_name_the_field(payload: pb.Event, field: str) -> None:
    msg = convert.event_to_proto(event())
    msg.ClearField("message_posted")
    msg.MergeFrom(payload)
    with pytest.raises(InvalidEvent) as info:
        convert.event_from_proto(msg)
    assert info.value.field == field


def test_path_prefix_for_batches() -> None:
    msg = convert.event_to_proto(event())
    msg.envelope.platform = 99  # type: ignore[assignment]
    with pytest.raises(InvalidEvent) as info:
        convert.event_from_proto(msg, path="events[3]")
    assert str(info.value) == "events[3].envelope.platform: unknown platform 99"


def test_decision_round_trips() -> None:
    decision = Decision(
        event_id="e1",
        actions=tuple(
            Action(
                t,
                f"rule.{t.value}",
                target_user_id="u1",
                target_message_id="m1",
                text="t",
                duration_seconds=60 if t == ActionType.MUTE else 0,
                chat_id="c",
                channel_id="ch",
            )
            for t in ActionType
        ),
        trace=tuple(RuleMatch(f"r.{m.value}", m, "why", (("chat.age", "3"),)) for m in RuleMode),
        ruleset="hobby",
        ruleset_version="3",
        decided_at=datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC),
        replayed=True,
    )
    wire = pb.Decision.FromString(convert.decision_to_proto(decision).SerializeToString())
    assert convert.decision_from_proto(wire) == decision
    assert wire.actions[2].duration.seconds == 60


def test_decision_with_unknown_action_type_is_a_clear_error() -> None:
    wire = pb.Decision(event_id="e1", actions=[pb.Action(type=pb.ACTION_TYPE_UNSPECIFIED)])
    with pytest.raises(ValueError, match="unknown enum value"):
        convert.decision_from_proto(wire)


def test_registration_round_trips_and_is_validated() -> None:
    reg = ChatRegistration(
        key=ChatKey(Platform.WECOM, "acme", "wr123"),
        ruleset="work",
        kind="work",
        theme=Theme(
            keywords=("sprint", "发布"),
            phrases=("code review",),
            languages=("zh", "en"),
            channels=(ChannelTheme("ops", ("incident",), (), ("Pager went off at 3am again",)),),
            examples=("The hotfix is on staging, QA please verify", "明天站会改到10点半"),
        ),
        created_at=datetime(2023, 1, 1, tzinfo=UTC),
        params={"max_members": "150", "quiet_hours": "22-7"},
        title="Team",
        member_count=12,
        owner_id="boss",
    )
    assert convert.registration_from_proto(convert.registration_to_proto(reg)) == reg
    bare = convert.registration_from_proto(
        pb.RegisterChatRequest(platform=pb.PLATFORM_TELEGRAM, tenant="t", chat_id="c")
    )
    assert bare.kind == "unspecified" and bare.member_count is None and bare.created_at is None
    for request, field in [
        (pb.RegisterChatRequest(tenant="t", chat_id="c"), "platform"),
        (pb.RegisterChatRequest(platform=pb.PLATFORM_TELEGRAM, chat_id="c"), "tenant"),
        (
            pb.RegisterChatRequest(
                platform=pb.PLATFORM_TELEGRAM,
                tenant="t",
                chat_id="c",
                kind=pb.ChatKind.ValueType(42),
            ),
            "kind",
        ),
        (
            pb.RegisterChatRequest(
                platform=pb.PLATFORM_TELEGRAM, tenant="t", chat_id="c", member_count=-2
            ),
            "member_count",
        ),
        (
            pb.RegisterChatRequest(
                platform=pb.PLATFORM_TELEGRAM, tenant="t", chat_id="c", params={"": "1"}
            ),
            "params[]",
        ),
        (
            pb.RegisterChatRequest(
                platform=pb.PLATFORM_TELEGRAM,
                tenant="t",
                chat_id="c",
                theme=pb.Theme(examples=["an example"] * (convert.MAX_EXAMPLES + 1)),
            ),
            "theme.examples",
        ),
        (
            pb.RegisterChatRequest(
                platform=pb.PLATFORM_TELEGRAM,
                tenant="t",
                chat_id="c",
                theme=pb.Theme(examples=["x" * (convert.MAX_NAME_CHARS + 1)]),
            ),
            "theme.examples[0]",
        ),
    ]:
        with pytest.raises(InvalidEvent) as info:
            convert.registration_from_proto(request)
        assert info.value.field == field


def test_chat_key_paths() -> None:
    with pytest.raises(InvalidEvent) as info:
        convert.chat_key_from_proto(pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="t"))
    assert info.value.field == "key.chat_id"


def test_chat_view_and_ruleset_summary_round_trip() -> None:
    view = ChatView(
        chat=ChatRecord(
            key=ChatKey(Platform.DISCORD, "acme", "g1"),
            ruleset="hobby",
            kind="hobby",
            theme=Theme(keywords=("run",)),
            created_at=datetime(2023, 1, 1, tzinfo=UTC),
            params=(("max_members", "150"),),
            member_count=60,
            title="Runners",
            message_count=1234,
            last_message_at=datetime(2024, 5, 1, tzinfo=UTC),
            owner_id="o1",
            events_processed=99,
        ),
        effective_params={"max_members": "150", "promo_min_age": "30d"},
        size_tier="middle",
    )
    wire = pb.ChatState.FromString(convert.chat_view_to_proto(view).SerializeToString())
    assert convert.chat_view_from_proto(wire) == view
    summary = RulesetSummary(
        "hobby", "3", "hobby", "d", 12, (("a", "1", "x"),), "hobby.yaml", "base"
    )
    assert convert.ruleset_summary_from_proto(convert.ruleset_summary_to_proto(summary)) == summary
