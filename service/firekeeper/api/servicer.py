"""The Governance gRPC service: requests -> domain values -> the port -> responses.

Evaluations (``Evaluate``, ``EvaluateBatch``) go through the server's batcher
(``firekeeper.api.batcher``): one evaluation thread that runs the port's
``evaluate_batch`` on whatever is waiting, so unary and batch callers share one
path. The other calls block on the database too, so they run in a bounded thread
pool; the event loop never waits on I/O. A call whose deadline has passed - before
it starts or while it waits - is not evaluated: DEADLINE_EXCEEDED; a batch that runs
out of time keeps what it decided and marks the rest not reached.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, NoReturn, Protocol, TypeVar

import grpc

from firekeeper.api import convert, onboarding_convert
from firekeeper.api.batcher import Answer, Batcher, Closed, NotReached, Stopped
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

    def evaluate_batch(
        self, events: Sequence[Event], *, explain: bool | Sequence[bool] = False
    ) -> list[Decision | Exception]:
        """Decide on ``events`` in order (idempotent by event id): one outcome each, its
        decision or the error it alone met. ``explain``: the decision carries its
        explanation (for every event, or one flag per event)."""
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


_DEADLINE = ErrorStatus(
    grpc.StatusCode.DEADLINE_EXCEEDED,
    "the deadline passed before the call was evaluated; nothing was done, retry with more time",
)


_NOT_REACHED = ErrorStatus(
    grpc.StatusCode.DEADLINE_EXCEEDED,
    "the deadline passed before this event was evaluated; send it again (same event id)",
)

_CLOSED = ErrorStatus(
    grpc.StatusCode.UNAVAILABLE,
    "the server is shutting down and did not evaluate this; send it again (same event id)",
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
            raise Stopped


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
        batcher: Batcher,
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        """``executor`` runs the calls other than evaluations; ``batcher`` evaluates."""
        self._batcher = batcher
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
                (answer,) = await self._evaluate(context, [event], [request.explain])
                if isinstance(answer.outcome, NotReached):  # one event: never, but be sure
                    raise Stopped
                if not isinstance(answer.outcome, Exception):
                    self._observe(event, answer.outcome, answer.seconds)
                    response = pb.EvaluateResponse()
                    convert.decision_into(response.decision, answer.outcome)
                    return response
                # not raised again: a failed batch hands one error object to every call
                # in it, and raising it in each would pile their frames on its traceback
                failure: Exception = answer.outcome
            except Exception as exc:
                failure = exc
            await self._fail(context, failure, "Evaluate")

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
                        # the boundary leaves the events' strings to the converters, so
                        # one bad event fails only itself
                        parsed.append(_from_adapter(msg, f"events[{i}]"))
                    except InvalidEvent as exc:
                        parsed.append(status_for(exc))
                events = [item for item in parsed if isinstance(item, Event)]
                answers = await self._evaluate(context, events)
                return self._batch_response(parsed, answers)
            except Exception as exc:
                await self._fail(context, exc, "EvaluateBatch")

    async def RegisterChat(self, request: pb.RegisterChatRequest, context: Context) -> pb.ChatState:
        with self._metrics.inflight.track_inprogress():
            try:
                reg = convert.registration_from_proto(request)
                view = await self._run(context, lambda: self._port.register_chat(reg))
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
                summary = await self._run(context, lambda: self._port.import_history(key, history))
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
                view = await self._run(context, lambda: self._port.get_chat(key))
                return convert.chat_view_to_proto(view)
            except Exception as exc:
                await self._fail(context, exc, "GetChat")

    async def ListRulesets(
        self, request: pb.ListRulesetsRequest, context: Context
    ) -> pb.ListRulesetsResponse:
        with self._metrics.inflight.track_inprogress():
            try:
                summaries = await self._run(context, lambda: self._port.list_rulesets())
                return pb.ListRulesetsResponse(
                    rulesets=[convert.ruleset_summary_to_proto(s) for s in summaries]
                )
            except Exception as exc:
                await self._fail(context, exc, "ListRulesets")

    # ------------------------------------------------------------ helpers

    async def _run(self, context: Context, job: Callable[[], _T]) -> _T:
        """Run ``job`` (not an evaluation) on a worker thread unless the call's deadline
        has passed."""
        remaining: float | None = context.time_remaining()
        guard = _Guard(remaining)
        guard.check()  # already expired on arrival: do nothing

        def work() -> _T:
            guard.check()  # expired while waiting for a worker thread
            return job()

        future = asyncio.get_running_loop().run_in_executor(self._executor, work)
        try:
            return await future
        except asyncio.CancelledError:
            guard.cancelled.set()  # not started yet: it will not start
            raise

    async def _evaluate(
        self, context: Context, events: list[Event], explain: Sequence[bool] | None = None
    ) -> list[Answer]:
        """Evaluate ``events`` through the batcher unless the call's deadline has passed."""
        remaining: float | None = context.time_remaining()
        if remaining is not None and remaining <= 0:
            raise Stopped  # already expired on arrival: do nothing
        deadline = None if remaining is None else time.monotonic() + remaining
        return await self._batcher.evaluate(events, explain, deadline=deadline)

    def _batch_response(
        self, parsed: list[Event | ErrorStatus], answers: list[Answer]
    ) -> pb.EvaluateBatchResponse:
        response = pb.EvaluateBatchResponse()
        decided = iter(answers)
        for i, item in enumerate(parsed):
            result = response.results.add()
            status = item
            if isinstance(item, Event):
                answer = next(decided)
                if isinstance(answer.outcome, Decision):
                    self._observe(item, answer.outcome, answer.seconds)
                    convert.decision_into(result.decision, answer.outcome)
                    continue
                if isinstance(answer.outcome, NotReached):
                    status = _NOT_REACHED
                elif isinstance(answer.outcome, Closed):
                    status = _CLOSED
                else:
                    where = f"EvaluateBatch events[{i}] event_id={item.envelope.event_id}"
                    status = status_for(answer.outcome, context=where)
            assert isinstance(status, ErrorStatus)
            self._metrics.observe_error(status.code_name)
            result.error.code, result.error.message = status.code_name, status.message
            result.error.field = status.field
        return response

    def _observe(self, event: Event, decision: Decision, seconds: float) -> None:
        self._metrics.observe_decision(event, decision, seconds)
        if not log.isEnabledFor(logging.DEBUG):
            return  # the line's fields are not built for nothing
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
        if isinstance(exc, Stopped):
            status = _DEADLINE
        elif isinstance(exc, Closed):
            status = _CLOSED
        else:
            status = status_for(exc, context=rpc)
        self._metrics.observe_error(status.code_name)
        if status.code != grpc.StatusCode.INTERNAL:  # INTERNAL was logged with its traceback
            level = logging.WARNING if status.code == grpc.StatusCode.UNAVAILABLE else logging.INFO
            log.log(
                level,
                "call failed",
                extra={"rpc": rpc, "code": status.code_name, "field": status.field},
            )
        await abort(context, status)
