"""The one place Firekeeper errors become gRPC status codes and standard error details.

InvalidEvent, InvalidParam    INVALID_ARGUMENT     BadRequest: the field path and the reason
UnknownRuleset                NOT_FOUND            ResourceInfo (firekeeper.v1.Ruleset, the name)
ChatNotFound                  NOT_FOUND            ResourceInfo (firekeeper.v1.Chat, the chat key)
HeldJoinNotFound              NOT_FOUND            ResourceInfo (firekeeper.v1.HeldJoin, chat/user)
AlreadyResolved               FAILED_PRECONDITION  PreconditionFailure (ALREADY_RESOLVED)
StoreUnavailable              UNAVAILABLE          RetryInfo: nothing was written, safe to retry
RulesetError                  FAILED_PRECONDITION  PreconditionFailure: one violation a diagnostic
NotAnAdmin                    PERMISSION_DENIED    a correction from someone not an admin of
                                                   the chat (reason NOT_AN_ADMIN)
DecisionNotFound              NOT_FOUND            ResourceInfo (firekeeper.v1.Decision)
NotCorrectable                FAILED_PRECONDITION  PreconditionFailure (NOT_CORRECTABLE)
anything else                 INTERNAL             a generic message with a reference, also in
                                                   RequestInfo.request_id; the traceback goes
                                                   to the log only

Every refusal also carries an ``ErrorInfo`` (domain ``firekeeper``, a reason such as
``INVALID_FIELD`` or ``CHAT_NOT_FOUND``). The details travel the standard way: a
``google.rpc.Status`` in the ``grpc-status-details-bin`` trailer, with the same code and
message as the call's status, so grpcurl, Go's ``status.FromError`` and Java's
``StatusProto.fromThrowable`` (and Python's ``grpc_status.rpc_status.from_call``) read them.

The ``firekeeper-field`` trailer (the field path alone, percent-encoded when not printable
ASCII) is still sent for INVALID_ARGUMENT, for clients of version 0.1 that read it; it is
deprecated and will be dropped in the release after next. Read ``BadRequest`` instead.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from firekeeper.errors import (
    AlreadyResolved,
    ChatNotFound,
    DecisionNotFound,
    HeldJoinNotFound,
    InvalidEvent,
    InvalidParam,
    NotAnAdmin,
    NotCorrectable,
    RulesetError,
    StoreUnavailable,
    UnknownRuleset,
)

log = logging.getLogger(__name__)

FIELD_METADATA_KEY = "firekeeper-field"  # deprecated: BadRequest carries the field path
STATUS_DETAILS_KEY = "grpc-status-details-bin"
DOMAIN = "firekeeper"  # ErrorInfo.domain of every error this service sends
# The details (what the trailer adds to the message it repeats) are kept well under
# gRPC's default 8 KiB metadata limit: past this, the last list entries (violations) are
# left out, then whole details from the end.
MAX_DETAILS_BYTES = 4096
STORE_RETRY_SECONDS = 0.1  # RetryInfo of UNAVAILABLE: the client's first backoff; it then grows

_REASONS = {
    grpc.StatusCode.INVALID_ARGUMENT: "INVALID_ARGUMENT",
    grpc.StatusCode.NOT_FOUND: "NOT_FOUND",
    grpc.StatusCode.FAILED_PRECONDITION: "FAILED_PRECONDITION",
    grpc.StatusCode.UNAVAILABLE: "UNAVAILABLE",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DEADLINE_EXCEEDED",
    grpc.StatusCode.INTERNAL: "INTERNAL",
}


@dataclass(frozen=True, slots=True)
class ErrorStatus:
    code: grpc.StatusCode
    message: str
    field: str = ""  # field path of the offending value, when there is one
    reason: str = ""  # ErrorInfo.reason (UPPER_SNAKE_CASE); empty: the code's name
    info: Mapping[str, str] = dataclasses.field(default_factory=dict)  # ErrorInfo.metadata
    details: Sequence[Message] = ()  # further google.rpc detail messages, in order

    @property
    def code_name(self) -> str:
        """``INVALID_ARGUMENT``, ``NOT_FOUND``, ...: the metric label and ``EventError.code``."""
        return str(self.code.name)

    def rich_status(self) -> status_pb2.Status:
        """The ``google.rpc.Status`` the details trailer carries (bounded, see
        ``MAX_DETAILS_BYTES``): ErrorInfo, then BadRequest when there is a field,
        then ``details``."""
        messages: list[Message] = [
            error_details_pb2.ErrorInfo(
                reason=self.reason or _REASONS.get(self.code, self.code_name),
                domain=DOMAIN,
                metadata=dict(self.info),
            )
        ]
        if self.field:
            violation = error_details_pb2.BadRequest.FieldViolation(
                field=self.field, description=_reason_of(self.message, self.field)
            )
            messages.append(error_details_pb2.BadRequest(field_violations=[violation]))
        messages.extend(self.details)
        status = status_pb2.Status(code=self.code.value[0], message=self.message)
        for message in messages:
            status.details.add().Pack(message)
        return _bounded(status)

    def trailing_metadata(self) -> tuple[tuple[str, str | bytes], ...]:
        out: list[tuple[str, str | bytes]] = []
        status = self.rich_status()
        if status.details:
            out.append((STATUS_DETAILS_KEY, status.SerializeToString()))
        if self.field:
            # Metadata values must be printable ASCII; percent-encode anything else.
            value = (
                self.field
                if self.field.isascii() and self.field.isprintable()
                else quote(self.field)
            )
            out.append((FIELD_METADATA_KEY, value))
        return tuple(out)


def _reason_of(message: str, field_path: str) -> str:
    return message.removeprefix(f"{field_path}: ")


def _bounded(status: status_pb2.Status) -> status_pb2.Status:
    """``status`` with its details cut to ``MAX_DETAILS_BYTES``: repeated entries are
    dropped from the end (an entry is never cut), then whole details; ErrorInfo, the
    first, stays when anything can."""
    while details_size(status) > MAX_DETAILS_BYTES and status.details:
        last = status.details[-1]
        shrunk = _drop_last_entry(last)
        if shrunk is None:
            del status.details[-1]
        else:
            last.CopyFrom(shrunk)
    return status


def details_size(status: status_pb2.Status) -> int:
    """Bytes the details add to the serialized status."""
    bare = status_pb2.Status(code=status.code, message=status.message)
    return int(status.ByteSize() - bare.ByteSize())


def _drop_last_entry(detail: any_pb2.Any) -> any_pb2.Any | None:
    for kind, name in (
        (error_details_pb2.BadRequest, "field_violations"),
        (error_details_pb2.PreconditionFailure, "violations"),
        (error_details_pb2.QuotaFailure, "violations"),
    ):
        message = kind()
        if detail.Unpack(message):
            entries = getattr(message, name)
            if len(entries) <= 1:
                return None
            del entries[-1]
            out = any_pb2.Any()
            out.Pack(message)
            return out
    return None


def retry_info(seconds: float) -> error_details_pb2.RetryInfo:
    delay = duration_pb2.Duration()
    delay.FromNanoseconds(max(int(seconds * 1e9), 1_000_000))
    return error_details_pb2.RetryInfo(retry_delay=delay)


def resource_info(kind: str, name: str, description: str) -> error_details_pb2.ResourceInfo:
    return error_details_pb2.ResourceInfo(
        resource_type=kind, resource_name=name, description=description
    )


def status_for(exc: BaseException, *, context: str = "") -> ErrorStatus:
    """Map an exception to the status the client sees.

    Unexpected exceptions are logged here with their traceback (``context`` names
    the call, e.g. the RPC and event id) and answered with a generic message.
    """
    not_found = grpc.StatusCode.NOT_FOUND
    if isinstance(exc, InvalidEvent | InvalidParam):
        return ErrorStatus(grpc.StatusCode.INVALID_ARGUMENT, str(exc), exc.field, "INVALID_FIELD")
    if isinstance(exc, UnknownRuleset):
        found = resource_info("firekeeper.v1.Ruleset", exc.name, "not loaded: see ListRulesets")
        return ErrorStatus(not_found, str(exc), reason="UNKNOWN_RULESET", details=(found,))
    if isinstance(exc, ChatNotFound):
        found = resource_info("firekeeper.v1.Chat", exc.key, "register it with RegisterChat")
        return ErrorStatus(not_found, str(exc), reason="CHAT_NOT_FOUND", details=(found,))
    if isinstance(exc, HeldJoinNotFound):
        found = resource_info(
            "firekeeper.v1.HeldJoin", f"{exc.chat}/{exc.user_id}", "not in the review queue"
        )
        return ErrorStatus(not_found, str(exc), reason="HELD_JOIN_NOT_FOUND", details=(found,))
    if isinstance(exc, StoreUnavailable):
        return ErrorStatus(
            grpc.StatusCode.UNAVAILABLE,
            str(exc),
            reason="STORE_UNAVAILABLE",
            details=(retry_info(STORE_RETRY_SECONDS),),
        )
    if isinstance(exc, AlreadyResolved):
        violation = error_details_pb2.PreconditionFailure.Violation(
            type="ALREADY_RESOLVED",
            subject=f"{exc.chat}/{exc.user_id}",
            description=f"the held join was already {exc.status}",
        )
        failure = error_details_pb2.PreconditionFailure(violations=[violation])
        return ErrorStatus(
            grpc.StatusCode.FAILED_PRECONDITION,
            str(exc),
            reason="ALREADY_RESOLVED",
            details=(failure,),
        )
    if isinstance(exc, RulesetError):
        failure = error_details_pb2.PreconditionFailure(
            violations=[
                error_details_pb2.PreconditionFailure.Violation(
                    type="RULESET_INVALID",
                    subject=f"{d.file}:{d.line}:{d.column}" if d.line else d.file,
                    description=f"{d.path}: {d.message}" if d.path else d.message,
                )
                for d in exc.diagnostics
            ]
        )
        return ErrorStatus(
            grpc.StatusCode.FAILED_PRECONDITION,
            str(exc),
            reason="RULESET_INVALID",
            details=(failure,),
        )
    if isinstance(exc, NotAnAdmin):
        return ErrorStatus(
            grpc.StatusCode.PERMISSION_DENIED, str(exc), "reporter_id", "NOT_AN_ADMIN"
        )
    if isinstance(exc, DecisionNotFound):
        found = resource_info(
            "firekeeper.v1.Decision", f"{exc.chat}/{exc.event_id}", "no stored decision"
        )
        return ErrorStatus(not_found, str(exc), "event_id", "DECISION_NOT_FOUND", details=(found,))
    if isinstance(exc, NotCorrectable):
        violation = error_details_pb2.PreconditionFailure.Violation(
            type="NOT_CORRECTABLE", subject="kind", description=str(exc)
        )
        failure = error_details_pb2.PreconditionFailure(violations=[violation])
        return ErrorStatus(
            grpc.StatusCode.FAILED_PRECONDITION,
            str(exc),
            "kind",
            "NOT_CORRECTABLE",
            details=(failure,),
        )
    ref = uuid.uuid4().hex[:12]
    log.error(
        "unexpected error%s (ref %s)",
        f" in {context}" if context else "",
        ref,
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"error_ref": ref},
    )
    return ErrorStatus(
        grpc.StatusCode.INTERNAL,
        f"internal error (ref {ref}); the server log has the details under this reference",
        info={"ref": ref},
        details=(error_details_pb2.RequestInfo(request_id=ref),),
    )


async def abort(context: grpc.aio.ServicerContext[Any, Any], status: ErrorStatus) -> NoReturn:
    """End the call with ``status``."""
    await context.abort(status.code, status.message, status.trailing_metadata())
