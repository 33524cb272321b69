"""The Screening gRPC service: review queue, blocklist, chat screening settings.

Like the Governance service, every call to the port runs on the bounded worker
pool (the port blocks on the database), a call whose deadline has passed is
not started, and every error goes through ``firekeeper.api.status``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from typing import Any, NoReturn, Protocol, TypeVar

import grpc

from firekeeper.api import convert
from firekeeper.api import screening_convert as sc
from firekeeper.api.gen.firekeeper.v1 import screening_pb2 as spb
from firekeeper.api.gen.firekeeper.v1 import screening_pb2_grpc as spb_grpc
from firekeeper.api.status import ErrorStatus, abort, status_for
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Platform
from firekeeper.domain.screening import (
    BlockEntry,
    BlockKind,
    BlockPage,
    ChatScreening,
    HeldJoin,
    HeldPage,
    Resolution,
)
from firekeeper.errors import InvalidEvent
from firekeeper.metrics import Metrics

log = logging.getLogger(__name__)

SERVICE_NAME = spb.DESCRIPTOR.services_by_name["Screening"].full_name  # firekeeper.v1.Screening

_T = TypeVar("_T")
Context = grpc.aio.ServicerContext[Any, Any]

_DEADLINE = ErrorStatus(
    grpc.StatusCode.DEADLINE_EXCEEDED,
    "the deadline passed before the call was started; nothing was done, retry with more time",
)


class ScreeningPort(Protocol):
    """What the API needs (``screening_admin.ScreeningAdmin``). Every method may block."""

    def list_held(
        self,
        tenant: str,
        *,
        platform: Platform | None = None,
        chat_id: str = "",
        include_resolved: bool = False,
        limit: int = 0,
        after: int = 0,
    ) -> HeldPage: ...

    def resolve(
        self, key: ChatKey, user_id: str, resolution: Resolution, admin_id: str, note: str = ""
    ) -> tuple[HeldJoin, Decision]: ...

    def add_blocklist(self, tenant: str, entries: Sequence[BlockEntry]) -> int: ...

    def remove_blocklist(self, tenant: str, entries: Sequence[BlockEntry]) -> int: ...

    def list_blocklist(
        self, tenant: str, *, kind: BlockKind | None = None, limit: int = 0, after: int = 0
    ) -> BlockPage: ...

    def get_settings(self, key: ChatKey) -> ChatScreening: ...

    def set_settings(self, wanted: ChatScreening) -> ChatScreening: ...


class _Expired(Exception):
    pass


def _entries(msgs: Sequence[spb.BlocklistEntry]) -> list[BlockEntry]:
    return [sc.entry_from_proto(m, f"entries[{i}]") for i, m in enumerate(msgs)]


class ScreeningServicer(spb_grpc.ScreeningServicer):
    def __init__(self, port: ScreeningPort, metrics: Metrics, executor: Executor) -> None:
        self._port = port
        self._metrics = metrics
        self._executor = executor

    async def ListHeldJoins(
        self, request: spb.ListHeldJoinsRequest, context: Context
    ) -> spb.ListHeldJoinsResponse:
        try:
            platform = sc.platform(request.platform, "platform", required=bool(request.chat_id))
            after = sc.page_after(request.page_token)
            page = await self._run(
                context,
                lambda: self._port.list_held(
                    request.tenant,
                    platform=platform,
                    chat_id=request.chat_id,
                    include_resolved=request.include_resolved,
                    limit=request.limit,
                    after=after,
                ),
            )
            return spb.ListHeldJoinsResponse(
                held=[sc.held_to_proto(h) for h in page.items],
                next_page_token=sc.page_token(page.next_after),
            )
        except Exception as exc:
            await self._fail(context, exc, "ListHeldJoins")

    async def ResolveHeldJoin(
        self, request: spb.ResolveHeldJoinRequest, context: Context
    ) -> spb.ResolveHeldJoinResponse:
        try:
            if not request.HasField("chat"):
                raise InvalidEvent("chat", "required")
            key = convert.chat_key_from_proto(request.chat, path="chat")
            resolution = sc.resolution(request.resolution)
            held, decision = await self._run(
                context,
                lambda: self._port.resolve(
                    key, request.user_id, resolution, request.admin_id, request.note
                ),
            )
            log.info(
                "held join resolved",
                extra={"chat": str(key), "resolution": resolution.value, "rule": held.rule_id},
            )
            for action in decision.actions:
                self._metrics.actions.labels(type=action.type.value, rule=action.rule_id).inc()
            return spb.ResolveHeldJoinResponse(
                held=sc.held_to_proto(held), decision=convert.decision_to_proto(decision)
            )
        except Exception as exc:
            await self._fail(context, exc, "ResolveHeldJoin")

    async def AddBlocklistEntries(
        self, request: spb.AddBlocklistEntriesRequest, context: Context
    ) -> spb.AddBlocklistEntriesResponse:
        try:
            entries = _entries(request.entries)
            added = await self._run(
                context, lambda: self._port.add_blocklist(request.tenant, entries)
            )
            return spb.AddBlocklistEntriesResponse(added=added)
        except Exception as exc:
            await self._fail(context, exc, "AddBlocklistEntries")

    async def RemoveBlocklistEntries(
        self, request: spb.RemoveBlocklistEntriesRequest, context: Context
    ) -> spb.RemoveBlocklistEntriesResponse:
        try:
            entries = _entries(request.entries)
            removed = await self._run(
                context, lambda: self._port.remove_blocklist(request.tenant, entries)
            )
            return spb.RemoveBlocklistEntriesResponse(removed=removed)
        except Exception as exc:
            await self._fail(context, exc, "RemoveBlocklistEntries")

    async def ListBlocklist(
        self, request: spb.ListBlocklistRequest, context: Context
    ) -> spb.ListBlocklistResponse:
        try:
            after = sc.page_after(request.page_token)
            kind = sc.kind_filter(request.kind)
            page = await self._run(
                context,
                lambda: self._port.list_blocklist(
                    request.tenant, kind=kind, limit=request.limit, after=after
                ),
            )
            return spb.ListBlocklistResponse(
                entries=[sc.entry_to_proto(e) for e in page.items],
                next_page_token=sc.page_token(page.next_after),
            )
        except Exception as exc:
            await self._fail(context, exc, "ListBlocklist")

    async def SetChatScreening(
        self, request: spb.ChatScreening, context: Context
    ) -> spb.ChatScreening:
        try:
            wanted = sc.screening_from_proto(request)
            saved = await self._run(context, lambda: self._port.set_settings(wanted))
            return sc.screening_to_proto(saved)
        except Exception as exc:
            await self._fail(context, exc, "SetChatScreening")

    async def GetChatScreening(
        self, request: spb.GetChatScreeningRequest, context: Context
    ) -> spb.ChatScreening:
        try:
            if not request.HasField("chat"):
                raise InvalidEvent("chat", "required")
            key = convert.chat_key_from_proto(request.chat, path="chat")
            found = await self._run(context, lambda: self._port.get_settings(key))
            return sc.screening_to_proto(found)
        except Exception as exc:
            await self._fail(context, exc, "GetChatScreening")

    # ------------------------------------------------------------ helpers

    async def _run(self, context: Context, job: Callable[[], _T]) -> _T:
        remaining: float | None = context.time_remaining()
        deadline = None if remaining is None else time.monotonic() + remaining

        def work() -> _T:
            if deadline is not None and time.monotonic() >= deadline:
                raise _Expired
            return job()

        if deadline is not None and remaining is not None and remaining <= 0:
            raise _Expired
        with self._metrics.inflight.track_inprogress():
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    async def _fail(self, context: Context, exc: Exception, rpc: str) -> NoReturn:
        status = _DEADLINE if isinstance(exc, _Expired) else status_for(exc, context=rpc)
        self._metrics.observe_error(status.code_name)
        if status.code != grpc.StatusCode.INTERNAL:
            log.info(
                "call failed", extra={"rpc": rpc, "code": status.code_name, "field": status.field}
            )
        await abort(context, status)


class ScreeningServices:
    """The Screening service, as the server adds it (``firekeeper.api.area_services``;
    the screening area's package names it)."""

    names = (SERVICE_NAME,)

    def __init__(self, port: ScreeningPort) -> None:
        self._port = port

    def add_to(self, server: grpc.aio.Server, metrics: Metrics, executor: Executor) -> None:
        spb_grpc.add_ScreeningServicer_to_server(
            ScreeningServicer(self._port, metrics, executor), server
        )

    async def close(self) -> None:
        return None
