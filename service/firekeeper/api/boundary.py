"""The API boundary every request crosses before a servicer sees it.

``BoundaryInterceptor`` takes over decoding from grpc: each method handler is
rewrapped to receive the raw bytes, so that

- a request that does not decode as its message is answered INVALID_ARGUMENT
  and logged once, as one WARNING line with the method and the size but never
  the payload (grpc's own decoding would answer UNKNOWN and log an ERROR
  traceback per request);
- every string field of a decoded request, at any depth (repeated fields and
  map keys and values included), is checked by ``check_strings``: a character
  no store can hold, or a string past ``MAX_STRING_CHARS``, is answered
  INVALID_ARGUMENT with the field path (``events[3].envelope.chat_id``,
  ``params[hard_cap]``) before any servicer code runs; except the events of
  ``Evaluate`` and ``EvaluateBatch`` (``CONVERTED``), whose every string the
  converters check on their one walk, with the same messages and paths.

Characters refused in every string: NUL (U+0000; PostgreSQL
text cannot hold it) and the surrogate code points U+D800..U+DFFF (not
characters: UTF-8 cannot encode a lone one, so no store or log can hold it).
Everything else, control characters included, is stored as given; logs
escape what they print (``firekeeper.logs``).

Field-specific bounds (id lengths, text bytes, integer ranges, timestamps)
stay with the converters (``firekeeper.api.convert`` and friends), which see
each field's meaning.
"""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from firekeeper.api.convert import nul_refusal
from firekeeper.api.status import ErrorStatus, status_for
from firekeeper.errors import InvalidEvent

log = logging.getLogger(__name__)

MAX_STRING_CHARS = 256 * 1024  # any one string; converters bound most fields far tighter

