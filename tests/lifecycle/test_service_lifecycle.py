"""The composed service: the scheduler inside run_service ticks every chat, and a reminder
reaches an adapter's Outbox stream without any event arriving (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import grpc
from google.protobuf import json_format

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2_grpc as lpb_grpc
from firekeeper.app import run_service
from firekeeper.config import Settings
from firekeeper.server import Bound
from tests.api.support import http_get
from tests.conftest import RULESETS

REGISTER = {
    "platform": "PLATFORM_TELEGRAM",
    "tenant": "acme",
    "chat_id": "-100777",
    "kind": "CHAT_KIND_GOAL",
    "owner_id": "olga",
    "member_count": 12,
    "theme": {"keywords": ["run", "training", "跑步"]},
    "params": {"owner_silent_days": "0"},  # the owner is missed from the first tick on
}


async def test_a_reminder_reaches_the_outbox_stream_without_any_event(store_url: str) -> None:
    settings = Settings(
        store_url=store_url,
        grpc_address="127.0.0.1:0",
        metrics_port=0,
        rulesets_dir=str(RULESETS),
        grace_seconds=2,
        tick_seconds=1,
        outbox_poll_seconds=0.05,
        reload_seconds=0,
    )
    stop = asyncio.Event()
    bound: asyncio.Future[Bound] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_service(settings, stop_event=stop, on_ready=bound.set_result))
    done, _ = await asyncio.wait({task, bound}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    where = bound.result()
    try:
        async with grpc.aio.insecure_channel(where.grpc_address) as channel:
            governance = pb_grpc.GovernanceStub(channel)
            await governance.RegisterChat(
                json_format.ParseDict(REGISTER, pb.RegisterChatRequest()), timeout=5
            )
            outbox = lpb_grpc.OutboxStub(channel)
            request = lpb.StreamActionsRequest(platform=pb.PLATFORM_TELEGRAM, tenant="acme")
            stream = outbox.StreamActions(request)
            item = await asyncio.wait_for(stream.read(), 10)
            assert isinstance(item, lpb.OutboxItem)
            assert item.action.rule_id == "lifecycle.owner_silent"
            assert item.action.type == pb.ACTION_TYPE_NOTIFY_ADMINS
            assert item.chat.chat_id == "-100777" and item.attempt == 1
            assert item.event_id.startswith("tick:-100777:1s:")
            await outbox.Ack(
                lpb.AckRequest(platform=pb.PLATFORM_TELEGRAM, tenant="acme", ids=[item.id])
            )
            stream.cancel()
            health = await lpb_grpc.HealthStub(channel).GetChatHealth(
                lpb.GetChatHealthRequest(
                    key=pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="acme", chat_id="-100777")
                ),
                timeout=5,
            )
            assert health.status == "new" and health.kind == "goal"
        body = await asyncio.to_thread(http_get, f"http://127.0.0.1:{where.metrics_port}/metrics")
        assert "firekeeper_scheduler_leader 1.0" in body
        assert 'firekeeper_chats_by_status{status="new"} 1.0' in body
        assert "firekeeper_outbox_pending 0.0" in body
        assert 'firekeeper_ticks_total{outcome="evaluated"}' in body
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 10) == 0
