"""What the client raises, and what a batch answers for an event it could not decide.

A failed call raises a ``ClientError`` subclass named after its gRPC code
(``InvalidArgument``, ``NotFound``, ...), carrying the standard error details the
service sent in ``grpc-status-details-bin`` (``google.rpc.BadRequest``,
``ResourceInfo``, ``PreconditionFailure``, ``QuotaFailure``, ``RetryInfo``,
``ErrorInfo``, ``RequestInfo``) as plain values.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from firekeeper.errors import FirekeeperError

# Deprecated: firekeeper.api.status still sends the field path here (servers of 0.1 send
# only this); read when a status has no BadRequest detail.
FIELD_METADATA_KEY = "firekeeper-field"


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """``google.rpc.BadRequest.FieldViolation``: which field of the request, and why."""

    field: str  # events[3].envelope.chat_id, params[hard_cap]
    description: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class ErrorInfo:
    """``google.rpc.ErrorInfo``: a stable, machine-readable reason (``INVALID_FIELD``,
    ``CHAT_NOT_FOUND``, ``RATE_LIMITED``, ...) in ``domain`` (``firekeeper``)."""

    reason: str
    domain: str
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    """``google.rpc.ResourceInfo``: the resource a NOT_FOUND is about."""

    resource_type: str  # firekeeper.v1.Chat, firekeeper.v1.Ruleset, firekeeper.v1.HeldJoin
    resource_name: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Violation:
    """An entry of ``google.rpc.PreconditionFailure`` (``type`` set) or of
    ``google.rpc.QuotaFailure`` (``type`` empty)."""

    type: str
    subject: str
    description: str


class ClientError(FirekeeperError):
    """A call failed: the gRPC status the service (or the channel) answered with.

    ``code`` is the ``grpc.StatusCode``; ``message`` the status details; ``field``
    the path of the offending value for INVALID_ARGUMENT (``event.envelope.platform``,
    ``params[hard_cap]``), else empty; ``attempts`` how many times the call was
    sent (more than one when retryable failures were retried).

    The standard details, when the service sent them: ``field_violations``,
    ``error_info``, ``resource``, ``violations`` (precondition or quota),
    ``retry_delay`` (seconds, RetryInfo), ``request_id`` (RequestInfo: the reference
    an INTERNAL error is logged under), and ``status``, the whole ``google.rpc.Status``.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        *,
        field: str = "",
        attempts: int = 1,
        status: status_pb2.Status | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.attempts = attempts
        self.status = status
        self.field_violations: tuple[FieldViolation, ...] = ()
        self.error_info: ErrorInfo | None = None
        self.resource: ResourceInfo | None = None
        self.violations: tuple[Violation, ...] = ()
        self.retry_delay: float | None = None
        self.request_id = ""
        if status is not None:
            self._read(status)
        self.field = self.field_violations[0].field if self.field_violations else field
        tail = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"{code.name}: {message}{tail}")

    def _read(self, status: status_pb2.Status) -> None:
        violations: list[Violation] = []
        for detail in status.details:
            bad = error_details_pb2.BadRequest()
            info = error_details_pb2.ErrorInfo()
            resource = error_details_pb2.ResourceInfo()
            precondition = error_details_pb2.PreconditionFailure()
            quota = error_details_pb2.QuotaFailure()
            retry = error_details_pb2.RetryInfo()
            request = error_details_pb2.RequestInfo()
            if detail.Unpack(bad):
                self.field_violations += tuple(
                    FieldViolation(v.field, v.description, v.reason) for v in bad.field_violations
                )
            elif detail.Unpack(info):
                self.error_info = ErrorInfo(info.reason, info.domain, dict(info.metadata))
            elif detail.Unpack(resource):
                self.resource = ResourceInfo(
                    resource.resource_type, resource.resource_name, resource.description
                )
            elif detail.Unpack(precondition):
                violations += (
                    Violation(v.type, v.subject, v.description) for v in precondition.violations
                )
            elif detail.Unpack(quota):
                violations += (Violation("", v.subject, v.description) for v in quota.violations)
            elif detail.Unpack(retry):
                self.retry_delay = retry.retry_delay.ToNanoseconds() / 1e9
            elif detail.Unpack(request):
                self.request_id = request.request_id
        self.violations = tuple(violations)

    @property
    def code_name(self) -> str:
        """``INVALID_ARGUMENT``, ``UNAVAILABLE``, ...: the same names ``EventError.code`` uses."""
        return str(self.code.name)

    @property
    def reason(self) -> str:
        """Why the field was refused: its violation's description, else the message
        without its leading ``"<field>: "``."""
        if self.field_violations:
            return self.field_violations[0].description
        prefix = f"{self.field}: "
        return self.message.removeprefix(prefix) if self.field else self.message


class InvalidArgument(ClientError):
    """INVALID_ARGUMENT: the request is malformed; ``field_violations`` say where."""


class NotFound(ClientError):
    """NOT_FOUND: ``resource`` names what is missing (a chat, a ruleset, a held join)."""


class FailedPrecondition(ClientError):
    """FAILED_PRECONDITION: ``violations`` (rulesets that do not compile, a held join
    already decided)."""


class Unauthenticated(ClientError):
    """UNAUTHENTICATED: no credential, or one the server does not know."""


class PermissionDenied(ClientError):
    """PERMISSION_DENIED: the credential lacks the role or the tenant/platform."""


class ResourceExhausted(ClientError):
    """RESOURCE_EXHAUSTED: the credential's rate or concurrency limit; ``retry_delay``."""


class Unavailable(ClientError):
    """UNAVAILABLE: the service or its store cannot be reached; nothing was written."""


class DeadlineExceeded(ClientError):
    """DEADLINE_EXCEEDED: the call's deadline passed; nothing was done."""


class Internal(ClientError):
    """INTERNAL: a server fault; ``request_id`` is the reference in the server log."""


ERRORS: dict[grpc.StatusCode, type[ClientError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.INTERNAL: Internal,
}


def client_error(
    code: grpc.StatusCode,
    message: str,
    *,
    field: str = "",
    attempts: int = 1,
    status: status_pb2.Status | None = None,
) -> ClientError:
    """The ``ClientError`` subclass of ``code`` (``ClientError`` itself for other codes)."""
    cls = ERRORS.get(code, ClientError)
    return cls(code, message, field=field, attempts=attempts, status=status)


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
    status = rich_status(exc)
    field = _field_from_metadata(exc.trailing_metadata())
    if not field and code == grpc.StatusCode.INVALID_ARGUMENT:
        field = _field_from_details(message)
    return client_error(code, message, field=field, attempts=attempts, status=status)


def rich_status(exc: Any) -> status_pb2.Status | None:
    """The ``google.rpc.Status`` of ``grpc-status-details-bin``; None when there is none,
    or when it does not decode or disagrees with the call's code and message."""
    try:
        status: status_pb2.Status | None = rpc_status.from_call(exc)
    except (ValueError, DecodeError):  # DecodeError is a ValueError on some protobufs
        return None
    return status


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
