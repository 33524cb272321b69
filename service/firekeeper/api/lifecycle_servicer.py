"""The Outbox and Health gRPC services (``lifecycle.proto``).

Outbox.StreamActions is a long-lived server stream. Each stream has an owner id;
it leases pending items to itself (``LifecyclePort.claim``), sends them, renews
its leases while it lives, and when it ends - the client went away, the server
is shutting down - releases what was not acknowledged, so the next stream gets
it again. Between claims it sleeps until the scheduler says there may be new
items, or ``poll_seconds`` pass (another replica may have made them).

Scheduler.RunTicks runs the scheduler's round for a period the caller names
(``firekeeper.scheduler.run_ticks``), now. When the server's evaluation queue is not
running (start-up, shutdown) or does not answer, the round is put off and the call
answers UNAVAILABLE (reason ``EVALUATION_QUEUE_NOT_RUNNING``, with RetryInfo): the
ticks made before stand, and calling again replays them.

Errors go through ``firekeeper.api.status``, the one error-to-status mapping (and
``QueueNotRunning``, the scheduler's own, through :func:`queue_not_running_status`).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import Executor, Future
from datetime import datetime
from typing import Any, NoReturn, Protocol, TypeVar

import grpc

from firekeeper.api import convert
from firekeeper.api import lifecycle_convert as lconvert
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2_grpc as lpb_grpc
from firekeeper.api.status import ErrorStatus, abort, retry_info, status_for
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.domain.health import ChatHealth
from firekeeper.domain.outbox import OutboxItem
from firekeeper.errors import InvalidEvent
from firekeeper.metrics import Metrics
from firekeeper.scheduler import ChatSelection, ManualRound, QueueNotRunning

log = logging.getLogger(__name__)

OUTBOX_SERVICE_NAME = lpb.DESCRIPTOR.services_by_name["Outbox"].full_name
HEALTH_SERVICE_NAME = lpb.DESCRIPTOR.services_by_name["Health"].full_name
SCHEDULER_SERVICE_NAME = lpb.DESCRIPTOR.services_by_name["Scheduler"].full_name

QUEUE_RETRY_SECONDS = 1.0  # RetryInfo of a put-off RunTicks: the queue starts in about that

_T = TypeVar("_T")
Context = grpc.aio.ServicerContext[Any, Any]


class Wakeup(Protocol):
    async def wait(self, timeout: float) -> bool: ...


class LifecyclePort(Protocol):
    """What the services need (``areas.lifecycle.admin.LifecycleService``). Methods block."""

    lease_seconds: float

    @property
    def wakeups(self) -> Wakeup: ...

    def claim(
        self, platform: Platform, tenant: str, owner: str, chat_ids: Sequence[str] = ()
    ) -> list[OutboxItem]: ...

    def renew(self, owner: str) -> int: ...

    def release(self, owner: str) -> int: ...

    def ack(self, platform: Platform, tenant: str, ids: Sequence[int]) -> int: ...

    def chat_health(self, key: ChatKey) -> ChatHealth:
        """``ChatNotFound`` for a chat never seen."""
        ...


class TicksPort(Protocol):
    """Runs a manual tick round (``firekeeper.lifecycle_runtime.ManualTicks``). Blocks."""

    def run_ticks(self, at: datetime, selection: ChatSelection) -> ManualRound: ...


class OutboxObserver(Protocol):
    """The lifecycle area's outbox counters
    (``firekeeper.areas.lifecycle.metrics.LifecycleMetrics``)."""

    def observe_outbox(self, *, delivered: int = 0, acked: int = 0) -> None: ...


class _Unobserved:
    def observe_outbox(self, *, delivered: int = 0, acked: int = 0) -> None:
        return None


class _Base:
    def __init__(self, port: LifecyclePort, metrics: Metrics, executor: Executor) -> None:
        self._port = port
        self._metrics = metrics
        self._executor = executor

    async def _run(self, job: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, job)

    async def _fail(self, context: Context, exc: Exception, rpc: str) -> NoReturn:
        if isinstance(exc, QueueNotRunning):
            status = queue_not_running_status(exc)
        else:
            status = status_for(exc, context=rpc)
        self._metrics.observe_error(status.code_name)
        if status.code != grpc.StatusCode.INTERNAL:
            log.info("call failed", extra={"rpc": rpc, "code": status.code_name})
        await abort(context, status)


def queue_not_running_status(exc: QueueNotRunning) -> ErrorStatus:
    """RunTicks' answer when its round was put off: UNAVAILABLE, safe to call again."""
    return ErrorStatus(
        grpc.StatusCode.UNAVAILABLE,
        f"the tick round was put off ({exc}); ticks already made stand, call again",
        reason="EVALUATION_QUEUE_NOT_RUNNING",
        details=(retry_info(QUEUE_RETRY_SECONDS),),
    )


