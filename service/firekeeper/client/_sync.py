"""The blocking client: one gRPC channel, domain values in and out, safe retries."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Iterable, Iterator, Sequence
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
from firekeeper.domain import Decision, Event, Platform
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.views import ChatView, RulesetSummary

log = logging.getLogger("firekeeper.client")

DEFAULT_TARGET = "127.0.0.1:50051"
DEFAULT_TIMEOUT = 5.0
DEFAULT_RETRIES = 3
DEFAULT_BACKOFF = Backoff()
USER_AGENT = "firekeeper-client-python"

_Req = TypeVar("_Req")
_Resp = TypeVar("_Resp")


def channel_options(options: Sequence[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """The caller's channel options, with the client's user agent unless they set one."""
    merged = list(options)
    if not any(key == "grpc.primary_user_agent" for key, _ in merged):
        merged.append(("grpc.primary_user_agent", USER_AGENT))
    return merged


class FirekeeperClient:
    """A blocking Firekeeper client. Thread-safe; use one per process and target.

    ``timeout`` is the deadline of each attempt in seconds (None: no deadline);
    every method takes ``timeout=`` to override it for one call. A call that
    fails with UNAVAILABLE, DEADLINE_EXCEEDED or RESOURCE_EXHAUSTED is sent
    again up to ``retries`` times, waiting as ``backoff`` says; any other
    failure raises ``ClientError`` at once. ``credentials`` makes a TLS channel;
    ``options`` are gRPC channel options.
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
        self._rng = random.Random()
        opts = channel_options(options)
        self._channel = (
            grpc.secure_channel(target, credentials, opts)
            if credentials is not None
            else grpc.insecure_channel(target, opts)
        )
        self._stub = pb_grpc.GovernanceStub(self._channel)
        self._outbox = lpb_grpc.OutboxStub(self._channel)

    # ------------------------------------------------------------ Governance

    def evaluate(self, event: Event, *, timeout: float | None = None) -> Decision:
        """The decision on ``event``; a retry of the same event id is ``replayed``."""
        response = self._call(self._stub.Evaluate, _calls.evaluate_request(event), timeout)
        return _calls.evaluate_result(response)

    def evaluate_batch(
        self,
        events: Iterable[Event],
        batch_size: int = _calls.DEFAULT_BATCH_SIZE,
        *,
        timeout: float | None = None,
    ) -> list[Decision | EventError]:
        """One result per event, in order: its decision, or the ``EventError`` it got.

        Events go in EvaluateBatch calls of ``batch_size`` (1..500), one after
        the other, each with its own deadline and retries. If a call still
        fails, ``ClientError`` is raised; the batches before it were decided,
        and sending the same events again is safe (they come back replayed).
        """
        _calls.check_batch_size(batch_size)
        out: list[Decision | EventError] = []
        for chunk in _calls.chunks(events, batch_size):
            response = self._call(self._stub.EvaluateBatch, _calls.batch_request(chunk), timeout)
            out.extend(_calls.batch_results(response, chunk, len(out)))
        return out

    def register_chat(
        self, registration: ChatRegistration, *, timeout: float | None = None
    ) -> ChatView:
        """Create or update a chat; the chat as the service now sees it."""
        request = _calls.register_request(registration)
        return _calls.chat_result(self._call(self._stub.RegisterChat, request, timeout))

    def get_chat(self, key: ChatKey, *, timeout: float | None = None) -> ChatView:
        """The chat; ``ClientError`` NOT_FOUND for a chat the service never saw."""
        response = self._call(self._stub.GetChat, _calls.get_chat_request(key), timeout)
        return _calls.chat_result(response)

    def list_rulesets(self, *, timeout: float | None = None) -> list[RulesetSummary]:
        response = self._call(self._stub.ListRulesets, pb.ListRulesetsRequest(), timeout)
        return _calls.rulesets_result(response)

    # ------------------------------------------------------------ Outbox

    def stream_actions(
        self,
        platform: Platform,
        tenant: str,
        *,
        chat_ids: Sequence[str] = (),
        reconnects: int | None = None,
    ) -> Iterator[OutboxItem]:
        """The tenant's outbox on ``platform``, pending items first, then new ones as made.

        Endless: the stream is reopened with backoff when it breaks (at most
        ``reconnects`` times in a row, None: always). An item is acknowledged
        when the loop asks for the next one, so an exception in the loop body
        leaves it to come again; close the iterator (``contextlib.closing``)
        to end the stream. See ``firekeeper.client._outbox``.
        """
        _outbox.check_reconnects(reconnects)
        request = _outbox.stream_request(platform, tenant, chat_ids)
        return self._stream(request, platform, tenant, reconnects)

    def ack(
        self, platform: Platform, tenant: str, ids: Sequence[str], *, timeout: float | None = None
    ) -> int:
        """Mark outbox items done (idempotent); how many were newly acknowledged."""
        request = _outbox.ack_request(platform, tenant, ids)
        return self._call(self._outbox.Ack, request, timeout).acked

    def _stream(
        self,
        request: lpb.StreamActionsRequest,
        platform: Platform,
        tenant: str,
        reconnects: int | None,
    ) -> Iterator[OutboxItem]:
        handled = _outbox.Handled()
        failures = 0
        while True:
            call = self._outbox.StreamActions(request, metadata=self._metadata)
            code: grpc.StatusCode | None = None
            try:
                for msg in call:
                    failures = 0
                    item = _outbox.item_from_proto(msg)
                    if item.id not in handled:
                        yield item  # resumed: the loop body that got the item finished
                        handled.add(item.id)
                    self._ack_quietly(platform, tenant, item.id)
            except grpc.RpcError as exc:
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
            time.sleep(delay)

    def _ack_quietly(self, platform: Platform, tenant: str, item_id: str) -> None:
        try:
            self.ack(platform, tenant, [item_id])
        except ClientError as exc:
            log.warning(
                "outbox ack failed; the item will be delivered again",
                extra={"id": item_id, "code": exc.code_name},
            )

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------ retries

    def _call(
        self,
        rpc: grpc.UnaryUnaryMultiCallable[_Req, _Resp],
        request: _Req,
        timeout: float | None,
    ) -> _Resp:
        deadline = self.timeout if timeout is None else timeout
        attempt = 0
        while True:
            attempt += 1
            try:
                return rpc(request, timeout=deadline, metadata=self._metadata)
            except grpc.RpcError as exc:
                if not should_retry(exc.code(), attempt, self.retries):
                    raise error_from_rpc(exc, attempts=attempt) from exc
                hint = retry_hint(exc.trailing_metadata())
                delay = max(self.backoff.delay(attempt, self._rng), hint or 0.0)
                log.info(
                    "retrying call",
                    extra={"code": exc.code().name, "attempt": attempt, "delay": delay},
                )
                time.sleep(delay)
