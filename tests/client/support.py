"""A real Firekeeper on its own thread, and a scripted fake Governance service.

The real one (pipeline, SQLite in a temporary folder, the shipped rulesets)
runs its grpc.aio server in a thread with its own event loop, so blocking
clients, asyncio clients and subprocesses can all call it from a test.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from prometheus_client import CollectorRegistry

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2_grpc as lpb_grpc
from firekeeper.config import Settings
from firekeeper.domain import Actor, Envelope, Event, MemberJoined, MessagePosted, Platform
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.metrics import Metrics
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.server import Server
from firekeeper.store import create_store
from tests.conftest import RULESETS

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = ChatKey(Platform.TELEGRAM, "acme", "-100777")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServiceThread:
    """``start()`` returns the address; ``stop()`` shuts the server down and closes the store."""

    def __init__(self, store_url: str, *, address: str = "127.0.0.1:0") -> None:
        self._store_url = store_url
        self._address = address
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="firekeeper-test-server")
        self.address = ""

    def start(self, timeout: float = 20.0) -> str:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the test server did not start in time")
        if self._error is not None:
            raise RuntimeError("the test server failed to start") from self._error
        return self.address

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        store = create_store(self._store_url)
        try:
            store.migrate()
            metrics = Metrics(CollectorRegistry())
            pipeline = Pipeline(store, RulesetHolder(load(RULESETS)), timing=metrics)
            settings = Settings(
                store_url=self._store_url,
                grpc_address=self._address,
                metrics_port=None,
                workers=2,
                grace_seconds=1,
            )
            server = Server(settings, pipeline, metrics)
            port = await server.start()
            self.address = f"127.0.0.1:{port}"
            self._ready.set()
            try:
                await self._stop.wait()
            finally:
                await server.stop(0)
        finally:
            store.close()


def sqlite_url(folder: Path) -> str:
    return f"sqlite:///{folder / 'firekeeper.db'}"


# ---------------------------------------------------------------- domain builders


def registration(member_count: int, kind: str = "goal", key: ChatKey = KEY) -> ChatRegistration:
    return ChatRegistration(
        key=key,
        kind=kind,
        member_count=member_count,
        created_at=T0 - timedelta(days=10),
        owner_id="owner",
        title="Marathon 2026",
    )


def join(n: int, key: ChatKey = KEY) -> Event:
    member = Actor(id=f"new{n}", display_name=f"Newcomer {n}")
    return Event(
        Envelope(
            f"join-{n}", key.platform, key.tenant, key.chat_id, T0 + timedelta(seconds=n), member
        ),
        MemberJoined(member=member),
    )


def message(n: int, *, tenant: str = "acme", key: ChatKey = KEY) -> Event:
    author = Actor(id="u1", display_name="Ann")
    return Event(
        Envelope(f"msg-{n}", key.platform, tenant, key.chat_id, T0 + timedelta(minutes=n), author),
        MessagePosted(message_id=f"m{n}", text=f"message {n}"),
    )


# ---------------------------------------------------------------- a scripted fake service


@dataclass
class Script:
    """What the fake answers: each call pops the next failure, if any, else succeeds."""

    failures: list[tuple[grpc.StatusCode, str, str]] = field(default_factory=list)
    sleep: float = 0.0  # seconds each call takes before answering
    calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)


class FakeGovernance(pb_grpc.GovernanceServicer):
    def __init__(self, script: Script) -> None:
        self.script = script

    def _step(self, context: grpc.ServicerContext) -> None:
        with self.script.lock:
            self.script.calls += 1
            failure = self.script.failures.pop(0) if self.script.failures else None
        if self.script.sleep:
            self.script.release.wait(self.script.sleep)
        if failure is not None:
            code, details, field_path = failure
            if field_path:
                context.set_trailing_metadata((("firekeeper-field", field_path),))
            context.abort(code, details)

    def Evaluate(self, request: pb.EvaluateRequest, context: Any) -> pb.EvaluateResponse:
        self._step(context)
        decision = pb.Decision(event_id=request.event.envelope.event_id, ruleset="fake")
        return pb.EvaluateResponse(decision=decision)

    def EvaluateBatch(
        self, request: pb.EvaluateBatchRequest, context: Any
    ) -> pb.EvaluateBatchResponse:
        self._step(context)
        response = pb.EvaluateBatchResponse()
        for event in request.events:
            response.results.add().decision.event_id = event.envelope.event_id
        return response

    def RegisterChat(self, request: pb.RegisterChatRequest, context: Any) -> pb.ChatState:
        self._step(context)
        return pb.ChatState(key=pb.ChatKey(platform=request.platform, chat_id=request.chat_id))

    def GetChat(self, request: pb.GetChatRequest, context: Any) -> pb.ChatState:
        self._step(context)
        return pb.ChatState(key=request.key)

    def ListRulesets(
        self, request: pb.ListRulesetsRequest, context: Any
    ) -> pb.ListRulesetsResponse:
        self._step(context)
        return pb.ListRulesetsResponse(rulesets=[pb.RulesetInfo(name="fake", version="1")])


Step = lpb.OutboxItem | grpc.StatusCode


def outbox_item(n: int, attempt: int = 1) -> lpb.OutboxItem:
    item = lpb.OutboxItem(
        id=f"ob-{n}",
        chat=pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="acme", chat_id="-100777"),
        event_id=f"tick-{n}",
        action=pb.Action(
            type=pb.ACTION_TYPE_POST_MESSAGE, text=f"reminder {n}", rule_id="lifecycle.nudge"
        ),
        attempt=attempt,
    )
    item.created_at.FromDatetime(T0)
    return item


class FakeOutbox(lpb_grpc.OutboxServicer):
    """Each StreamActions call plays the next scripted stream: items, or a status to end
    with; a stream that runs out of steps stays open until the client leaves."""

    def __init__(self, streams: list[list[Step]]) -> None:
        self.streams = streams
        self.requests: list[lpb.StreamActionsRequest] = []
        self.acks: list[str] = []
        self.release = threading.Event()

    def StreamActions(
        self, request: lpb.StreamActionsRequest, context: Any
    ) -> Iterator[lpb.OutboxItem]:
        self.requests.append(request)
        steps = self.streams.pop(0) if self.streams else []
        for step in steps:
            if isinstance(step, grpc.StatusCode):
                context.abort(step, f"scripted {step.name}")
            yield step
        while context.is_active() and not self.release.is_set():
            self.release.wait(0.02)

    def Ack(self, request: lpb.AckRequest, context: Any) -> lpb.AckResponse:
        fresh = [i for i in request.ids if i not in self.acks]
        self.acks.extend(request.ids)
        return lpb.AckResponse(acked=len(fresh))


@dataclass
class Fake:
    address: str
    script: Script
    stop: Callable[[], None]
    outbox: FakeOutbox | None = None


def start_fake(script: Script, port: int = 0, outbox: list[list[Step]] | None = None) -> Fake:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    pb_grpc.add_GovernanceServicer_to_server(FakeGovernance(script), server)
    fake_outbox = None
    if outbox is not None:
        fake_outbox = FakeOutbox(outbox)
        lpb_grpc.add_OutboxServicer_to_server(fake_outbox, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()

    def stop() -> None:
        script.release.set()
        if fake_outbox is not None:
            fake_outbox.release.set()
        server.stop(0).wait(5)

    return Fake(f"127.0.0.1:{bound}", script, stop, fake_outbox)
