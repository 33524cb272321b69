"""The Screening service through a real gRPC server on port 0, over a real store:
a burst is held through Evaluate, listed and resolved through the API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import grpc
import pytest

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.gen.firekeeper.v1 import screening_pb2 as spb
from firekeeper.api.gen.firekeeper.v1 import screening_pb2_grpc as spb_grpc
from firekeeper.api.screening_servicer import ScreeningServices
from firekeeper.config import Settings
from firekeeper.server import Server
from firekeeper.store import create_store
from tests.core.builders import T0

from .support import KEY, Service, joined, register, requested


@dataclass
class Running:
    service: Service
    governance: pb_grpc.GovernanceAsyncStub
    screening: spb_grpc.ScreeningAsyncStub


@pytest.fixture
async def running(store_url: str) -> AsyncIterator[Running]:
    store = create_store(store_url)
    store.migrate()
    svc = Service(store)
    settings = Settings(grpc_address="127.0.0.1:0", metrics_port=None, workers=2, grace_seconds=1)
    # readiness is probed at start only: a probe still running when the store closes
    # would leave a database connection behind
    server = Server(
        settings,
        svc.pipeline,
        svc.metrics,
        readiness_interval=60,
        services=[ScreeningServices(svc.admin)],
    )
    port = await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Running(svc, pb_grpc.GovernanceStub(channel), spb_grpc.ScreeningStub(channel))  # type: ignore[arg-type]
    finally:
        await channel.close()
        await server.stop(0)
        store.close()


def _key() -> pb.ChatKey:
    return convert.chat_key_to_proto(KEY)


async def test_a_burst_is_held_and_resolved_through_the_api(running: Running) -> None:
    register(running.service.pipeline)
    for i in range(10):
        event = convert.event_to_proto(joined(f"r{i}", T0 + i * timedelta(seconds=20)))
        await running.governance.Evaluate(pb.EvaluateRequest(event=event))
    held = await running.governance.Evaluate(
        pb.EvaluateRequest(
            event=convert.event_to_proto(requested("req1", T0 + timedelta(minutes=4), "hi"))
        )
    )
    assert [a.type for a in held.decision.actions] == [pb.ACTION_TYPE_HOLD_FOR_REVIEW]

    listed = await running.screening.ListHeldJoins(spb.ListHeldJoinsRequest(tenant="acme"))
    (entry,) = listed.held
    assert (entry.user_id, entry.event_kind, entry.rule_id) == (
        "req1",
        "join.requested",
        "burst.hold_request",
    )
    assert entry.status == spb.HELD_JOIN_STATUS_PENDING and entry.chat.chat_id == KEY.chat_id

    resolved = await running.screening.ResolveHeldJoin(
        spb.ResolveHeldJoinRequest(
            chat=_key(), user_id="req1", resolution=spb.RESOLUTION_APPROVE, admin_id="olga"
        )
    )
    assert resolved.held.status == spb.HELD_JOIN_STATUS_APPROVED
    (action,) = resolved.decision.actions
    assert (action.type, action.target_user_id, action.rule_id) == (
        pb.ACTION_TYPE_APPROVE_JOIN,
        "req1",
        "review.approve",
    )
    assert (
        await running.screening.ListHeldJoins(spb.ListHeldJoinsRequest(tenant="acme"))
    ).held == []

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.screening.ResolveHeldJoin(
            spb.ResolveHeldJoinRequest(chat=_key(), user_id="req1", resolution=spb.RESOLUTION_DENY)
        )
    assert info.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.screening.ResolveHeldJoin(
            spb.ResolveHeldJoinRequest(chat=_key(), user_id="ghost", resolution=spb.RESOLUTION_DENY)
        )
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.screening.ResolveHeldJoin(
            spb.ResolveHeldJoinRequest(chat=_key(), user_id="req1")
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert dict(info.value.trailing_metadata() or ())["firekeeper-field"] == "resolution"
    assert (
        running.service.sample(
            "firekeeper_actions_total", type="approve_join", rule="review.approve"
        )
        == 1
    )


async def test_blocklist_and_settings_through_the_api(running: Running) -> None:
    register(running.service.pipeline)
    user = spb.BlocklistEntry(
        kind=spb.BLOCKLIST_KIND_USER, platform=pb.PLATFORM_TELEGRAM, value="u666"
    )
    domain = spb.BlocklistEntry(kind=spb.BLOCKLIST_KIND_DOMAIN, value="Evil.Example", note="scam")
    added = await running.screening.AddBlocklistEntries(
        spb.AddBlocklistEntriesRequest(tenant="acme", entries=[user, domain])
    )
    assert added.added == 2
    page = await running.screening.ListBlocklist(spb.ListBlocklistRequest(tenant="acme", limit=1))
    assert [e.value for e in page.entries] == ["u666"] and page.next_page_token
    rest = await running.screening.ListBlocklist(
        spb.ListBlocklistRequest(tenant="acme", page_token=page.next_page_token)
    )
    assert [(e.value, e.note) for e in rest.entries] == [("evil.example", "scam")]
    denied = await running.governance.Evaluate(
        pb.EvaluateRequest(event=convert.event_to_proto(joined("u666", T0)))
    )
    assert denied.decision.actions[0].type == pb.ACTION_TYPE_DENY_JOIN
    removed = await running.screening.RemoveBlocklistEntries(
        spb.RemoveBlocklistEntriesRequest(tenant="acme", entries=[user])
    )
    assert removed.removed == 1

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.screening.AddBlocklistEntries(
            spb.AddBlocklistEntriesRequest(
                tenant="acme", entries=[spb.BlocklistEntry(kind=spb.BLOCKLIST_KIND_USER, value="x")]
            )
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "entries[0].platform" in (info.value.details() or "")

    saved = await running.screening.SetChatScreening(
        spb.ChatScreening(
            chat=_key(), allowed_domains=["https://OurClub.org/"], entry_patterns=["(?i)gravel"]
        )
    )
    assert list(saved.allowed_domains) == ["ourclub.org"] and saved.HasField("updated_at")
    got = await running.screening.GetChatScreening(spb.GetChatScreeningRequest(chat=_key()))
    assert list(got.entry_patterns) == ["(?i)gravel"]
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await running.screening.SetChatScreening(
            spb.ChatScreening(chat=_key(), entry_patterns=["(a"])
        )
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as info:
        other = pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="acme", chat_id="never")
        await running.screening.GetChatScreening(spb.GetChatScreeningRequest(chat=other))
    assert info.value.code() == grpc.StatusCode.NOT_FOUND
