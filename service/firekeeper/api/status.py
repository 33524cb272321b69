"""The one place Firekeeper errors become gRPC status codes.

InvalidEvent, InvalidParam    INVALID_ARGUMENT     details "<field path>: <reason>",
                                                   trailing metadata firekeeper-field
UnknownRuleset, ChatNotFound  NOT_FOUND
HeldJoinNotFound              NOT_FOUND
AlreadyResolved               FAILED_PRECONDITION
StoreUnavailable              UNAVAILABLE          nothing was written: safe to retry
RulesetError                  FAILED_PRECONDITION
NotAnAdmin                    PERMISSION_DENIED    a correction from someone not an admin
DecisionNotFound              NOT_FOUND
NotCorrectable                FAILED_PRECONDITION
anything else                 INTERNAL             a generic message with a reference;
                                                   the traceback goes to the log only
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import quote

import grpc

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

FIELD_METADATA_KEY = "firekeeper-field"


@dataclass(frozen=True, slots=True)
class ErrorStatus:
    code: grpc.StatusCode
    message: str
    field: str = ""  # field path of the offending value, when there is one

    @property
    def code_name(self) -> str:
        """``INVALID_ARGUMENT``, ``NOT_FOUND``, ...: the metric label and ``EventError.code``."""
        return str(self.code.name)

    def trailing_metadata(self) -> tuple[tuple[str, str], ...]:
        if not self.field:
            return ()
        # Metadata values must be printable ASCII; percent-encode anything else.
        value = (
            self.field if self.field.isascii() and self.field.isprintable() else quote(self.field)
        )
        return ((FIELD_METADATA_KEY, value),)


def status_for(exc: BaseException, *, context: str = "") -> ErrorStatus:
    """Map an exception to the status the client sees.

    Unexpected exceptions are logged here with their traceback (``context`` names
    the call, e.g. the RPC and event id) and answered with a generic message.
    """
    if isinstance(exc, InvalidEvent | InvalidParam):
        return ErrorStatus(grpc.StatusCode.INVALID_ARGUMENT, str(exc), exc.field)
    if isinstance(exc, UnknownRuleset | ChatNotFound | HeldJoinNotFound):
        return ErrorStatus(grpc.StatusCode.NOT_FOUND, str(exc))
    if isinstance(exc, StoreUnavailable):
        return ErrorStatus(grpc.StatusCode.UNAVAILABLE, str(exc))
    if isinstance(exc, RulesetError | AlreadyResolved):
        return ErrorStatus(grpc.StatusCode.FAILED_PRECONDITION, str(exc))
    if isinstance(exc, NotAnAdmin):
        return ErrorStatus(grpc.StatusCode.PERMISSION_DENIED, str(exc), "reporter_id")
    if isinstance(exc, DecisionNotFound):
        return ErrorStatus(grpc.StatusCode.NOT_FOUND, str(exc), "event_id")
    if isinstance(exc, NotCorrectable):
        return ErrorStatus(grpc.StatusCode.FAILED_PRECONDITION, str(exc), "kind")
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
    )


async def abort(context: grpc.aio.ServicerContext[Any, Any], status: ErrorStatus) -> NoReturn:
    """End the call with ``status``."""
    await context.abort(status.code, status.message, status.trailing_metadata())
