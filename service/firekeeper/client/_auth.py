"""A client's credentials: a bearer token, TLS files, and the server's retry hint.

    FirekeeperClient(target, token="...", credentials=tls_credentials(ca="ca.pem"))
    FirekeeperClient(target, credentials=tls_credentials(ca="ca.pem", cert="me.pem",
                                                         key="me.key"))   # mutual TLS

The token goes in ``authorization: Bearer <token>`` metadata on every call.
When the service refuses a call with RESOURCE_EXHAUSTED it says how long to
wait in a ``google.rpc.RetryInfo`` detail; ``retry_hint`` reads it, and the
clients wait at least that long before the retry.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import grpc
from google.rpc import error_details_pb2, status_pb2

STATUS_DETAILS_KEY = "grpc-status-details-bin"
MAX_HINT_SECONDS = 60.0  # a server's hint is honoured up to this long


def tls_credentials(
    ca: str | Path | None = None, cert: str | Path | None = None, key: str | Path | None = None
) -> grpc.ChannelCredentials:
    """TLS channel credentials from PEM files: ``ca`` to verify the server (None: the system's
    roots), ``cert`` and ``key`` for mutual TLS. ``ValueError`` names a file it cannot read."""
    if (cert is None) != (key is None):
        raise ValueError("a client certificate needs both cert and key")

    def read(path: str | Path | None) -> bytes | None:
        if path is None:
            return None
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise ValueError(f"cannot read {path}: {exc}") from None

    return grpc.ssl_channel_credentials(read(ca), read(key), read(cert))


def token_metadata(token: str | None) -> tuple[tuple[str, str], ...]:
    if token is None:
        return ()
    if not token.strip() or any(c in token for c in "\r\n"):
        raise ValueError("the token must be a non-empty single line")
    return (("authorization", f"Bearer {token.strip()}"),)


def retry_hint(metadata: Iterable[Any] | None) -> float | None:
    """Seconds the server asked the client to wait (RetryInfo), capped; None when absent."""
    for item in metadata or ():
        key, value = item[0], item[1]
        if key != STATUS_DETAILS_KEY or not isinstance(value, bytes):
            continue
        try:
            status = status_pb2.Status.FromString(value)
        except Exception:
            return None
        for detail in status.details:
            info = error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                seconds = info.retry_delay.seconds + info.retry_delay.nanos / 1e9
                return float(min(max(seconds, 0.0), MAX_HINT_SECONDS))
    return None
