"""Outbox and Health over gRPC: a real server on port 0 over a real store (SQLite and
PostgreSQL). At-least-once: what is not acknowledged is sent again after a disconnect
or a restart, with the same id and a higher attempt."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from prometheus_client import CollectorRegistry

from firekeeper.api import convert
from firekeeper.api import lifecycle_convert as lconvert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2_grpc as lpb_grpc
from firekeeper.api.lifecycle_servicer import LifecycleServices
from firekeeper.areas.lifecycle.admin import LifecycleService
from firekeeper.config import Settings
from firekeeper.domain.events import Platform
from firekeeper.domain.health import HealthStatus, Pose
from firekeeper.metrics import Metrics
from firekeeper.pipeline import RulesetHolder
from firekeeper.scheduler import TickScheduler
from firekeeper.server import Server
from firekeeper.store import Store, create_store
from firekeeper.store.leader import AlwaysLeader
from firekeeper.wiring import build_pipeline
from tests.lifecycle.builders import KEY, ON_TOPIC, T0, message, registration
from tests.lifecycle.conftest import INDEX

STREAM = lpb.StreamActionsRequest(platform=pb.PLATFORM_TELEGRAM, tenant=KEY.tenant)


@dataclass
class Node:
    """One replica: a store handle, a service and a gRPC server."""

    store: Store
    service: LifecycleService
    server: Server
    channel: grpc.aio.Channel
    outbox: lpb_grpc.OutboxAsyncStub
    health: lpb_grpc.HealthAsyncStub
    registry: CollectorRegistry

    async def stop(self) -> None:
        await self.channel.close()
        await self.server.stop(1)
        self.store.close()


Start = Callable[..., Awaitable[Node]]


@pytest.fixture
async def start(store_url: str) -> AsyncIterator[Start]:
    nodes: list[Node] = []
    setup = create_store(store_url)
    setup.migrate()
    setup.close()

    async def start_node(*, lease: float = 30.0, clock: datetime | None = None) -> Node:
        store = create_store(store_url)
        holder = RulesetHolder(INDEX)
        service = LifecycleService(
            store, holder, lease_seconds=lease, clock=(lambda: clock) if clock else _now
        )
        registry = CollectorRegistry()
        metrics = Metrics(registry)
        settings = Settings(grpc_address="127.0.0.1:0", metrics_port=None, workers=4)
        pipeline = build_pipeline(store, holder)
        lifecycle = LifecycleServices(service, poll_seconds=0.05)
        # a long readiness interval: no probe is running on the store when the test closes it
        server = Server(settings, pipeline, metrics, services=[lifecycle], readiness_interval=60)
        port = await server.start()
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        node = Node(
            store,
            service,
            server,
            channel,
            lpb_grpc.OutboxStub(channel),  # type: ignore[arg-type]
            lpb_grpc.HealthStub(channel),  # type: ignore[arg-type]
            registry,
        )
        nodes.append(node)
        return node

    yield start_node
    for node in nodes:
        await node.stop()


def _now() -> datetime:
    return datetime.now(UTC)


def _reminder(node: Node) -> str:
    """Register a goal chat whose owner is missed at once, and run one tick: one item."""
    pipeline = build_pipeline(node.store, RulesetHolder(INDEX))
    pipeline.register_chat(registration("goal", params={"owner_silent_days": "0"}))
    ticks = TickScheduler(node.store, pipeline.evaluate, AlwaysLeader(), period_seconds=3600)
    result = ticks.run_once()
    assert result is not None and result.evaluated == 1
    return f"tick:{KEY.chat_id}:3600s:{result.period_index}"


async def _take(stream: grpc.aio.UnaryStreamCall, n: int) -> list[lpb.OutboxItem]:
    out: list[lpb.OutboxItem] = []
    async for item in stream:
        out.append(item)
        if len(out) == n:
            break
    return out


async def test_an_adapter_that_disconnects_before_acking_gets_the_action_again(
    start: Start,
) -> None:
    node = await start()
    event_id = await asyncio.to_thread(_reminder, node)
    first = node.outbox.StreamActions(STREAM)
    (item,) = await asyncio.wait_for(_take(first, 1), 5)
    got = lconvert.outbox_item_from_proto(item)
    assert got.event_id == event_id and got.attempt == 1 and got.key == KEY
    assert got.action.rule_id == "lifecycle.owner_silent" and got.action.chat_id == KEY.chat_id
    first.cancel()  # gone before acknowledging
    second = node.outbox.StreamActions(STREAM)
    (again,) = await asyncio.wait_for(_take(second, 1), 5)
    assert again.id == item.id and again.attempt == 2
    acked = await node.outbox.Ack(
        lpb.AckRequest(platform=pb.PLATFORM_TELEGRAM, tenant=KEY.tenant, ids=[again.id])
    )
    assert acked.acked == 1
    repeat = await node.outbox.Ack(
        lpb.AckRequest(platform=pb.PLATFORM_TELEGRAM, tenant=KEY.tenant, ids=[again.id])
    )
    assert repeat.acked == 0  # acks are idempotent
    second.cancel()
    third = node.outbox.StreamActions(STREAM)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(_take(third, 1), 0.5)
    third.cancel()


async def test_unacknowledged_actions_survive_a_restart(start: Start) -> None:
    old = await start()
    await asyncio.to_thread(_reminder, old)
    stream = old.outbox.StreamActions(STREAM)
    (item,) = await asyncio.wait_for(_take(stream, 1), 5)
    await old.stop()  # graceful: the stream ends and gives its items back
    new = await start()
    (again,) = await asyncio.wait_for(_take(new.outbox.StreamActions(STREAM), 1), 5)
    assert (again.id, again.attempt) == (item.id, 2)


async def test_a_crashed_streams_lease_expires_and_the_action_is_redelivered(start: Start) -> None:
    node = await start(lease=0.3)
    await asyncio.to_thread(_reminder, node)
    # a replica that died holding the item: its lease is never released
    (held,) = await asyncio.to_thread(node.service.claim, Platform.TELEGRAM, KEY.tenant, "dead")
    stream = node.outbox.StreamActions(STREAM)
    (again,) = await asyncio.wait_for(_take(stream, 1), 5)
    assert again.id == held.id and again.attempt == 2
    stream.cancel()


async def test_two_live_streams_never_get_the_same_item(start: Start) -> None:
    node = await start()
    await asyncio.to_thread(_reminder, node)
    a = node.outbox.StreamActions(STREAM)
    (item,) = await asyncio.wait_for(_take(a, 1), 5)
    b = node.outbox.StreamActions(STREAM)
    with pytest.raises(TimeoutError):  # (the timeout ends stream b)
        await asyncio.wait_for(_take(b, 1), 0.5)
    a.cancel()  # a goes away: the next stream gets it
    c = node.outbox.StreamActions(STREAM)
    (moved,) = await asyncio.wait_for(_take(c, 1), 5)
    assert moved.id == item.id and moved.attempt == 2
    c.cancel()


async def test_the_health_rpc_calls_a_dead_group_a_cemetery(start: Start) -> None:
    node = await start(clock=T0 + timedelta(days=40))
    pipeline = build_pipeline(node.store, RulesetHolder(INDEX))
    pipeline.register_chat(registration("growth"))
    await asyncio.to_thread(pipeline.evaluate, message(ON_TOPIC, T0))
    reply = await node.health.GetChatHealth(
        lpb.GetChatHealthRequest(key=convert.chat_key_to_proto(KEY))
    )
    health = lconvert.chat_health_from_proto(reply)
    assert health.status is HealthStatus.CEMETERY and health.kind == "growth"
    assert "no one has posted for 40 days" in health.status_reason
    assert [d.pose for d in health.diagnoses] == list(Pose)
    leading = next(d for d in reply.diagnoses if d.pose == "no_leading")
    assert leading.finding == "present" and "40 days" in leading.evidence
    assert reply.metrics.HasField("days_since_last_message") and not reply.metrics.HasField(
        "activity_trend"
    )


async def test_bad_requests_are_invalid_arguments_and_unknown_chats_not_found(
    start: Start,
) -> None:
    node = await start()
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await node.outbox.Ack(
            lpb.AckRequest(platform=pb.PLATFORM_TELEGRAM, tenant="t", ids=["1", "x1"])
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "ids[1]" in (info.value.details() or "")
    bad = node.outbox.StreamActions(lpb.StreamActionsRequest(tenant="t"))
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await _take(bad, 1)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await node.health.GetChatHealth(
            lpb.GetChatHealthRequest(
                key=pb.ChatKey(platform=pb.PLATFORM_DISCORD, tenant="t", chat_id="nope")
            )
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_stream_for_some_chats_gets_only_theirs(start: Start) -> None:
    node = await start()
    await asyncio.to_thread(_reminder, node)
    others = node.outbox.StreamActions(
        lpb.StreamActionsRequest(platform=pb.PLATFORM_TELEGRAM, tenant=KEY.tenant, chat_ids=["x"])
    )
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(_take(others, 1), 0.3)
    mine = node.outbox.StreamActions(
        lpb.StreamActionsRequest(
            platform=pb.PLATFORM_TELEGRAM, tenant=KEY.tenant, chat_ids=[KEY.chat_id]
        )
    )
    (item,) = await asyncio.wait_for(_take(mine, 1), 5)
    assert item.chat.chat_id == KEY.chat_id and item.attempt == 1
    mine.cancel()
