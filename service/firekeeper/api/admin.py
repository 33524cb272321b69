"""The Admin gRPC service: reload the rulesets directory on request.

The reload reads and compiles on a worker thread, never on the event loop, so
evaluations keep being answered while it runs; see ``firekeeper.reload``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

import grpc

from firekeeper.api.gen.firekeeper.v1 import admin_pb2 as apb
from firekeeper.api.gen.firekeeper.v1 import admin_pb2_grpc as apb_grpc
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.status import ErrorStatus, abort, status_for
from firekeeper.errors import InvalidEvent
from firekeeper.reload import ReloadResult
from firekeeper.store.audit import DEFAULT_PAGE, MAX_PAGE, AuditLog, AuditRecord

log = logging.getLogger(__name__)

ADMIN_SERVICE_NAME = apb.DESCRIPTOR.services_by_name["Admin"].full_name  # firekeeper.v1.Admin

Context = grpc.aio.ServicerContext[Any, Any]


class RulesetReloader(Protocol):
    def reload(self) -> ReloadResult:
        """Blocking: read, compile and swap in the directory if it changed and compiles."""
        ...


def reload_response(result: ReloadResult) -> apb.ReloadRulesetsResponse:
    out = apb.ReloadRulesetsResponse(ok=result.ok, changed=result.changed)
    out.loaded.extend(apb.LoadedRuleset(name=n, version=v) for n, v in result.loaded)
    out.errors.extend(
        apb.RulesetDiagnostic(
            file=d.file,
            line=max(d.line, 0),
            column=max(d.column, 0),
            message=d.message,
            path=d.path,
            hint=d.hint,
        )
        for d in result.errors
    )
    return out


_NO_AUDIT = ErrorStatus(grpc.StatusCode.FAILED_PRECONDITION, "this server keeps no audit log")


def _platform(name: str) -> int:
    if not name:
        return 0
    try:
        return int(pb.Platform.Value(f"PLATFORM_{name.upper()}"))
    except ValueError:
        return 0


def audit_entry_to_proto(record: AuditRecord) -> apb.AuditEntry:
    out = apb.AuditEntry(
        id=str(record.id),
        credential=record.credential,
        method=record.method,
        tenant=record.tenant,
        platform=_platform(record.platform),  # type: ignore[arg-type]
        key=record.key,
        outcome=record.outcome,
    )
    out.at.FromDatetime(record.at)
    return out


def audit_page(request: apb.ListAuditLogRequest) -> tuple[int, int | None]:
    """The page size and the ``before`` id of a request; ``InvalidEvent`` when out of range."""
    if not 0 <= request.limit <= MAX_PAGE:
        raise InvalidEvent("limit", f"must be 1..{MAX_PAGE} (0: {DEFAULT_PAGE})")
    limit = request.limit or DEFAULT_PAGE
    token = request.page_token
    if not token:
        return limit, None
    if not (token.isascii() and token.isdigit() and len(token) <= 18):
        raise InvalidEvent("page_token", "not a page token this service gave")
    return limit, int(token)


class AdminServicer(apb_grpc.AdminServicer):
    def __init__(self, reloader: RulesetReloader, audit: AuditLog | None = None) -> None:
        self._reloader = reloader
        self._audit = audit

    async def ListAuditLog(
        self, request: apb.ListAuditLogRequest, context: Context
    ) -> apb.ListAuditLogResponse:
        if self._audit is None:
            await abort(context, _NO_AUDIT)
        try:
            limit, before = audit_page(request)
            audit = self._audit
            records, last = await asyncio.to_thread(
                lambda: audit.list(request.tenant or None, limit=limit, before=before)
            )
        except Exception as exc:
            await abort(context, status_for(exc, context="ListAuditLog"))
        return apb.ListAuditLogResponse(
            entries=[audit_entry_to_proto(r) for r in records],
            next_page_token="" if last is None else str(last),
        )

    async def ReloadRulesets(
        self, request: apb.ReloadRulesetsRequest, context: Context
    ) -> apb.ReloadRulesetsResponse:
        try:
            result = await asyncio.to_thread(self._reloader.reload)
        except Exception as exc:
            await abort(context, status_for(exc, context="ReloadRulesets"))
        log.info(
            "ReloadRulesets",
            extra={"ok": result.ok, "changed": result.changed, "errors": len(result.errors)},
        )
        return reload_response(result)
