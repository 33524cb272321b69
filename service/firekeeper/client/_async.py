"""The asyncio client: the same calls and retries as ``FirekeeperClient``, on grpc.aio."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Iterable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2_grpc as lpb_grpc
from firekeeper.client import _calls, _outbox
from firekeeper.client._auth import retry_hint, token_metadata
from firekeeper.client._errors import ClientError, EventError, error_from_rpc
from firekeeper.client._outbox import OutboxItem
from firekeeper.client._retry import Backoff, check_settings, should_retry
from firekeeper.client._sync import (
    DEFAULT_BACKOFF,
    DEFAULT_RETRIES,
    DEFAULT_TARGET,
    DEFAULT_TIMEOUT,
    channel_options,
)
from firekeeper.domain import Decision, Event, Platform
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.views import ChatView, RulesetSummary

log = logging.getLogger("firekeeper.client")

_Req = TypeVar("_Req")
_Resp = TypeVar("_Resp")


class AsyncFirekeeperClient:
    """An asyncio Firekeeper client; see ``FirekeeperClient`` for the arguments.

    The channel is opened on first use, inside the running event loop, and
    belongs to that loop: use the client from one loop, and ``await close()``
    (or ``async with``) when done.
    """

    def __init__(
        self,
        target: str = DEFAULT_TARGET,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: Backoff = DEFAULT_BACKOFF,
        credentials: grpc.ChannelCredentials | None = None,
        options: Sequence[tuple[str, Any]] = (),
        token: str | None = None,
    ) -> None:
        check_settings(timeout, retries)
        self._metadata = token_metadata(token)
        self.target = target
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self._credentials = credentials
        self._options = channel_options(options)
        self._rng = random.Random()
        self._channel: grpc.aio.Channel | None = None
        self._stub: pb_grpc.GovernanceAsyncStub | None = None
        self._outbox_stub: lpb_grpc.OutboxAsyncStub | None = None

    @property
    def channel(self) -> grpc.aio.Channel:
        """The gRPC channel (opened now if it was not yet)."""
        if self._channel is None:
            self._channel = (
                grpc.aio.secure_channel(self.target, self._credentials, self._options)
                if self._credentials is not None
                else grpc.aio.insecure_channel(self.target, self._options)
            )
        return self._channel

    def _governance(self) -> pb_grpc.GovernanceAsyncStub:
        if self._stub is None:
            self._stub = pb_grpc.GovernanceStub(self.channel)
        return self._stub

    def _outbox(self) -> lpb_grpc.OutboxAsyncStub:
        if self._outbox_stub is None:
            self._outbox_stub = lpb_grpc.OutboxStub(self.channel)
        return self._outbox_stub

    # ------------------------------------------------------------ Governance

    async def evaluate(self, event: Event, *, timeout: float | None = None) -> Decision:
        """The decision on ``event``; a retry of the same event id is ``replayed``."""
        stub = self._governance()
        response = await self._call(stub.Evaluate, _calls.evaluate_request(event), timeout)
        return _calls.evaluate_result(response)

    async def evaluate_batch(
        self,
        events: Iterable[Event],
        batch_size: int = _calls.DEFAULT_BATCH_SIZE,
        *,
        timeout: float | None = None,
    ) -> list[Decision | EventError]:
        """One result per event, in order; see ``FirekeeperClient.evaluate_batch``."""
        _calls.check_batch_size(batch_size)
        stub = self._governance()
        out: list[Decision | EventError] = []
        for chunk in _calls.chunks(events, batch_size):
            response = await self._call(stub.EvaluateBatch, _calls.batch_request(chunk), timeout)
            out.extend(_calls.batch_results(response, chunk, len(out)))
        return out

    async def register_chat(
        self, registration: ChatRegistration, *, timeout: float | None = None
    ) -> ChatView:
        stub = self._governance()
        request = _calls.register_request(registration)
        return _calls.chat_result(await self._call(stub.RegisterChat, request, timeout))

    async def get_chat(self, key: ChatKey, *, timeout: float | None = None) -> ChatView:
        stub = self._governance()
        response = await self._call(stub.GetChat, _calls.get_chat_request(key), timeout)
        return _calls.chat_result(response)

    async def list_rulesets(self, *, timeout: float | None = None) -> list[RulesetSummary]:
        stub = self._governance()
        response = await self._call(stub.ListRulesets, pb.ListRulesetsRequest(), timeout)
        return _calls.rulesets_result(response)

    # ------------------------------------------------------------ Outbox

    def stream_actions(
        self,
        platform: Platform,
        tenant: str,
        *,
        chat_ids: Sequence[str] = (),
        reconnects: int | None = None,
    ) -> AsyncIterator[OutboxItem]:
        """``async for item in client.stream_actions(...)``; see ``FirekeeperClient``.

        End it with ``contextlib.aclosing`` (or ``aclose()``) so the stream is
        cancelled at once rather than when the iterator is collected.
        """
        _outbox.check_reconnects(reconnects)
        request = _outbox.stream_request(platform, tenant, chat_ids)
        return self._stream(request, platform, tenant, reconnects)

    async def ack(
        self, platform: Platform, tenant: str, ids: Sequence[str], *, timeout: float | None = None
    ) -> int:
        """Mark outbox items done (idempotent); how many were newly acknowledged."""
        request = _outbox.ack_request(platform, tenant, ids)
        return (await self._call(self._outbox().Ack, request, timeout)).acked

    async def _stream(
        self,
        request: lpb.StreamActionsRequest,
        platform: Platform,
        tenant: str,
        reconnects: int | None,
    ) -> AsyncIterator[OutboxItem]:
        handled = _outbox.Handled()
        failures = 0
        while True:
            call = self._outbox().StreamActions(request, metadata=self._metadata)
            code: grpc.StatusCode | None = None
            try:
                async for msg in call:
                    failures = 0
                    item = _outbox.item_from_proto(msg)
                    if item.id not in handled:
                        yield item  # resumed: the loop body that got the item finished
                        handled.add(item.id)
                    await self._ack_quietly(platform, tenant, item.id)
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                if code not in _outbox.STREAM_RETRYABLE:
                    raise error_from_rpc(exc) from exc
            finally:
                call.cancel()
            failures += 1
            if reconnects is not None and failures > reconnects:
                raise _outbox.stream_gave_up(code, failures)
            delay = self.backoff.delay(failures, self._rng)
            log.info(
                "outbox stream reconnecting",
                extra={"code": code.name if code else "OK", "attempt": failures, "delay": delay},
            )
            await asyncio.sleep(delay)

    async def _ack_quietly(self, platform: Platform, tenant: str, item_id: str) -> None:
        try:
            await self.ack(platform, tenant, [item_id])
        except ClientError as exc:
            log.warning(
                "outbox ack failed; the item will be delivered again",
                extra={"id": item_id, "code": exc.code_name},
            )

    # ------------------------------------------------------------ lifecycle

    async def close(self) -> None:
        if self._channel is not None:
            channel, self._channel = self._channel, None
            self._stub = self._outbox_stub = None
            await channel.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # ------------------------------------------------------------ retries

    async def _call(
        self,
        rpc: grpc.aio.UnaryUnaryMultiCallable[_Req, _Resp],
        request: _Req,
        timeout: float | None,
    ) -> _Resp:
        deadline = self.timeout if timeout is None else timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                return await rpc(request, timeout=deadline, metadata=self._metadata)
            except grpc.aio.AioRpcError as exc:
                if not should_retry(exc.code(), attempt, self.retries):
                    raise error_from_rpc(exc, attempts=attempt) from exc
                hint = retry_hint(exc.trailing_metadata())
                delay = max(self.backoff.delay(attempt, self._rng), hint or 0.0)
                log.info(
                    "retrying call",
                    extra={"code": exc.code().name, "attempt": attempt, "delay": delay},
                )
                await asyncio.sleep(delay)
