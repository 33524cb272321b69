"""serve(): gRPC + metrics endpoint until stopped, by an event or by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import grpc
import pytest
from prometheus_client import CollectorRegistry

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.config import Settings
from firekeeper.metrics import Metrics
from firekeeper.server import Bound, serve

from .support import FakePort, event, http_get


async def test_serve_runs_until_stopped() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    settings = Settings(grpc_address="127.0.0.1:0", metrics_port=0, workers=2, grace_seconds=1)
    stop, ready = asyncio.Event(), asyncio.Event()
    bound: list[Bound] = []
    task = asyncio.create_task(
        serve(
            settings, FakePort(), metrics, ready_event=ready, stop_event=stop, on_ready=bound.append
        )
    )
    try:
        await asyncio.wait_for(ready.wait(), 5)
        (where,) = bound
        assert where.grpc_port > 0 and where.metrics_port
        async with grpc.aio.insecure_channel(where.grpc_address) as channel:
            stub = pb_grpc.GovernanceStub(channel)
            await stub.Evaluate(pb.EvaluateRequest(event=convert.event_to_proto(event())))
        url = f"http://127.0.0.1:{where.metrics_port}/metrics"
        body = await asyncio.to_thread(http_get, url)
        assert 'firekeeper_events_total{kind="message.posted",platform="telegram"} 1.0' in body
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


async def test_serve_stops_gracefully_on_sigterm() -> None:
    settings = Settings(
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        workers=1,
        grace_seconds=1,
        drain_seconds=0.1,
    )
    ready, stop = asyncio.Event(), asyncio.Event()
    metrics = Metrics(CollectorRegistry())
    task = asyncio.create_task(
        serve(settings, FakePort(), metrics, ready_event=ready, stop_event=stop)
    )
    await asyncio.wait_for(ready.wait(), 5)
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # not handled: don't kill pytest
        stop.set()
        await task
        pytest.fail("serve() did not install a SIGTERM handler")
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(task, 5)
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # and puts it back


async def test_serve_fails_clearly_when_the_port_is_taken() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        settings = Settings(grpc_address=address, metrics_port=None, workers=1)
        with pytest.raises(OSError, match="cannot listen on"):
            await asyncio.wait_for(serve(settings, FakePort(), Metrics(CollectorRegistry())), 5)
