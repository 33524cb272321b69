"""A real Firekeeper for the reference adapters: ``run_service`` on port 0 over SQLite.

The adapters talk to it with the real client; the platforms are replaced at
their libraries' own request layers (see each test module). Outbox items are
made the way the service makes them: a scheduler round (``TickScheduler``)
over the same store, for a chat whose owner is missed at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import screening_pb2 as spb
from firekeeper.api.gen.firekeeper.v1 import screening_pb2_grpc as spb_grpc
from firekeeper.app import run_service
from firekeeper.areas.lifecycle.admin import LifecycleService
from firekeeper.config import Settings
from firekeeper.domain import Platform
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.pipeline import RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.scheduler import TickScheduler
from firekeeper.server import Bound
from firekeeper.store import create_store
from firekeeper.store.leader import AlwaysLeader
from firekeeper.wiring import build_pipeline
from tests.adapters.conftest import SHARED_FIXTURES
from tests.conftest import RULESETS

TENANT = "acme"


@dataclass
class Firekeeper:
    address: str
    store_url: str

    async def block_user(self, platform: Platform, user_id: str) -> None:
        """Put a user on the tenant's blocklist (Screening.AddBlocklistEntries)."""
        async with grpc.aio.insecure_channel(self.address) as channel:
            stub = spb_grpc.ScreeningStub(channel)
            entry = spb.BlocklistEntry(
                kind=spb.BLOCKLIST_KIND_USER,
                platform=pb.Platform.Value(f"PLATFORM_{platform.name}"),
                value=user_id,
                note="test",
            )
            await stub.AddBlocklistEntries(
                spb.AddBlocklistEntriesRequest(tenant=TENANT, entries=[entry])
            )

    def owner_missed(self, platform: Platform, chat_id: str) -> None:
        """Register a chat whose owner is missed at once and run one scheduler round.

        The round's ``lifecycle.owner_silent`` decision puts one ``notify_admins``
        action in the outbox for ``chat_id``.
        """
        store = create_store(self.store_url)
        try:
            pipeline = build_pipeline(store, RulesetHolder(load(RULESETS)))
            pipeline.register_chat(
                ChatRegistration(
                    key=ChatKey(platform, TENANT, chat_id),
                    kind="growth",
                    owner_id="owner-1",
                    member_count=30,
                    created_at=datetime.now(UTC) - timedelta(days=90),
                    params={"owner_silent_days": "0"},
                )
            )
            ticks = TickScheduler(store, pipeline.evaluate, AlwaysLeader(), period_seconds=3600)
            result = ticks.run_once()
            assert result is not None and result.evaluated >= 1
        finally:
            store.close()

    def pending_outbox(self) -> int:
        """Outbox items not yet acknowledged."""
        store = create_store(self.store_url)
        try:
            return LifecycleService(store, RulesetHolder(load(RULESETS))).pending()
        finally:
            store.close()


@pytest.fixture
async def firekeeper(tmp_path: Path) -> AsyncIterator[Firekeeper]:
    store_url = f"sqlite:///{tmp_path / 'firekeeper.db'}"
    settings = Settings(
        store_url=store_url,
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(RULESETS),
        grace_seconds=1,
        reload_seconds=0,
        scheduler=False,
        drain_seconds=0,
    )
    # short polls and leases: an unacknowledged item comes again within a second
    settings = settings.replace(outbox_poll_seconds=0.05, outbox_lease_seconds=0.5)
    stop = asyncio.Event()
    bound: asyncio.Future[Bound] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_service(settings, stop_event=stop, on_ready=bound.set_result))
    done, _ = await asyncio.wait({task, bound}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    try:
        yield Firekeeper(bound.result().grpc_address, store_url)
    finally:
        stop.set()
        assert await task == 0


@pytest.fixture(scope="session")
def payloads() -> Path:
    """``<repo>/../shared/fixtures/payloads`` (see SOURCES.md there); skips when absent."""
    found = SHARED_FIXTURES / "payloads"
    if not found.is_dir():
        pytest.skip(f"shared fixtures not found at {SHARED_FIXTURES}")
    return found


async def eventually(check: object, timeout: float = 10.0) -> None:
    """Wait until ``check()`` is true (the outbox stream delivers asynchronously)."""
    assert callable(check)
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the outbox item")
        await asyncio.sleep(0.02)
