"""The composed service (firekeeper.app.run_service) over real gRPC, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.app import run_service
from firekeeper.config import Settings
from firekeeper.server import Bound
from tests.conftest import RULESETS

REGISTER = {
    "platform": "PLATFORM_TELEGRAM",
    "tenant": "acme",
    "chat_id": "-1001234",
    "kind": "CHAT_KIND_GOAL",
    "member_count": 48,
    "owner_id": "42",
    "created_at": "2026-11-20T08:00:00Z",
}


def _join(n: int) -> pb.EvaluateRequest:
    return json_format.ParseDict(
        {
            "event": {
                "envelope": {
                    "event_id": f"tg:{n}",
                    "platform": "PLATFORM_TELEGRAM",
                    "tenant": "acme",
                    "chat_id": "-1001234",
                    "occurred_at": "2026-11-24T09:30:00Z",
                    "actor": {"id": f"u{n}", "display_name": f"User {n}"},
                },
                "member_joined": {"member": {"id": f"u{n}", "display_name": f"User {n}"}},
            }
        },
        pb.EvaluateRequest(),
    )


class Running:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stop = asyncio.Event()
        self.bound: asyncio.Future[Bound] = asyncio.get_running_loop().create_future()
        self.task: asyncio.Task[int] | None = None

    async def __aenter__(self) -> str:
        self.task = asyncio.create_task(
            run_service(self.settings, stop_event=self.stop, on_ready=self.bound.set_result)
        )
        done, _ = await asyncio.wait({self.task, self.bound}, return_when=asyncio.FIRST_COMPLETED)
        if self.task in done:
            self.task.result()  # raises the start-up error
        return self.bound.result().grpc_address

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        assert await self.task == 0


async def test_decisions_state_and_restart_through_the_real_service(
    store_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        store_url=store_url,
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(RULESETS),
        grace_seconds=2,
    )
    async with Running(settings) as address, grpc.aio.insecure_channel(address) as channel:
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="firekeeper.v1.Governance"), timeout=5
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stub = pb_grpc.GovernanceStub(channel)
        await stub.RegisterChat(
            json_format.ParseDict(REGISTER, pb.RegisterChatRequest()), timeout=5
        )
        first = await stub.Evaluate(_join(1), timeout=5)
        assert first.decision.actions == []  # 49th member: admitted
        full = await stub.Evaluate(_join(2), timeout=5)
        assert [a.type for a in full.decision.actions] == [
            pb.ACTION_TYPE_DENY_JOIN,
            pb.ACTION_TYPE_NOTIFY_ADMINS,
        ]
        names = (await stub.ListRulesets(pb.ListRulesetsRequest(), timeout=5)).rulesets
        assert {"base", "goal", "hobby"} <= {r.name for r in names}

    async with Running(settings) as address, grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.GovernanceStub(channel)
        key = pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="acme", chat_id="-1001234")
        state = await stub.GetChat(pb.GetChatRequest(key=key), timeout=5)
        assert state.member_count == 49 and state.events_processed == 2
        again = await stub.Evaluate(_join(2), timeout=5)
        assert again.decision.replayed
        assert list(again.decision.actions) == list(full.decision.actions)


async def test_a_bad_ruleset_directory_stops_start_up_with_located_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("ruleset: broken\nrules:\n  - id: x\n    on: nope\n")
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'x.db'}",
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(tmp_path),
    )
    from firekeeper.errors import RulesetError

    try:
        async with Running(settings):
            raise AssertionError("the service started on a broken ruleset")
    except RulesetError as exc:
        assert "broken.yaml:4:" in str(exc)
