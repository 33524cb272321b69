"""Drain (issue 9 item 7): on SIGTERM health reads NOT_SERVING while calls are still
served for the drain period; only then are calls refused; a stuck evaluation cannot
hold the process past the grace period."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import CollectorRegistry

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.config import Settings
from firekeeper.metrics import Metrics
from firekeeper.server import Bound, serve
from tests.api.support import FakePort, event
from tests.conftest import REPO

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def test_health_reads_not_serving_before_the_first_refused_call() -> None:
    drain = 1.0
    settings = Settings(
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        workers=2,
        grace_seconds=1,
        drain_seconds=drain,
    )
    bound: asyncio.Future[Bound] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        serve(settings, FakePort(), Metrics(CollectorRegistry()), on_ready=bound.set_result)
    )
    address = (await asyncio.wait_for(bound, 5)).grpc_address
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # not handled: don't kill pytest
        task.cancel()
        pytest.fail("serve() did not install a SIGTERM handler")
    seen: list[tuple[float, int]] = []  # (when, health status) as the watcher read them
    calls: list[tuple[float, grpc.StatusCode]] = []  # (when sent, answer)

    async with grpc.aio.insecure_channel(address) as watch_channel:
        watch = health_pb2_grpc.HealthStub(watch_channel).Watch(
            health_pb2.HealthCheckRequest(service="")
        )

        async def watcher() -> None:
            with_errors = (grpc.aio.AioRpcError, asyncio.CancelledError)
            try:
                async for reply in watch:
                    seen.append((time.monotonic(), reply.status))
            except with_errors:
                pass

        async def caller() -> None:
            n = 0
            while True:
                n += 1
                request = pb.EvaluateRequest(event=convert.event_to_proto(event(event_id=f"d{n}")))
                sent = time.monotonic()
                # a fresh channel per call: a refused call is not a reused connection's
                async with grpc.aio.insecure_channel(address) as channel:
                    try:
                        await pb_grpc.GovernanceStub(channel).Evaluate(request, timeout=2)
                        calls.append((sent, grpc.StatusCode.OK))
                    except grpc.aio.AioRpcError as exc:
                        calls.append((sent, exc.code()))
                        return
                await asyncio.sleep(0.02)

        watching = asyncio.create_task(watcher())
        while not seen:
            await asyncio.sleep(0.01)
        calling = asyncio.create_task(caller())
        await asyncio.sleep(0.2)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(calling, 10)
        await asyncio.wait_for(task, 10)
        watching.cancel()
        await asyncio.gather(watching, return_exceptions=True)

    assert seen[0][1] == SERVING
    not_serving = next(when for when, status in seen if status == NOT_SERVING)
    refused_at, refused = calls[-1]
    assert refused != grpc.StatusCode.OK
    assert not_serving < refused_at
    during_drain = [
        when for when, code in calls if code == grpc.StatusCode.OK and when > not_serving
    ]
    assert len(during_drain) >= 3, calls  # calls made during the drain period were served
    assert refused_at - not_serving >= drain * 0.8  # refused only once the drain was over


def test_a_stuck_evaluation_cannot_hold_the_process_past_the_grace_period() -> None:
    grace, drain = 0.5, 0.2
    server = [sys.executable, "-m", "tests.boundary.stuck_server", str(grace), str(drain)]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}
    with subprocess.Popen(server, cwd=REPO, **pipes) as proc:  # type: ignore[call-overload]
        try:
            line = proc.stdout.readline()
            assert line.startswith("port "), line
            rpc = [sys.executable, "-m", "firekeeper.cli", "rpc", "--target"]
            rpc += [f"127.0.0.1:{line.split()[1]}", "Evaluate", STUCK_EVENT]
            quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            with subprocess.Popen(rpc, cwd=REPO, **quiet) as client:  # type: ignore[call-overload]
                try:
                    assert proc.stdout.readline().strip() == "entered"
                    started = time.monotonic()
                    proc.send_signal(signal.SIGTERM)
                    code = proc.wait(timeout=30)  # drain + grace is 0.7 s; a hang fails here
                    took = time.monotonic() - started
                finally:
                    client.kill()
            err = proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
    assert code == 1, err
    assert "worker threads still busy after the grace period" in err and "busy_workers=1" in err
    assert took < 10  # many times drain + grace: it did not wait for the stuck thread


STUCK_EVENT = (
    '{"event":{"envelope":{"event_id":"stuck","platform":"PLATFORM_TELEGRAM",'
    '"tenant":"acme","chat_id":"c","occurred_at":"2026-11-24T09:30:00Z",'
    '"actor":{"id":"u1"}},"message_posted":{"message_id":"m","text":"hi"}}}'
)