class OutboxServicer(_Base, lpb_grpc.OutboxServicer):
    def __init__(
        self,
        port: LifecyclePort,
        metrics: Metrics,
        executor: Executor,
        *,
        poll_seconds: float = 1.0,
        observer: OutboxObserver | None = None,
    ) -> None:
        super().__init__(port, metrics, executor)
        self._observer: OutboxObserver = observer or _Unobserved()
        self._poll = poll_seconds
        self._closing = asyncio.Event()
        self._streams = 0
        self._jobs: set[Future[Any]] = set()  # store work still running for any stream

    def _submit(self, job: Callable[[], _T]) -> Future[_T]:
        future = self._executor.submit(job)
        self._jobs.add(future)
        future.add_done_callback(self._jobs.discard)
        return future

    async def close(self, timeout: float = 5.0) -> None:
        """End every stream and wait (up to ``timeout``) until each has given back the
        items it held (server shutdown)."""
        self._closing.set()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        # a stream's release may be queued behind its last claim: wait for both
        while (self._streams or self._jobs) and loop.time() < deadline:
            await asyncio.sleep(0.01)

    async def StreamActions(
        self, request: lpb.StreamActionsRequest, context: Context
    ) -> AsyncIterator[lpb.OutboxItem]:
        try:
            platform, tenant, chat_ids = lconvert.stream_request_from_proto(request)
        except Exception as exc:
            await self._fail(context, exc, "StreamActions")
        owner = uuid.uuid4().hex
        loop = asyncio.get_running_loop()
        renew_every = max(self._port.lease_seconds / 3, 0.01)
        renewed = loop.time()
        claiming: Future[list[OutboxItem]] | None = None
        self._streams += 1
        log.info("outbox stream opened", extra={"platform": platform.value, "tenant": tenant})
        try:
            while not self._closing.is_set() and not context.done():
                claiming = self._submit(lambda: self._port.claim(platform, tenant, owner, chat_ids))
                items = await asyncio.wrap_future(claiming)
                for item in items:
                    yield lconvert.outbox_item_to_proto(item)
                self._observer.observe_outbox(delivered=len(items))
                if loop.time() - renewed >= renew_every:
                    await asyncio.wrap_future(self._submit(lambda: self._port.renew(owner)))
                    renewed = loop.time()
                if not items and not self._closing.is_set():
                    await self._idle()
        except Exception as exc:
            await self._fail(context, exc, "StreamActions")
        finally:
            self._streams -= 1
            self._release_after(owner, claiming)
            log.info("outbox stream closed", extra={"platform": platform.value, "tenant": tenant})

    async def _idle(self) -> None:
        """Until the scheduler says there may be new items, the server closes, or a poll
        interval passes (another replica may have made some)."""
        closing = asyncio.ensure_future(self._closing.wait())
        woken = asyncio.ensure_future(self._port.wakeups.wait(self._poll))
        try:
            await asyncio.wait({closing, woken}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            woken.cancel()

    def _release_after(self, owner: str, claiming: Future[list[OutboxItem]] | None) -> None:
        """Give back what this stream holds once a claim still running for it is done
        (cancelling a stream does not stop a claim already on a worker thread)."""

        def release() -> None:
            try:
                self._port.release(owner)
            except Exception:
                log.warning(
                    "could not release outbox leases; they expire by themselves", exc_info=True
                )

        # Counted as store work from now until the release is submitted: the claim's own
        # entry leaves the set before its done-callbacks run, and close() must not see
        # an empty set in between (the store would close, and the release would open a
        # connection in the disposed engine's new pool that nothing closes).
        pending: Future[None] = Future()
        self._jobs.add(pending)

        def submit(_: object = None) -> None:
            try:
                self._submit(release)
            except RuntimeError:  # the executor is shut down: do it on this thread
                release()
            finally:
                self._jobs.discard(pending)

        if claiming is not None and not claiming.done():
            claiming.add_done_callback(submit)
        else:
            submit()

    async def Ack(self, request: lpb.AckRequest, context: Context) -> lpb.AckResponse:
        try:
            platform, tenant, ids = lconvert.ack_request_from_proto(request)
            acked = await self._run(lambda: self._port.ack(platform, tenant, ids))
            self._observer.observe_outbox(acked=acked)
            return lpb.AckResponse(acked=acked)
        except Exception as exc:
            await self._fail(context, exc, "Ack")


class HealthServicer(_Base, lpb_grpc.HealthServicer):
    async def GetChatHealth(
        self, request: lpb.GetChatHealthRequest, context: Context
    ) -> lpb.ChatHealth:
        try:
            if not request.HasField("key"):
                raise InvalidEvent("key", "required")
            key = convert.chat_key_from_proto(request.key, path="key")
            health = await self._run(lambda: self._port.chat_health(key))
            return lconvert.chat_health_to_proto(health)
        except Exception as exc:
            await self._fail(context, exc, "GetChatHealth")


class SchedulerServicer(_Base, lpb_grpc.SchedulerServicer):
    def __init__(
        self, port: LifecyclePort, ticks: TicksPort, metrics: Metrics, executor: Executor
    ) -> None:
        super().__init__(port, metrics, executor)
        self._ticks = ticks

    async def RunTicks(
        self, request: lpb.RunTicksRequest, context: Context
    ) -> lpb.RunTicksResponse:
        try:
            at, selection = lconvert.run_ticks_request_from_proto(request)
            result = await self._run(lambda: self._ticks.run_ticks(at, selection))
            return lconvert.run_ticks_response(result)
        except Exception as exc:
            await self._fail(context, exc, "RunTicks")


class LifecycleServices:
    """The services, as the server registers them (Scheduler only with a ``ticks`` port;
    ``observer``: the lifecycle area's outbox counters, none in tests that do not read them)."""

    def __init__(
        self,
        port: LifecyclePort,
        *,
        poll_seconds: float = 1.0,
        ticks: TicksPort | None = None,
        observer: OutboxObserver | None = None,
    ) -> None:
        self._port = port
        self._observer = observer
        self._poll = poll_seconds
        self._ticks = ticks
        self._outbox: OutboxServicer | None = None

    @property
    def names(self) -> tuple[str, ...]:
        names = (OUTBOX_SERVICE_NAME, HEALTH_SERVICE_NAME)
        return names if self._ticks is None else (*names, SCHEDULER_SERVICE_NAME)

    def add_to(self, server: grpc.aio.Server, metrics: Metrics, executor: Executor) -> None:
        self._outbox = OutboxServicer(
            self._port, metrics, executor, poll_seconds=self._poll, observer=self._observer
        )
        lpb_grpc.add_OutboxServicer_to_server(self._outbox, server)
        lpb_grpc.add_HealthServicer_to_server(HealthServicer(self._port, metrics, executor), server)
        if self._ticks is not None:
            scheduler = SchedulerServicer(self._port, self._ticks, metrics, executor)
            lpb_grpc.add_SchedulerServicer_to_server(scheduler, server)

    async def close(self) -> None:
        """Outbox streams end and give back what they hold."""
        if self._outbox is not None:
            await self._outbox.close()
