"""The listening side: TLS credentials that follow their files, and the exposure check.

``server_credentials`` uses grpc's dynamic SSL server credentials: before each
new handshake grpc asks for the certificate configuration, and a new one is
built when the certificate, key or client-CA file changed (by modification time
and size), so certificates rotate without a restart. With a client CA the
server requires and verifies a client certificate (mutual TLS).

``check_exposure`` refuses a non-loopback address unless TLS and a credentials
file are configured, or ``insecure`` says the operator wants it anyway.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import threading
from pathlib import Path
from typing import Any

import grpc

from firekeeper.config import Settings
from firekeeper.errors import FirekeeperError

log = logging.getLogger(__name__)

HOW = (
    "set FIREKEEPER_CREDENTIALS to a credentials file and FIREKEEPER_TLS_CERT / "
    "FIREKEEPER_TLS_KEY to the server's certificate and key (see docs/operations.md, "
    "'Authentication'), or pass --insecure (FIREKEEPER_INSECURE=on) to serve it unauthenticated"
)


class ExposureError(FirekeeperError):
    """A non-loopback address without authentication; the message says how to configure it."""


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name other than localhost: could be anything


def check_exposure(settings: Settings) -> None:
    """Raise ``ExposureError`` for a non-loopback bind without TLS and credentials (unless
    ``insecure``); log a warning when ``insecure`` is what lets it start."""
    host = settings.grpc_host
    if is_loopback(host):
        return
    missing = [
        what
        for what, present in (
            ("credentials (FIREKEEPER_CREDENTIALS)", bool(settings.credentials_file)),
            ("TLS (FIREKEEPER_TLS_CERT, FIREKEEPER_TLS_KEY)", bool(settings.tls_cert)),
        )
        if not present
    ]
    if not missing:
        return
    if settings.insecure:
        log.warning(
            "serving a non-loopback address without %s because --insecure is set: "
            "anyone who can reach it can call every method",
            " and ".join(missing),
            extra={"address": settings.grpc_address},
        )
        return
    raise ExposureError(
        f"refusing to listen on {settings.grpc_address} without {' and '.join(missing)}: "
        f"any client on the network could read and change every tenant's data. {HOW}"
    )


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FirekeeperError(f"cannot read TLS file {path}: {exc}") from None


class _CertFiles:
    def __init__(self, cert: str, key: str, client_ca: str) -> None:
        self._paths = (cert, key, client_ca)
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self.initial = self._config()

    def _stat(self) -> tuple[tuple[int, int], ...]:
        out = []
        for path in self._paths:
            if not path:
                out.append((0, 0))
                continue
            try:
                st = os.stat(path)
            except OSError:
                out.append((-1, -1))
                continue
            out.append((st.st_mtime_ns, st.st_size))
        return tuple(out)

    def _config(self) -> grpc.ServerCertificateConfiguration:
        cert, key, client_ca = self._paths
        return grpc.ssl_server_certificate_configuration(
            [(_read(key), _read(cert))], _read(client_ca) if client_ca else None
        )

    def fetch(self) -> grpc.ServerCertificateConfiguration | None:
        """Called by grpc before a handshake: a new configuration, or None for no change."""
        with self._lock:
            stamp = self._stat()
            if stamp == self._stamp:
                return None
            try:
                config = self._config()
            except Exception as exc:
                log.error(
                    "TLS files changed but cannot be used; the last good ones stay",
                    extra={"error": str(exc)},
                )
                return None
            self._stamp = stamp
            log.info("TLS certificate reloaded")
            return config


def server_credentials(settings: Settings) -> grpc.ServerCredentials | None:
    """The port's TLS credentials, or None for plaintext."""
    if not settings.tls_cert:
        return None
    files = _CertFiles(settings.tls_cert, settings.tls_key, settings.tls_client_ca)
    fetch: Any = files.fetch  # grpc accepts None for "unchanged"; its stubs say otherwise
    return grpc.dynamic_ssl_server_credentials(
        files.initial, fetch, require_client_authentication=bool(settings.tls_client_ca)
    )
