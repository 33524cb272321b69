"""Onboarding an existing group with its history (Governance.ImportChatHistory), through
the composed service: tenure gates, maturity and health are right from the first event,
importing twice changes nothing, and days already counted live are never counted again
(SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import json_format

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2_grpc as lpb_grpc
from firekeeper.config import Settings
from tests.conftest import RULESETS
from tests.e2e.test_service import Running

# the health RPC measures at the service's clock: the history is read "just now"
AS_OF = (datetime.now(UTC) - timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
WATCHED_SINCE = datetime.combine(AS_OF.date() - timedelta(days=56), datetime.min.time(), UTC)
KEY = pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="acme", chat_id="-100500")
REGISTER = {
    "platform": "PLATFORM_TELEGRAM",
    "tenant": "acme",
    "chat_id": "-100500",
    "kind": "CHAT_KIND_HOBBY",
    "owner_id": "olga",
    "member_count": 16,
    "created_at": "2024-06-01T08:00:00Z",
    "theme": {"keywords": ["book", "novel", "chapter", "reading"]},
}
# a veteran's own promotion: a promotion by the signals, which the shipped rules let
# through from a member of two years with hundreds of messages and stop from a newcomer
PROMOTION = (
    "My new novel is out! 30% off this week only, order here: "
    "https://shop.example.com/my-book - DM me for a signed copy"
)


def _history() -> pb.ImportChatHistoryRequest:
    """Two and a half years old; the owner has been away for a month while twelve
    members post every week (about 20 messages a day); one newcomer joined 3 days ago."""
    request = pb.ImportChatHistoryRequest(chat=KEY, substantive_posts=420, answered_questions=95)
    request.as_of.FromDatetime(AS_OF)

    def member(user: str, role: int, joined: datetime, total: int, last: datetime, recent: int):
        m = request.members.add(
            user_id=user,
            display_name=user.title(),
            role=role,  # type: ignore[arg-type]
            message_count=total,
            messages_30d=recent,
        )
        m.joined_at.FromDatetime(joined)
        m.last_message_at.FromDatetime(last)

    member(
        "olga", pb.ROLE_OWNER, datetime(2024, 6, 1, tzinfo=UTC), 900, AS_OF - timedelta(days=30), 0
    )
    member(
        "anna", pb.ROLE_ADMIN, datetime(2024, 6, 2, tzinfo=UTC), 700, AS_OF - timedelta(hours=3), 40
    )
    for n in range(11):
        joined = datetime(2024, 9, 1, tzinfo=UTC) + timedelta(days=30 * n)
        member(f"m{n}", pb.ROLE_MEMBER, joined, 300 + n, AS_OF - timedelta(days=n % 5), 30 + n)
    member("newbie", pb.ROLE_MEMBER, AS_OF - timedelta(days=3), 2, AS_OF - timedelta(days=1), 2)
    for back in range(56, 0, -1):
        request.days.add(day=(AS_OF.date() - timedelta(days=back)).isoformat(), messages=20)
    return request


def _message(event_id: str, actor: str, text: str, at: datetime) -> pb.EvaluateRequest:
    return json_format.ParseDict(
        {
            "event": {
                "envelope": {
                    "event_id": event_id,
                    "platform": "PLATFORM_TELEGRAM",
                    "tenant": "acme",
                    "chat_id": "-100500",
                    "occurred_at": at.isoformat(),
                    "actor": {"id": actor, "display_name": actor.title()},
                },
                "message_posted": {"message_id": event_id, "text": text},
            }
        },
        pb.EvaluateRequest(),
    )


@pytest.fixture
async def service(store_url: str) -> AsyncIterator[str]:
    """The composed service (tests.e2e.test_service.Running); its gRPC address."""
    settings = Settings(
        store_url=store_url,
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(RULESETS),
        grace_seconds=2,
        tick_seconds=86400,
        scheduler=False,
        reload_seconds=0,
    )
    async with Running(settings) as address:
        yield address


async def test_an_imported_group_is_judged_by_its_history_from_the_first_event(
    service: str,
) -> None:
    async with grpc.aio.insecure_channel(service) as channel:
        governance = pb_grpc.GovernanceStub(channel)
        health = lpb_grpc.HealthStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:  # registration comes first
            await governance.ImportChatHistory(_history(), timeout=10)
        assert info.value.code() == grpc.StatusCode.NOT_FOUND
        await governance.RegisterChat(
            json_format.ParseDict(REGISTER, pb.RegisterChatRequest()), timeout=5
        )
        first = await governance.ImportChatHistory(_history(), timeout=10)
        assert (first.members_added, first.members_updated) == (14, 0)
        assert (first.days_imported, first.days_skipped) == (56, 0)
        assert first.watched_since.ToDatetime(tzinfo=UTC) == WATCHED_SINCE
        again = await governance.ImportChatHistory(_history(), timeout=10)
        assert (again.members_added, again.members_updated, again.days_imported) == (0, 14, 56)

        later = AS_OF + timedelta(minutes=30)
        veteran = await governance.Evaluate(_message("e1", "m3", PROMOTION, later), timeout=5)
        assert [a.rule_id for a in veteran.decision.actions] == []  # two years in, 303 messages
        newcomer = await governance.Evaluate(_message("e2", "newbie", PROMOTION, later), timeout=5)
        assert "promo.too_early" in [a.rule_id for a in newcomer.decision.actions]

        reply = await health.GetChatHealth(lpb.GetChatHealthRequest(key=KEY), timeout=5)
        m = reply.metrics
        assert reply.status != "new" and reply.maturity == "mature"
        assert m.age_days >= 900 and m.days_since_owner_spoke == 30
        assert m.others_active_30d == 13 and m.owner_message_share == 0.0
        assert m.messages_usual_week == 140 and not m.activity_declining
        leading = next(d for d in reply.diagnoses if d.pose == "no_leading")
        assert leading.finding == "absent" and "mature group" in leading.evidence

        chat = await governance.GetChat(pb.GetChatRequest(key=KEY), timeout=5)
        # imported twice, counted once: the members' all-time messages plus the two live ones
        assert chat.message_count == 900 + 700 + sum(300 + n for n in range(11)) + 2 + 2

        # the first tick after onboarding: the owner of a mature group is not alarmed about
        ticks = await lpb_grpc.SchedulerStub(channel).RunTicks(
            _ticks(AS_OF + timedelta(days=1)), timeout=30
        )
        assert (ticks.evaluated, list(ticks.results)) == (1, [])


def _ticks(at: datetime) -> lpb.RunTicksRequest:
    request = lpb.RunTicksRequest(tenant="acme")
    request.at.FromDatetime(at)
    return request


async def test_days_already_counted_live_are_not_imported(service: str) -> None:
    async with grpc.aio.insecure_channel(service) as channel:
        governance = pb_grpc.GovernanceStub(channel)
        await governance.RegisterChat(
            json_format.ParseDict(REGISTER, pb.RegisterChatRequest()), timeout=5
        )
        live = AS_OF - timedelta(days=10)  # the service has seen this chat for 10 days
        await governance.Evaluate(_message("live1", "m1", "Chapter two tonight", live), timeout=5)
        summary = await governance.ImportChatHistory(_history(), timeout=10)
        assert (summary.days_imported, summary.days_skipped) == (46, 10)
        assert summary.watched_since.ToDatetime(tzinfo=UTC) == WATCHED_SINCE
        # the live member row keeps the live knowledge and gains the imported tenure
        chat = await governance.GetChat(pb.GetChatRequest(key=KEY), timeout=5)
        assert chat.message_count >= 900


async def test_bad_histories_are_refused_with_the_field(service: str) -> None:
    async with grpc.aio.insecure_channel(service) as channel:
        governance = pb_grpc.GovernanceStub(channel)
        await governance.RegisterChat(
            json_format.ParseDict(REGISTER, pb.RegisterChatRequest()), timeout=5
        )
        cases = {
            "as_of": pb.ImportChatHistoryRequest(chat=KEY),
            "days[0].day": _with_day(_history(), "2026-13-01"),
            "members[1].user_id": _twice(_history()),
        }
        for field, request in cases.items():
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await governance.ImportChatHistory(request, timeout=5)
            assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, field
            assert field in (info.value.details() or ""), (field, info.value.details())
        future = _history()
        future.members[0].joined_at.FromDatetime(AS_OF + timedelta(days=1))
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await governance.ImportChatHistory(future, timeout=5)
        assert "members[0].joined_at" in (info.value.details() or "")


def _with_day(request: pb.ImportChatHistoryRequest, day: str) -> pb.ImportChatHistoryRequest:
    request.days[0].day = day
    return request


def _twice(request: pb.ImportChatHistoryRequest) -> pb.ImportChatHistoryRequest:
    # the duplicate is reported where it appears the second time
    dup = pb.ImportChatHistoryRequest(chat=request.chat, as_of=request.as_of)
    dup.members.add().CopyFrom(request.members[0])
    dup.members.add().CopyFrom(request.members[0])
    return dup
