"""What the client raises, and what a batch answers for an event it could not decide."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import grpc

from firekeeper.errors import FirekeeperError

FIELD_METADATA_KEY = "firekeeper-field"  # firekeeper.api.status sends the field path here


class ClientError(FirekeeperError):
    """A call failed: the gRPC status the service (or the channel) answered with.

    ``code`` is the ``grpc.StatusCode``; ``message`` the status details; ``field``
    the path of the offending value for INVALID_ARGUMENT (``event.envelope.platform``,
    ``params[hard_cap]``), else empty; ``attempts`` how many times the call was
    sent (more than one when retryable failures were retried).
    """

    def __init__(
        self, code: grpc.StatusCode, message: str, *, field: str = "", attempts: int = 1
    ) -> None:
        self.code = code
        self.message = message
        self.field = field
        self.attempts = attempts
        tail = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"{code.name}: {message}{tail}")

    @property
    def code_name(self) -> str:
        """``INVALID_ARGUMENT``, ``UNAVAILABLE``, ...: the same names ``EventError.code`` uses."""
        return str(self.code.name)

    @property
    def reason(self) -> str:
        """The message without its leading ``"<field>: "``, when it has one."""
        prefix = f"{self.field}: "
        return self.message.removeprefix(prefix) if self.field else self.message


@dataclass(frozen=True, slots=True)
class EventError:
    """One event of a batch the service refused; the other events were still decided.

    ``field`` and the start of ``message`` name the event by its index in the
    whole ``evaluate_batch`` call (``events[203].envelope.chat_id``), not in the
    chunk it was sent in.
    """

    index: int  # position in the events passed to evaluate_batch
    event_id: str
    code: str  # INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION, UNAVAILABLE, INTERNAL
    message: str
    field: str = ""


def error_from_rpc(exc: grpc.RpcError, *, attempts: int = 1) -> ClientError:
    """The ``ClientError`` for a failed call (a sync ``RpcError`` or an ``AioRpcError``)."""
    code = exc.code()
    message = exc.details() or ""
    field = _field_from_metadata(exc.trailing_metadata())
    if not field and code == grpc.StatusCode.INVALID_ARGUMENT:
        field = _field_from_details(message)
    return ClientError(code, message, field=field, attempts=attempts)


def _field_from_metadata(metadata: Iterable[Any] | None) -> str:
    for item in metadata or ():
        key, value = item
        if key == FIELD_METADATA_KEY:
            text = value.decode("ascii", "replace") if isinstance(value, bytes) else str(value)
            return unquote(text)  # the server percent-encodes paths that are not printable ASCII
    return ""


def _field_from_details(message: str) -> str:
    """``"event.envelope.platform: required"`` -> ``event.envelope.platform``."""
    head, sep, _ = message.partition(": ")
    return head if sep and head and not any(c.isspace() for c in head) else ""
