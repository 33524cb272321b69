"""The Python client for adapter authors: domain values in, domain values out.

    from firekeeper.client import FirekeeperClient

    with FirekeeperClient("127.0.0.1:50051", timeout=5.0, retries=3) as client:
        decision = client.evaluate(event)              # firekeeper.domain.Event -> Decision
        results = client.evaluate_batch(events)        # Decision | EventError per event
        view = client.register_chat(registration)      # ChatRegistration -> ChatView
        view = client.get_chat(key)
        rulesets = client.list_rulesets()
        for item in client.stream_actions(Platform.TELEGRAM, "acme"):
            carry_out(item.action)                     # acked once the loop body is done

Against a secured server, pass ``token="..."`` (sent as ``authorization: Bearer``)
and ``credentials=tls_credentials(ca=..., cert=..., key=...)``.

``AsyncFirekeeperClient`` has the same methods as coroutines. Retries
(UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED only, with exponential
backoff and jitter, and never sooner than a RESOURCE_EXHAUSTED answer's
``google.rpc.RetryInfo`` asks) are safe because the service decides an event once per
event id and answers a retry with the stored decision, ``replayed=True``.
``docs/client.md`` has the whole story.

Errors::

    FirekeeperError              (firekeeper.errors)
    └── ClientError              a call failed: .code (grpc.StatusCode), .message,
        │                        .field (INVALID_ARGUMENT: the offending field path),
        │                        .attempts (how many times it was sent), and the
        │                        standard details: .field_violations, .error_info,
        │                        .resource, .violations, .retry_delay, .request_id
        ├── InvalidArgument      one subclass per gRPC code the service answers with
        ├── NotFound
        ├── FailedPrecondition
        ├── Unauthenticated
        ├── PermissionDenied
        ├── ResourceExhausted
        ├── Unavailable
        ├── DeadlineExceeded
        └── Internal

    EventError                   not raised: the entry evaluate_batch returns for an
                                 event the service refused (.index, .event_id, .code,
                                 .message, .field); the other events are still decided

Invalid domain values (an attachment kind the contract does not know) raise
``ValueError`` before anything is sent.
"""

from firekeeper.client._async import AsyncFirekeeperClient
from firekeeper.client._auth import tls_credentials
from firekeeper.client._errors import (
    ClientError,
    DeadlineExceeded,
    ErrorInfo,
    EventError,
    FailedPrecondition,
    FieldViolation,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ResourceInfo,
    Unauthenticated,
    Unavailable,
    Violation,
)
from firekeeper.client._outbox import OutboxItem
from firekeeper.client._retry import RETRYABLE, Backoff
from firekeeper.client._sync import (
    DEFAULT_RETRIES,
    DEFAULT_TARGET,
    DEFAULT_TIMEOUT,
    FirekeeperClient,
)

__all__ = [
    "DEFAULT_RETRIES",
    "DEFAULT_TARGET",
    "DEFAULT_TIMEOUT",
    "RETRYABLE",
    "AsyncFirekeeperClient",
    "Backoff",
    "ClientError",
    "DeadlineExceeded",
    "ErrorInfo",
    "EventError",
    "FailedPrecondition",
    "FieldViolation",
    "FirekeeperClient",
    "Internal",
    "InvalidArgument",
    "NotFound",
    "OutboxItem",
    "PermissionDenied",
    "ResourceExhausted",
    "ResourceInfo",
    "Unauthenticated",
    "Unavailable",
    "Violation",
    "tls_credentials",
]
