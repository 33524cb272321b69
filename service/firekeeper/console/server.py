"""Serving the console: off unless ``FIREKEEPER_CONSOLE_PORT`` (``--console-port``) is set,
on ``FIREKEEPER_CONSOLE_HOST`` (127.0.0.1) of the process's own event loop, beside gRPC.

Exposure follows the gRPC port's rule: a loopback host may serve without credentials;
any other host needs the credentials file and TLS (the gRPC server's certificate and
key), or ``--insecure``, which logs a WARNING.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web

from firekeeper.auth.credentials import CredentialsFile
from firekeeper.auth.transport import HOW, ExposureError, is_loopback
from firekeeper.config import Settings
from firekeeper.console.app import Console
from firekeeper.console.data import ConsoleData, HealthReader
from firekeeper.console.session import Sessions
from firekeeper.console.stats import FalsePositives
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.store.repository import Store

log = logging.getLogger(__name__)


def check_exposure(settings: Settings) -> None:
    """``ExposureError`` for a non-loopback console without credentials and TLS (unless
    ``insecure``, which is logged as a warning)."""
    host = settings.console_host
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
            "serving the console on a non-loopback host without %s because --insecure is set: "
            "anyone who can reach it can read every tenant's decisions",
            " and ".join(missing),
            extra={"host": host},
        )
        return
    raise ExposureError(
        f"refusing to serve the console on {host} without {' and '.join(missing)}: "
        f"anyone on the network could read every tenant's decisions. {HOW}"
    )


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    """The gRPC server's certificate and key, for HTTPS; None without them."""
    if not settings.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(settings.tls_cert, settings.tls_key)
    except (OSError, ssl.SSLError) as exc:
        raise ExposureError(f"the console cannot load the TLS certificate and key: {exc}") from exc
    return context


class ConsoleServer:
    """The console's HTTP server on the running event loop; ``start`` returns the port."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        health: HealthReader,
        rulesets: Callable[[], RulesetIndex],
        *,
        false_positives: FalsePositives | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if settings.console_port is None:
            raise ValueError("the console is off (FIREKEEPER_CONSOLE_PORT is not set)")
        self.settings = settings
        data = ConsoleData(store, health, rulesets, false_positives=false_positives, clock=clock)
        credentials = None
        if settings.credentials_file:
            file = CredentialsFile(
                Path(settings.credentials_file), check_seconds=settings.credentials_check_seconds
            )
            credentials = file.current
        self._tls = tls_context(settings)
        self.console = Console(data, Sessions(credentials), secure_cookie=self._tls is not None)
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> int:
        check_exposure(self.settings)
        runner = web.AppRunner(self.console.app(), access_log=None, handle_signals=False)
        await runner.setup()
        self._runner = runner
        host, port = self.settings.console_host, self.settings.console_port
        site = web.TCPSite(runner, host.strip("[]"), port, ssl_context=self._tls)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise OSError(f"the console cannot listen on {host}:{port}: {exc}") from exc
        self.port = int(runner.addresses[0][1])
        scheme = "https" if self._tls else "http"
        log.info("console listening", extra={"url": f"{scheme}://{host}:{self.port}/"})
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
