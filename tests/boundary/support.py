"""The composed service (``run_service``) on port 0, with its log captured."""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import json_format

from firekeeper import logs
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.app import run_service
from firekeeper.config import Settings
from firekeeper.server import Bound
from tests.conftest import RULESETS

REGISTER: dict[str, Any] = {
    "platform": "PLATFORM_TELEGRAM",
    "tenant": "acme",
    "chat_id": "c1",
    "kind": "CHAT_KIND_GOAL",
    "member_count": 10,
    "owner_id": "42",
    "created_at": "2026-11-20T08:00:00Z",
}


def register(**changes: Any) -> pb.RegisterChatRequest:
    return json_format.ParseDict({**REGISTER, **changes}, pb.RegisterChatRequest())


def evaluate(event_id: str, chat_id: str = "c1", **payload: Any) -> pb.EvaluateRequest:
    at = payload.pop("occurred_at", "2026-11-24T09:30:00Z")
    envelope = {
        "event_id": event_id,
        "platform": "PLATFORM_TELEGRAM",
        "tenant": "acme",
        "chat_id": chat_id,
        "occurred_at": at,
        "actor": {"id": "u1", "display_name": "Una"},
    }
    if not payload:
        payload = {"message_posted": {"message_id": f"m-{event_id}", "text": "hello"}}
    return json_format.ParseDict({"event": {"envelope": envelope, **payload}}, pb.EvaluateRequest())


@dataclass
class Service:
    address: str
    channel: grpc.aio.Channel
    text_log: io.StringIO
    json_log: io.StringIO

    def log(self) -> str:
        return self.text_log.getvalue() + self.json_log.getvalue()


def settings_for(store_url: str, **overrides: Any) -> Settings:
    base = Settings(
        store_url=store_url,
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(RULESETS),
        grace_seconds=1,
        reload_seconds=0,
        scheduler=False,
        drain_seconds=0,
    )
    return base.replace(**overrides)


@asynccontextmanager
async def service(store_url: str, **overrides: Any) -> AsyncIterator[Service]:
    """The real service; every log record at DEBUG and up is captured in both formats."""
    text_log, json_log = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    level = root.level
    handlers = []
    for out, formatter in ((text_log, logs.TextFormatter()), (json_log, logs.JsonFormatter())):
        handler = logging.StreamHandler(out)
        handler.setFormatter(formatter)
        root.addHandler(handler)
        handlers.append(handler)
    root.setLevel(logging.DEBUG)
    stop = asyncio.Event()
    bound: asyncio.Future[Bound] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(
        run_service(
            settings_for(store_url, **overrides), stop_event=stop, on_ready=bound.set_result
        )
    )
    try:
        done, _ = await asyncio.wait({task, bound}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
        address = bound.result().grpc_address
        async with grpc.aio.insecure_channel(address) as channel:
            yield Service(address, channel, text_log, json_log)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(level)


async def code_of(call: Any) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK
