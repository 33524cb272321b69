"""The Governance gRPC service: requests -> domain values -> the port -> responses.

The port (``GovernancePort``, implemented by ``firekeeper.pipeline``) blocks on the
database, so every call to it runs in a bounded thread pool and the event loop
never waits on I/O. A call whose deadline has passed - before it starts or
while it waits for a worker thread - is not evaluated: DEADLINE_EXCEEDED.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any, NoReturn, Protocol, TypeVar

import grpc

from firekeeper.api import convert, onboarding_convert
from firekeeper.api.boundary import check_strings
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.status import ErrorStatus, abort, status_for
from firekeeper.domain import Decision, Event, EventKind
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.onboarding import ChatHistory, ImportSummary
from firekeeper.domain.views import ChatView, RulesetSummary
from firekeeper.errors import InvalidEvent
from firekeeper.metrics import Metrics

log = logging.getLogger(__name__)

MAX_BATCH = 500
SERVICE_NAME = pb.DESCRIPTOR.services_by_name["Governance"].full_name  # firekeeper.v1.Governance

_T = TypeVar("_T")
Context = grpc.aio.ServicerContext[Any, Any]


class GovernancePort(Protocol):
    """What the API needs from the pipeline. Every method may block on I/O."""

    def evaluate(self, event: Event, *, explain: bool = False) -> Decision:
        """Decide on one event (idempotent by event id); may raise ``FirekeeperError``.
        ``explain``: the decision carries its explanation."""
        ...

    def register_chat(self, reg: ChatRegistration) -> ChatView: ...

    def get_chat(self, key: ChatKey) -> ChatView:
        """Raise ``ChatNotFound`` for a chat never seen."""
        ...

    def list_rulesets(self) -> list[RulesetSummary]: ...

    def import_history(self, key: ChatKey, history: ChatHistory) -> ImportSummary:
        """Merge a registered chat's earlier history; ``ChatNotFound`` otherwise."""
        ...

    def ready(self) -> bool:
        """True when the store is reachable and rulesets are loaded."""
        ...


class _Stopped(Exception):
    """The call's deadline passed or the client went away: do no more work for it."""


_DEADLINE = ErrorStatus(
    grpc.StatusCode.DEADLINE_EXCEEDED,
    "the deadline passed before the call was evaluated; nothing was done, retry with more time",
)


_NOT_REACHED = ErrorStatus(
    grpc.StatusCode.DEADLINE_EXCEEDED,
    "the deadline passed before this event was evaluated; send it again (same event id)",
)


class _Guard:
    """Lets worker threads see the call's deadline and cancellation."""

    def __init__(self, remaining: float | None) -> None:
        self.deadline = None if remaining is None else time.monotonic() + remaining
        self.cancelled = threading.Event()

    def check(self) -> None:
        if self.cancelled.is_set() or (
            self.deadline is not None and time.monotonic() >= self.deadline
        ):
            raise _Stopped


TICK_ID_PREFIX = "tick:"  # firekeeper.scheduler.tick_event's ids


def _from_adapter(msg: pb.Event, path: str) -> Event:
    """An event as an adapter may send it: ticks are the scheduler's alone.

    An adapter's tick would be a second evaluation of a period (its own outbox
    rows, reminders), and an adapter event under a tick's id would make the
    scheduler's real tick come back as a replay of something else.
    """
    event = convert.event_from_proto(msg, path=path)
    if event.kind == EventKind.CHAT_TICK:
        raise InvalidEvent(
            f"{path}.chat_tick", "tick events are made by the service's scheduler, not adapters"
        )
    if event.envelope.event_id.startswith(TICK_ID_PREFIX):
        raise InvalidEvent(
            f"{path}.envelope.event_id",
            f"ids beginning with {TICK_ID_PREFIX!r} are reserved for the scheduler's ticks",
        )
    return event


