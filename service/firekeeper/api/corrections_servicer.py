"""The Corrections gRPC service (corrections.proto): admins' corrections, the per-rule report.

Like the other services, every call to the port runs on the bounded worker pool
(the port blocks on the database) and every error goes through
``firekeeper.api.status``. Who may call it is in ``firekeeper.auth.policy``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime
from typing import Any, Literal, NoReturn, Protocol, TypeVar

import grpc

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import corrections_pb2 as cpb
from firekeeper.api.gen.firekeeper.v1 import corrections_pb2_grpc as cpb_grpc
from firekeeper.api.status import abort, status_for
from firekeeper.domain.corrections import (
    Correction,
    CorrectionKind,
    CorrectionOutcome,
    CorrectionRequest,
    RuleCorrections,
)
from firekeeper.errors import InvalidEvent
from firekeeper.metrics import Metrics

log = logging.getLogger(__name__)

SERVICE_NAME = cpb.DESCRIPTOR.services_by_name["Corrections"].full_name

_T = TypeVar("_T")
Context = grpc.aio.ServicerContext[Any, Any]

_KINDS = {
    cpb.CORRECTION_KIND_NOT_SPAM: CorrectionKind.NOT_SPAM,
    cpb.CORRECTION_KIND_MISSED_SPAM: CorrectionKind.MISSED_SPAM,
    cpb.CORRECTION_KIND_JOIN_WAS_FINE: CorrectionKind.JOIN_WAS_FINE,
}
_KINDS_TO = {v: k for k, v in _KINDS.items()}


class CorrectionsPort(Protocol):
    """What the API needs (``areas.corrections.admin.CorrectionsAdmin``). Methods block."""

    def report(self, req: CorrectionRequest) -> CorrectionOutcome: ...

    def rule_report(
        self,
        tenant: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[RuleCorrections]: ...


def request_from_proto(msg: cpb.ReportCorrectionRequest) -> CorrectionRequest:
    if not msg.HasField("chat"):
        raise InvalidEvent("chat", "required: the chat of the corrected decision")
    kind = _KINDS.get(msg.kind)
    if kind is None:
        raise InvalidEvent(
            "kind", "required: CORRECTION_KIND_NOT_SPAM, _MISSED_SPAM or _JOIN_WAS_FINE"
        )
    return CorrectionRequest(
        chat=convert.chat_key_from_proto(msg.chat, path="chat"),
        kind=kind,
        reporter_id=msg.reporter_id,
        event_id=msg.event_id,
        text=msg.text,
        lang=msg.lang,
        note=msg.note,
    )


def correction_to_proto(c: Correction) -> cpb.Correction:
    out = cpb.Correction(
        id=c.id,
        chat=convert.chat_key_to_proto(c.chat),
        kind=_KINDS_TO[c.kind],
        event_id=c.event_id,
        reporter_id=c.reporter_id,
        ruleset=c.ruleset,
        rule_ids=list(c.rule_ids),
        label=c.label,
        note=c.note,
    )
    out.reported_at.FromDatetime(c.reported_at)
    if c.decided_at is not None:
        out.decided_at.FromDatetime(c.decided_at)
    return out


def rule_to_proto(r: RuleCorrections) -> cpb.RuleCorrections:
    return cpb.RuleCorrections(
        ruleset=r.ruleset,
        rule_id=r.rule_id,
        actions=r.actions,
        false_positives=r.false_positives,
        missed=r.missed,
        false_positive_rate=r.false_positive_rate or 0.0,
    )


def _when(msg: cpb.GetRuleCorrectionsRequest, name: Literal["since", "until"]) -> datetime | None:
    return convert._time(getattr(msg, name), name) if msg.HasField(name) else None


class CorrectionsServicer(cpb_grpc.CorrectionsServicer):
    def __init__(self, port: CorrectionsPort, metrics: Metrics, executor: Executor) -> None:
        self._port = port
        self._metrics = metrics
        self._executor = executor

    async def ReportCorrection(
        self, request: cpb.ReportCorrectionRequest, context: Context
    ) -> cpb.ReportCorrectionResponse:
        try:
            req = request_from_proto(request)
            outcome = await self._run(lambda: self._port.report(req))
            log.info(
                "correction reported",
                extra={
                    "chat": str(req.chat),
                    "kind": req.kind.value,
                    "event_id": req.event_id,
                    "stored": outcome.stored,
                    "rules": list(outcome.correction.rule_ids),
                },
            )
            return cpb.ReportCorrectionResponse(
                correction=correction_to_proto(outcome.correction), stored=outcome.stored
            )
        except Exception as exc:
            await self._fail(context, exc, "ReportCorrection")

    async def GetRuleCorrections(
        self, request: cpb.GetRuleCorrectionsRequest, context: Context
    ) -> cpb.GetRuleCorrectionsResponse:
        try:
            since, until = _when(request, "since"), _when(request, "until")
            rules = await self._run(
                lambda: self._port.rule_report(request.tenant or None, since=since, until=until)
            )
            return cpb.GetRuleCorrectionsResponse(rules=[rule_to_proto(r) for r in rules])
        except Exception as exc:
            await self._fail(context, exc, "GetRuleCorrections")

    async def _run(self, job: Callable[[], _T]) -> _T:
        with self._metrics.inflight.track_inprogress():
            return await asyncio.get_running_loop().run_in_executor(self._executor, job)

    async def _fail(self, context: Context, exc: Exception, rpc: str) -> NoReturn:
        status = status_for(exc, context=rpc)
        self._metrics.observe_error(status.code_name)
        if status.code != grpc.StatusCode.INTERNAL:
            log.info(
                "call failed", extra={"rpc": rpc, "code": status.code_name, "field": status.field}
            )
        await abort(context, status)


class CorrectionsServices:
    """The Corrections service, as the server adds it (``firekeeper.api.area_services``;
    the corrections area's package names it)."""

    names = (SERVICE_NAME,)

    def __init__(self, port: CorrectionsPort) -> None:
        self._port = port

    def add_to(self, server: grpc.aio.Server, metrics: Metrics, executor: Executor) -> None:
        cpb_grpc.add_CorrectionsServicer_to_server(
            CorrectionsServicer(self._port, metrics, executor), server
        )

    async def close(self) -> None:
        return None
