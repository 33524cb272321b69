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
from firekeeper.api.status import abort, status_for
from firekeeper.reload import ReloadResult

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


class AdminServicer(apb_grpc.AdminServicer):
    def __init__(self, reloader: RulesetReloader) -> None:
        self._reloader = reloader

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
