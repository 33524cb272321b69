"""A real grpc.aio server on port 0 around a fake GovernancePort."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from prometheus_client import CollectorRegistry

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.config import Settings
from firekeeper.metrics import Metrics
from firekeeper.server import Server

from .support import FakePort


@dataclass
class Running:
    server: Server
    port: FakePort
    metrics: Metrics
    registry: CollectorRegistry
    channel: grpc.aio.Channel
    stub: pb_grpc.GovernanceAsyncStub
    address: str

    def sample(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value


@pytest.fixture
def fake_port() -> FakePort:
    return FakePort()


StartServer = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_server(fake_port: FakePort) -> AsyncIterator[StartServer]:
    """``await start_server(workers=1, ...)``: a server with those settings, stopped at teardown."""
    started: list[Running] = []

    async def start(**overrides: Any) -> Running:
        options: dict[str, Any] = {
            "grpc_address": "127.0.0.1:0",
            "metrics_port": None,
            "workers": 2,
            "grace_seconds": 5,
        }
        settings = Settings(**{**options, **overrides})
        registry = CollectorRegistry()
        metrics = Metrics(registry)
        server = Server(settings, fake_port, metrics, readiness_interval=0.05)
        bound = await server.start()
        address = f"127.0.0.1:{bound}"
        channel = grpc.aio.insecure_channel(address)
        stub: pb_grpc.GovernanceAsyncStub = pb_grpc.GovernanceStub(channel)
        run = Running(server, fake_port, metrics, registry, channel, stub, address)
        started.append(run)
        return run

    try:
        yield start
    finally:
        for gate in fake_port.blocked.values():
            gate.set()
        for run in started:
            await run.channel.close()
            await run.server.stop(0)


@pytest.fixture
async def running(start_server: StartServer) -> Running:
    return await start_server()
