"""Time under control: Scheduler.RunTicks (and ``firekeeper tick``) run the scheduler's
round for a time the caller names, through the composed service, with the automatic
scheduler off. A reminder is decided for the period it is due in, reaches the outbox
once, and running the same period again decides nothing new (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from google.protobuf import json_format

from firekeeper import cli
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2_grpc as lpb_grpc
from firekeeper.config import Settings
from tests.conftest import RULESETS
from tests.e2e.test_service import Running

CREATED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SPOKE = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)  # the owner's last message
DAY = 86400

REGISTER = {
    "platform": "PLATFORM_TELEGRAM",
    "tenant": "acme",
    "chat_id": "-100900",
    "kind": "CHAT_KIND_GOAL",
    "owner_id": "olga",
    "member_count": 12,
    "created_at": CREATED.isoformat(),
    # the owner is missed after 10 days (period starts count: a tick sees its period's start)
    "params": {"owner_silent_days": "10", "group_silent_days": "30"},
}
OTHER = REGISTER | {"tenant": "globex", "chat_id": "-100901"}


def _message(chat: dict[str, object], event_id: str, actor: str, text: str) -> pb.EvaluateRequest:
    return json_format.ParseDict(
        {
            "event": {
                "envelope": {
                    "event_id": event_id,
                    "platform": chat["platform"],
                    "tenant": chat["tenant"],
                    "chat_id": chat["chat_id"],
                    "occurred_at": SPOKE.isoformat(),
                    "actor": {"id": actor, "display_name": actor.title()},
                },
                "message_posted": {"message_id": event_id, "text": text},
            }
        },
        pb.EvaluateRequest(),
    )


def _ticks(at: datetime, **where: object) -> lpb.RunTicksRequest:
    request = lpb.RunTicksRequest(**where)  # type: ignore[arg-type]
    request.at.FromDatetime(at)
    return request


@pytest.fixture
async def service(store_url: str) -> AsyncIterator[str]:
    """The composed service (tests.e2e.test_service.Running); its gRPC address."""
    settings = Settings(
        store_url=store_url,
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(RULESETS),
        grace_seconds=2,
        tick_seconds=DAY,
        scheduler=False,  # only the RPC ticks: nothing happens by the clock
        outbox_poll_seconds=0.05,
        reload_seconds=0,
    )
    async with Running(settings) as address:
        yield address


async def test_a_reminder_is_decided_for_the_named_time_and_sent_once(service: str) -> None:
    async with grpc.aio.insecure_channel(service) as channel:
        governance = pb_grpc.GovernanceStub(channel)
        scheduler = lpb_grpc.SchedulerStub(channel)
        for chat in (REGISTER, OTHER):
            await governance.RegisterChat(
                json_format.ParseDict(chat, pb.RegisterChatRequest()), timeout=5
            )
            await governance.Evaluate(
                _message(chat, f"m-{chat['chat_id']}", "olga", "Week 3 plan: three runs"),
                timeout=5,
            )

        early = await scheduler.RunTicks(_ticks(SPOKE + timedelta(days=10)), timeout=30)
        assert (early.chats, early.evaluated, early.replayed, early.failed) == (2, 2, 0, 0)
        assert list(early.results) == []  # quiet chats are only counted

        due = SPOKE + timedelta(days=11)
        first = await scheduler.RunTicks(
            _ticks(due, tenant="acme", platform=pb.PLATFORM_TELEGRAM, chat_id="-100900"),
            timeout=30,
        )
        assert (first.chats, first.evaluated, first.replayed) == (1, 1, 0)
        assert first.period_seconds == DAY and first.period_index == int(due.timestamp()) // DAY
        assert first.period_start.ToDatetime(tzinfo=UTC) == datetime(2026, 12, 1, tzinfo=UTC)
        [result] = first.results
        assert result.chat.chat_id == "-100900" and not result.error
        assert [a.rule_id for a in result.decision.actions] == ["lifecycle.owner_silent"]
        assert result.decision.event_id == f"tick:-100900:{DAY}s:{first.period_index}"

        # the same period again (a later hour of the same day): nothing new
        again = await scheduler.RunTicks(
            _ticks(due + timedelta(hours=5), tenant="acme"), timeout=30
        )
        assert (again.chats, again.evaluated, again.replayed) == (1, 0, 1)
        assert list(again.results) == []

        outbox = lpb_grpc.OutboxStub(channel)
        stream = outbox.StreamActions(
            lpb.StreamActionsRequest(platform=pb.PLATFORM_TELEGRAM, tenant="acme")
        )
        item = await asyncio.wait_for(stream.read(), 10)
        assert isinstance(item, lpb.OutboxItem)
        assert item.action.rule_id == "lifecycle.owner_silent"
        assert item.event_id == result.decision.event_id
        with pytest.raises(TimeoutError):  # one reminder, not one per call
            await asyncio.wait_for(stream.read(), 0.5)
        stream.cancel()

        # the other tenant was never ticked for that day; the CLI runs it (and only it)
        printed = await asyncio.to_thread(
            _cli,
            [
                "tick",
                "--at",
                (due + timedelta(hours=1)).isoformat(),
                "--tenant",
                "globex",
                "--target",
                service,
            ],
        )
        assert printed[0] == 0
        assert '"evaluated": 1' in printed[1] and "lifecycle.owner_silent" in printed[1]
        assert '"chat_id": "-100901"' in printed[1]


def _cli(argv: list[str]) -> tuple[int, str]:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main(argv)
    return code, out.getvalue()


async def test_bad_requests_name_the_field(service: str) -> None:
    async with grpc.aio.insecure_channel(service) as channel:
        scheduler = lpb_grpc.SchedulerStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await scheduler.RunTicks(lpb.RunTicksRequest(tenant="acme"), timeout=5)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "at" in (info.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await scheduler.RunTicks(_ticks(SPOKE, chat_id="-100900"), timeout=5)
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "chat_id" in (info.value.details() or "")
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await scheduler.RunTicks(_ticks(SPOKE, platform=99), timeout=5)  # type: ignore[arg-type]
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        # a selection that names no chat is an empty round, not an error
        empty = await scheduler.RunTicks(_ticks(SPOKE, tenant="nobody"), timeout=5)
        assert (empty.chats, empty.evaluated) == (0, 0)


def test_the_cli_refuses_a_time_without_a_zone() -> None:
    code, _ = _cli(["tick", "--at", "2026-12-01T09:00:00", "--target", "127.0.0.1:1"])
    assert code == 2