class GovernanceServicer(pb_grpc.GovernanceServicer):
    def __init__(
        self,
        port: GovernancePort,
        metrics: Metrics,
        executor: Executor,
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._port = port
        self._metrics = metrics
        self._executor = executor
        self._max_batch = max_batch

    # ------------------------------------------------------------ RPCs

    async def Evaluate(self, request: pb.EvaluateRequest, context: Context) -> pb.EvaluateResponse:
        with self._metrics.inflight.track_inprogress():
            try:
                if not request.HasField("event"):
                    raise InvalidEvent("event", "required")
                event = _from_adapter(request.event, "event")
                explain = request.explain
                decision, seconds = await self._run(
                    context, lambda guard: self._evaluate(guard, event, explain=explain)
                )
                self._observe(event, decision, seconds)
                return pb.EvaluateResponse(decision=convert.decision_to_proto(decision))
            except Exception as exc:
                await self._fail(context, exc, "Evaluate")

    async def EvaluateBatch(
        self, request: pb.EvaluateBatchRequest, context: Context
    ) -> pb.EvaluateBatchResponse:
        with self._metrics.inflight.track_inprogress():
            try:
                if len(request.events) > self._max_batch:
                    raise InvalidEvent(
                        "events",
                        f"{len(request.events)} events in one batch, at most {self._max_batch}:"
                        " split it into smaller batches",
                    )
                parsed: list[Event | ErrorStatus] = []
                for i, msg in enumerate(request.events):
                    try:
                        # the boundary leaves a batch's events to this check (per entry)
                        check_strings(msg, f"events[{i}]")
                        parsed.append(_from_adapter(msg, f"events[{i}]"))
                    except InvalidEvent as exc:
                        parsed.append(status_for(exc))
                outcomes = await self._run(context, lambda guard: self._evaluate_all(guard, parsed))
                return self._batch_response(parsed, outcomes)
            except Exception as exc:
                await self._fail(context, exc, "EvaluateBatch")

    async def RegisterChat(self, request: pb.RegisterChatRequest, context: Context) -> pb.ChatState:
        with self._metrics.inflight.track_inprogress():
            try:
                reg = convert.registration_from_proto(request)
                view = await self._run(context, lambda guard: self._port.register_chat(reg))
                log.info("chat registered", extra={"chat": str(reg.key), "ruleset": reg.ruleset})
                return convert.chat_view_to_proto(view)
            except Exception as exc:
                await self._fail(context, exc, "RegisterChat")

    async def ImportChatHistory(
        self, request: pb.ImportChatHistoryRequest, context: Context
    ) -> pb.ImportChatHistoryResponse:
        with self._metrics.inflight.track_inprogress():
            try:
                key, history = onboarding_convert.import_request_from_proto(request)
                summary = await self._run(
                    context, lambda guard: self._port.import_history(key, history)
                )
                log.info(
                    "chat history imported",
                    extra={
                        "chat": str(key),
                        "members_added": summary.members_added,
                        "members_updated": summary.members_updated,
                        "days": summary.days_imported,
                    },
                )
                return onboarding_convert.import_summary_to_proto(summary)
            except Exception as exc:
                await self._fail(context, exc, "ImportChatHistory")

    async def GetChat(self, request: pb.GetChatRequest, context: Context) -> pb.ChatState:
        with self._metrics.inflight.track_inprogress():
            try:
                if not request.HasField("key"):
                    raise InvalidEvent("key", "required")
                key = convert.chat_key_from_proto(request.key, path="key")
                view = await self._run(context, lambda guard: self._port.get_chat(key))
                return convert.chat_view_to_proto(view)
            except Exception as exc:
                await self._fail(context, exc, "GetChat")

    async def ListRulesets(
        self, request: pb.ListRulesetsRequest, context: Context
    ) -> pb.ListRulesetsResponse:
        with self._metrics.inflight.track_inprogress():
            try:
                summaries = await self._run(context, lambda guard: self._port.list_rulesets())
                return pb.ListRulesetsResponse(
                    rulesets=[convert.ruleset_summary_to_proto(s) for s in summaries]
                )
            except Exception as exc:
                await self._fail(context, exc, "ListRulesets")

    # ------------------------------------------------------------ helpers

    async def _run(self, context: Context, job: Callable[[_Guard], _T]) -> _T:
        """Run ``job`` on a worker thread unless the call's deadline has passed."""
        remaining: float | None = context.time_remaining()
        guard = _Guard(remaining)
        guard.check()  # already expired on arrival: do nothing

        def work() -> _T:
            guard.check()  # expired while waiting for a worker thread
            return job(guard)

        future = asyncio.get_running_loop().run_in_executor(self._executor, work)
        try:
            return await future
        except asyncio.CancelledError:
            guard.cancelled.set()  # a batch stops between events
            raise

    def _evaluate(
        self, guard: _Guard, event: Event, *, explain: bool = False
    ) -> tuple[Decision, float]:
        guard.check()
        start = time.perf_counter()
        # explain only when asked, so ports that predate it keep working
        decision = (
            self._port.evaluate(event, explain=True) if explain else self._port.evaluate(event)
        )
        return decision, time.perf_counter() - start

    def _evaluate_all(
        self, guard: _Guard, parsed: list[Event | ErrorStatus]
    ) -> list[tuple[Decision, float] | ErrorStatus]:
        """Evaluate in order on this worker thread; one event's error is only its own."""
        out: list[tuple[Decision, float] | ErrorStatus] = []
        for i, item in enumerate(parsed):
            if isinstance(item, ErrorStatus):
                out.append(item)
                continue
            try:
                out.append(self._evaluate(guard, item))
            except _Stopped:
                if not any(isinstance(o, tuple) for o in out):
                    raise  # nothing decided yet: the whole call failed its deadline
                # Decisions already made are committed: return them, and mark the
                # rest as not evaluated so the adapter resends only those.
                out.extend(_NOT_REACHED for _ in parsed[len(out) :])
                return out
            except Exception as exc:
                where = f"EvaluateBatch events[{i}] event_id={item.envelope.event_id}"
                out.append(status_for(exc, context=where))
        return out

    def _batch_response(
        self,
        parsed: list[Event | ErrorStatus],
        outcomes: list[tuple[Decision, float] | ErrorStatus],
    ) -> pb.EvaluateBatchResponse:
        response = pb.EvaluateBatchResponse()
        for item, outcome in zip(parsed, outcomes, strict=True):
            result = response.results.add()
            if isinstance(outcome, ErrorStatus):
                self._metrics.observe_error(outcome.code_name)
                result.error.code, result.error.message = outcome.code_name, outcome.message
                result.error.field = outcome.field
            elif isinstance(item, Event):
                self._observe(item, *outcome)
                result.decision.CopyFrom(convert.decision_to_proto(outcome[0]))
        return response

    def _observe(self, event: Event, decision: Decision, seconds: float) -> None:
        self._metrics.observe_decision(event, decision, seconds)
        log.debug(
            "evaluated",
            extra={
                "event_id": event.envelope.event_id,
                "kind": event.kind.value,
                "platform": event.envelope.platform.value,
                "actions": [a.type.value for a in decision.actions],
                "rules": [m.rule_id for m in decision.trace],
                "replayed": decision.replayed,
                "duration_ms": round(seconds * 1000, 3),
            },
        )

    async def _fail(self, context: Context, exc: Exception, rpc: str) -> NoReturn:
        status = _DEADLINE if isinstance(exc, _Stopped) else status_for(exc, context=rpc)
        self._metrics.observe_error(status.code_name)
        if status.code != grpc.StatusCode.INTERNAL:  # INTERNAL was logged with its traceback
            level = logging.WARNING if status.code == grpc.StatusCode.UNAVAILABLE else logging.INFO
            log.log(
                level,
                "call failed",
                extra={"rpc": rpc, "code": status.code_name, "field": status.field},
            )
        await abort(context, status)
