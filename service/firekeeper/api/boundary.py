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
  ``params[hard_cap]``) before any servicer code runs.

Characters refused in every string (``FORBIDDEN``): NUL (U+0000; PostgreSQL
text cannot hold it) and the surrogate code points U+D800..U+DFFF (not
characters: UTF-8 cannot encode a lone one, so no store or log can hold it).
Everything else, control characters included, is stored as given; logs
escape what they print (``firekeeper.logs``).

Field-specific bounds (id lengths, text bytes, integer ranges, timestamps)
stay with the converters (``firekeeper.api.convert`` and friends), which see
each field's meaning.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, TypeAlias

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message

from firekeeper.api.status import ErrorStatus, status_for
from firekeeper.errors import InvalidEvent

log = logging.getLogger(__name__)

MAX_STRING_CHARS = 256 * 1024  # any one string; converters bound most fields far tighter
FORBIDDEN = re.compile("[\x00\ud800-\udfff]")
_REASONS = {"\x00": "holds a NUL character (U+0000), which the store cannot keep"}

Context = grpc.aio.ServicerContext[Any, Any]
Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"  # generic in the stubs only
Observe = Callable[[str], None]


def _check(value: str, path: str) -> None:
    if len(value) > MAX_STRING_CHARS:
        raise InvalidEvent(path, f"too long: {len(value)} characters, at most {MAX_STRING_CHARS}")
    found = FORBIDDEN.search(value)
    if found is not None:
        char = found.group()
        reason = _REASONS.get(char, f"holds a lone surrogate (U+{ord(char):04X}), not a character")
        raise InvalidEvent(path, f"{reason} (at character {found.start()})")


# Fields whose entries are answered one by one (EvaluateBatch: an event's error is only
# its own), so the servicer checks each entry with ``check_strings`` instead.
PER_ENTRY = {"/firekeeper.v1.Governance/EvaluateBatch": frozenset({"events"})}


def check_strings(msg: Message, path: str = "", *, skip: frozenset[str] = frozenset()) -> None:
    """Raise ``InvalidEvent`` for the first string field (depth first) that holds a
    forbidden character or is past ``MAX_STRING_CHARS``. ``skip``: top-level field
    names left out."""
    for field, value in msg.ListFields():
        if field.name in skip:
            continue
        where = f"{path}.{field.name}" if path else field.name
        entry = field.message_type if field.type == FieldDescriptor.TYPE_MESSAGE else None
        if entry is not None and entry.GetOptions().map_entry:
            value_field = entry.fields_by_name["value"]
            for key, item in value.items():
                label = str(key)
                if isinstance(key, str):
                    _check(key, f"{where}[{label[:64]!a}]")
                at = f"{where}[{label[:64]}]"
                if value_field.type == FieldDescriptor.TYPE_MESSAGE:
                    check_strings(item, at)
                elif isinstance(item, str):
                    _check(item, at)
        elif field.is_repeated:
            for i, item in enumerate(value):
                if field.type == FieldDescriptor.TYPE_MESSAGE:
                    check_strings(item, f"{where}[{i}]")
                elif field.type == FieldDescriptor.TYPE_STRING:
                    _check(item, f"{where}[{i}]")
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            check_strings(value, where)
        elif field.type == FieldDescriptor.TYPE_STRING:
            _check(value, where)


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
            )
        ) from None
    if isinstance(request, Message):
        try:
            check_strings(request, skip=PER_ENTRY.get(method, frozenset()))
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
        async for item in result:
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

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        return guard(handler, handler_call_details.method, self._observe)