Context = grpc.aio.ServicerContext[Any, Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"  # generic in the stubs only
Observe = Callable[[str], None]


def _reason(value: str) -> str | None:
    """Why ``value`` cannot be kept, or None. C-speed checks first: a NUL is a byte
    search, and only a non-ASCII string can hold a surrogate (which UTF-8 refuses)."""
    if len(value) > MAX_STRING_CHARS:
        return f"too long: {len(value)} characters, at most {MAX_STRING_CHARS}"
    if "\x00" in value:
        return nul_refusal(value)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            code = ord(value[exc.start])
            return (
                f"holds a lone surrogate (U+{code:04X}), not a character (at character {exc.start})"
            )
    return None


# Fields left to the converters: an event's strings all pass through
# ``firekeeper.api.convert`` (``_string``, ``_text``), which refuses a NUL with the same
# message and path, and a decoded message cannot hold a lone surrogate; so the hot
# calls' events are walked once, not twice. A batch's events are answered one by one
# this way too (an event's error is only its own).
CONVERTED = {
    "/firekeeper.v1.Governance/Evaluate": frozenset({"event"}),
    "/firekeeper.v1.Governance/EvaluateBatch": frozenset({"events"}),
}

_STRING, _MESSAGE, _MAP, _OTHER = range(4)
_KINDS: dict[str, int] = {}


def _kind(field: FieldDescriptor) -> int:
    kind = _KINDS.get(field.full_name)
    if kind is None:
        entry = field.message_type if field.type == FieldDescriptor.TYPE_MESSAGE else None
        if entry is not None and entry.GetOptions().map_entry:
            kind = _MAP
        elif entry is not None:
            kind = _MESSAGE
        elif field.type == FieldDescriptor.TYPE_STRING:
            kind = _STRING
        else:
            kind = _OTHER
        _KINDS[field.full_name] = kind
    return kind


def _first_bad(msg: Message, skip: frozenset[str]) -> tuple[str, str] | None:
    """(field path, reason) of the first string that cannot be kept, depth first."""
    for field, value in msg.ListFields():
        kind = _kind(field)
        if kind == _OTHER or field.name in skip:
            continue
        name = field.name
        if kind == _MAP:
            assert field.message_type is not None
            nested = field.message_type.fields_by_name["value"].type == FieldDescriptor.TYPE_MESSAGE
            for key, item in value.items():
                if isinstance(key, str) and (why := _reason(key)) is not None:
                    return f"{name}[{key[:64]!a}]", why
                found = _first_bad(item, frozenset()) if nested else None
                if found is None and isinstance(item, str) and (why := _reason(item)):
                    found = ("", why)
                if found is not None:
                    return _join(f"{name}[{str(key)[:64]}]", found[0]), found[1]
        elif field.is_repeated:
            for i, item in enumerate(value):
                if kind == _MESSAGE:
                    found = _first_bad(item, frozenset())
                    if found is not None:
                        return _join(f"{name}[{i}]", found[0]), found[1]
                elif (why := _reason(item)) is not None:
                    return f"{name}[{i}]", why
        elif kind == _MESSAGE:
            found = _first_bad(value, frozenset())
            if found is not None:
                return _join(name, found[0]), found[1]
        elif (why := _reason(value)) is not None:
            return name, why
    return None


def _join(head: str, tail: str) -> str:
    return f"{head}.{tail}" if tail and not tail.startswith("[") else head + tail


def check_strings(msg: Message, path: str = "", *, skip: frozenset[str] = frozenset()) -> None:
    """Raise ``InvalidEvent`` for the first string field (depth first) that holds a
    forbidden character or is past ``MAX_STRING_CHARS``. ``skip``: top-level field
    names left out."""
    found = _first_bad(msg, skip)
    if found is not None:
        raise InvalidEvent(_join(path, found[0]) if path else found[0], found[1])


class _Refused(Exception):
    def __init__(self, status: ErrorStatus) -> None:
        self.status = status


def _decode(raw: bytes, deserialize: Callable[[bytes], Any] | None, method: str) -> Any:
    if deserialize is None:
        return raw
    try:
        request = deserialize(raw)
    except Exception as exc:  # DecodeError, or a deserializer's own error
        log.warning(
            "undecodable request refused",
            extra={"rpc": method, "bytes": len(raw), "error": type(exc).__name__},
        )
        raise _Refused(
            ErrorStatus(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"the request is not a valid message for {method}: it cannot be decoded",
                reason="UNDECODABLE_REQUEST",
                info={"method": method.lstrip("/")},
            )
        ) from None
    if isinstance(request, Message):
        try:
            check_strings(request, skip=CONVERTED.get(method, frozenset()))
        except InvalidEvent as exc:
            log.info("call refused", extra={"rpc": method, "field": exc.field})
            raise _Refused(status_for(exc)) from None
    return request


async def _refuse(context: Context, refused: _Refused, observe: Observe | None) -> None:
    if observe is not None:
        observe(refused.status.code_name)
    await context.abort(
        refused.status.code, refused.status.message, refused.status.trailing_metadata()
    )


async def _finish(result: Any, context: Context) -> Any:
    """Run a behaviour's result: a coroutine is awaited, an async generator's items
    are written to the call (both styles are valid grpc.aio servicers)."""
    if inspect.isasyncgen(result):
        # closed here, not whenever it is collected: a stream's ``finally`` (giving
        # back outbox leases) must run when the call ends, even when it is cancelled
        async with contextlib.aclosing(result) as items:
            async for item in items:
                await context.write(item)
        return None
    if inspect.isawaitable(result):
        return await result
    return result


def _wrap_unary(
    behavior: Callable[..., Any],
    deserialize: Callable[[bytes], Any] | None,
    method: str,
    observe: Observe | None,
) -> Callable[[bytes, Context], Awaitable[Any]]:
    async def call(raw: bytes, context: Context) -> Any:
        try:
            request = _decode(raw, deserialize, method)
        except _Refused as refused:
            await _refuse(context, refused, observe)
        return await _finish(behavior(request, context), context)

    return call


def _wrap_stream(
    behavior: Callable[..., Any],
    deserialize: Callable[[bytes], Any] | None,
    method: str,
    observe: Observe | None,
) -> Callable[[AsyncIterator[bytes], Context], Awaitable[Any]]:
    async def call(requests: AsyncIterator[bytes], context: Context) -> Any:
        async def decoded() -> AsyncIterator[Any]:
            async for raw in requests:
                try:
                    yield _decode(raw, deserialize, method)
                except _Refused as refused:
                    await _refuse(context, refused, observe)

        return await _finish(behavior(decoded(), context), context)

    return call


def guard(handler: Handler, method: str, observe: Observe | None = None) -> Handler:
    """``handler`` receiving raw bytes and decoding and checking them itself."""
    deserialize = handler.request_deserializer
    serialize = handler.response_serializer
    if handler.unary_unary is not None:
        return grpc.unary_unary_rpc_method_handler(
            _wrap_unary(handler.unary_unary, deserialize, method, observe),
            response_serializer=serialize,
        )
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _wrap_unary(handler.unary_stream, deserialize, method, observe),
            response_serializer=serialize,
        )
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(
            _wrap_stream(handler.stream_unary, deserialize, method, observe),
            response_serializer=serialize,
        )
    if handler.stream_stream is not None:
        return grpc.stream_stream_rpc_method_handler(
            _wrap_stream(handler.stream_stream, deserialize, method, observe),
            response_serializer=serialize,
        )
    return handler


class BoundaryInterceptor(grpc.aio.ServerInterceptor):
    """Put it first in the server's interceptors, so the handler it rewraps is the
    one every other interceptor already saw (they keep receiving decoded messages)."""

    def __init__(self, observe: Observe | None = None) -> None:
        self._observe = observe
        # method -> (the handler grpc gave, its guarded copy): rewrapped once, not per call
        self._guarded: dict[str, tuple[Handler, Handler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        cached = self._guarded.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        guarded = guard(handler, method, self._observe)
        self._guarded[method] = (handler, guarded)
        return guarded
