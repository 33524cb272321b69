"""The gRPC server: Governance, Admin, the areas' services, health and reflection, with
graceful shutdown.

``Server`` is the piece tests drive (``start()`` returns the bound port, so
``127.0.0.1:0`` works); ``serve`` is what the CLI runs: server + metrics
endpoint until SIGTERM/SIGINT.

Health (grpc.health.v1): the overall service ``""`` and ``firekeeper.v1.Governance``
are SERVING while ``port.ready()`` (checked at start and every few seconds),
NOT_SERVING otherwise and from the first moment of shutdown.

Shutdown, on SIGTERM/SIGINT: health goes NOT_SERVING at once while calls are
still accepted for the drain period (``drain_seconds``), so load balancers
watching health move traffic away before anything is refused; then new calls
are refused, calls in flight get the grace period (``grace_seconds``) to
finish, and what is left is cancelled. A worker thread still stuck in an
evaluation after that cannot hold the process: ``serve`` logs how many and
exits the process (status 1) without waiting for them. ``stop_event`` and
``Server.stop`` (embedders, tests) skip the drain unless asked for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import ParamSpec, Protocol, TypeVar

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from firekeeper.api.admin import ADMIN_SERVICE_NAME, AdminServicer, RulesetReloader
from firekeeper.api.area_services import AreaServices
from firekeeper.api.batcher import Batcher
from firekeeper.api.boundary import BoundaryInterceptor
from firekeeper.api.gen.firekeeper.v1 import admin_pb2_grpc as apb_grpc
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.servicer import SERVICE_NAME, GovernancePort, GovernanceServicer
from firekeeper.auth.setup import ContextExecutor, build_interceptor
from firekeeper.auth.transport import check_exposure, server_credentials
from firekeeper.config import Settings
from firekeeper.metrics import Metrics, MetricsServer, serve_metrics
from firekeeper.store.audit import AuditLog

log = logging.getLogger(__name__)

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
HEALTH_SERVICES = ("", SERVICE_NAME)
PROBE_FINISH_SECONDS = 2.0  # at stop: how long a running readiness probe may take to end


_P = ParamSpec("_P")
_T = TypeVar("_T")


class Workers(ContextExecutor):
    """A thread pool that knows how many of its jobs are running right now (and runs each
    in a copy of the submitter's context variables)."""

    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._lock = threading.Lock()
        self._busy = 0

    @property
    def busy(self) -> int:
        with self._lock:
            return self._busy

    def submit(self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs) -> Future[_T]:
        def run() -> _T:
            with self._lock:
                self._busy += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self._busy -= 1

        return super().submit(run)


class Server:
    def __init__(
        self,
        settings: Settings,
        port: GovernancePort,
        metrics: Metrics,
        *,
        readiness_interval: float = 5.0,
        reloader: RulesetReloader | None = None,
        services: Sequence[AreaServices] = (),
        audit: AuditLog | None = None,
    ) -> None:
        self.settings = settings
        self._audit = audit  # the audit log: written by the auth interceptor, read by Admin
        self._reloader = reloader  # serves the Admin service when given
        # the governance areas' admin services (Screening, Corrections, Outbox, Health, ...)
        self._services = tuple(services)
        self._port = port
        self._metrics = metrics
        self._readiness_interval = readiness_interval
        # Worker threads run in the calling task's context, so an audited call's
        # pending entry (firekeeper.store.audit) reaches the transaction it makes.
        # Evaluations do not use them: they go through the batcher's one thread.
        self._executor = Workers(settings.threads, thread_name_prefix="firekeeper-worker")
        self.batcher = Batcher(
            port,
            batch_max=settings.batch_max,
            wait_seconds=settings.batch_wait_ms / 1000,
            observer=metrics,
            threads=settings.evaluation_thread_count,
        )
        # Readiness probes get their own thread so they never queue behind evaluations.
        self._probe = Workers(1, thread_name_prefix="firekeeper-ready")
        self._closing = asyncio.Event()
        self.health = health.aio.HealthServicer()
        self._server: grpc.aio.Server | None = None  # made in start(), inside the running loop
        self._health_server: grpc.aio.Server | None = None  # FIREKEEPER_HEALTH_ADDRESS
        self.health_port = 0
        self._ready: bool | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._stopping: asyncio.Task[None] | None = None
        self.port = 0  # the bound gRPC port, once started

    async def start(self) -> int:
        """Bind, start serving and set health from ``port.ready()``; return the bound port."""
        if self._server is not None:
            raise RuntimeError("Server.start() was already called")
        check_exposure(self.settings)  # a non-loopback bind needs TLS and credentials
        tls = server_credentials(self.settings)
        self._server = server = self._build()
        for service in HEALTH_SERVICES:
            await self.health.set(service, NOT_SERVING)
        try:
            address = self.settings.grpc_address
            self.port = (
                server.add_secure_port(address, tls)
                if tls is not None
                else server.add_insecure_port(address)
            )
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {self.settings.grpc_address}: {exc}") from exc
        if not self.port:
            raise OSError(f"cannot listen on {self.settings.grpc_address}")
        self.batcher.start()
        await server.start()
        if self.settings.health_address:
            await self._start_health_port()
        await self._update_readiness()
        self._watcher = asyncio.create_task(self._watch_readiness(), name="firekeeper-readiness")
        log.info(
            "grpc server started",
            extra={"address": f"{self.settings.grpc_host}:{self.port}", "ready": self._ready},
        )
        return self.port

    async def _start_health_port(self) -> None:
        """A plaintext port with grpc.health only: probes (kubelet's gRPC probe) cannot do
        TLS or send tokens, and health carries no tenant data."""
        self._health_server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._health_server)
        address = self.settings.health_address
        try:
            self.health_port = self._health_server.add_insecure_port(address)
        except RuntimeError as exc:
            raise OSError(f"cannot listen on {address}: {exc}") from exc
        await self._health_server.start()

    def _build(self) -> grpc.aio.Server:
        limit = self.settings.max_message_bytes
        interceptor = build_interceptor(self.settings, self._metrics.registry, self._audit)
        server = grpc.aio.server(
            # the boundary first, so the interceptors after it see decoded requests
            interceptors=[
                BoundaryInterceptor(self._metrics.observe_error),
                *([interceptor] if interceptor is not None else []),
            ],
            options=[
                ("grpc.max_send_message_length", limit),
                ("grpc.max_receive_message_length", limit),
            ],
        )
        servicer = GovernanceServicer(self._port, self._metrics, self._executor, self.batcher)
        pb_grpc.add_GovernanceServicer_to_server(servicer, server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, server)
        names = [SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME]
        if self._reloader is not None:
            admin = AdminServicer(self._reloader, self._audit)
            apb_grpc.add_AdminServicer_to_server(admin, server)
            names.append(ADMIN_SERVICE_NAME)
        for services in self._services:
            services.add_to(server, self._metrics, self._executor)
            names.extend(services.names)
        reflection.enable_server_reflection(tuple(names), server)
        return server

    async def stop(self, grace: float | None = None, *, drain: float = 0.0) -> None:
        """Health NOT_SERVING; keep accepting calls for ``drain`` seconds; then stop
        accepting and let calls in flight finish within ``grace`` seconds (default:
        the settings' grace period). Safe to call more than once."""
        if self._stopping is None:
            seconds = self.settings.grace_seconds if grace is None else grace
            self._stopping = asyncio.create_task(self._stop(seconds, drain))
        await asyncio.shield(self._stopping)

    @property
    def busy_workers(self) -> int:
        """Jobs still running on the worker threads: a batch of evaluations, store calls,
        probes."""
        return self.batcher.busy + self._executor.busy + self._probe.busy

    async def wait_for_termination(self) -> None:
        if self._server is not None:
            await self._server.wait_for_termination()

    async def _stop(self, grace: float, drain: float) -> None:
        log.info("grpc server stopping", extra={"drain_seconds": drain, "grace_seconds": grace})
        await self.health.enter_graceful_shutdown()
        self._metrics.set_ready(False)
        self._closing.set()  # the watcher exits at its next turn even if a cancel is lost
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        if drain > 0:  # NOT_SERVING, still accepting: balancers move traffic away first
            await asyncio.sleep(drain)
            log.info("drain period over: refusing new calls")
        for services in self._services:
            await services.close()  # e.g. outbox streams end and give back what they hold
        if self._server is not None:
            await self._server.stop(grace)
        if self._health_server is not None:
            await self._health_server.stop(0)
        self.batcher.close()
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._probe.shutdown(wait=False, cancel_futures=True)
        # A readiness probe still running would take a connection from a store that is
        # about to close (and leak it): give it a moment to finish, bounded; so too the
        # batch running (a scheduler's tick may still be in one after the calls drained).
        loop = asyncio.get_running_loop()
        until = loop.time() + PROBE_FINISH_SECONDS
        while (self._probe.busy or self.batcher.busy) and loop.time() < until:
            await asyncio.sleep(0.01)
        log.info("grpc server stopped")

    async def _update_readiness(self) -> None:
        # asyncio.wait, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that arrives as the probe finishes, which would keep the watcher alive at stop.
        probe = asyncio.get_running_loop().run_in_executor(self._probe, self._port.ready)
        done, _ = await asyncio.wait({probe}, timeout=max(self._readiness_interval, 1.0))
        ready = False
        if not done:
            probe.cancel()
            log.warning("readiness check timed out")
        elif probe.cancelled():
            pass
        elif probe.exception() is not None:
            log.warning("readiness check failed", exc_info=probe.exception())
        else:
            ready = bool(probe.result())
        if ready == self._ready or self._closing.is_set():
            return
        self._ready = ready
        for service in HEALTH_SERVICES:
            await self.health.set(service, SERVING if ready else NOT_SERVING)
        self._metrics.set_ready(ready)
        log.log(
            logging.INFO if ready else logging.WARNING,
            "serving" if ready else "not ready: health NOT_SERVING",
            extra={"ready": ready},
        )

    async def _watch_readiness(self) -> None:
        while not self._closing.is_set():
            await asyncio.sleep(self._readiness_interval)
            if not self._closing.is_set():
                await self._update_readiness()


class WebConsole(Protocol):
    """The web console (``firekeeper.console.server.ConsoleServer``), served beside gRPC."""

    async def start(self) -> int: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Bound:
    """Where a started service listens (ports as bound: never 0)."""

    grpc_address: str
    grpc_port: int
    metrics_port: int | None
    console_port: int | None = None  # the web console (firekeeper.console), when served


async def serve(
    settings: Settings,
    port: GovernancePort,
    metrics: Metrics,
    *,
    ready_event: asyncio.Event | None = None,
    stop_event: asyncio.Event | None = None,
    on_ready: Callable[[Bound], None] | None = None,
    reloader: RulesetReloader | None = None,
    services: Sequence[AreaServices] = (),
    audit: AuditLog | None = None,
    console: WebConsole | None = None,
    on_batcher: Callable[[Batcher], None] | None = None,
) -> None:
    """Run until SIGTERM/SIGINT (or ``stop_event``), then shut down gracefully.

    ``ready_event`` is set, and ``on_ready`` called with the bound ports, once
    both the gRPC server and the metrics endpoint listen. ``on_batcher`` gets the
    server's batcher once it runs (the scheduler's ticks go through it).
    """
    stop = stop_event if stop_event is not None else asyncio.Event()
    signalled = asyncio.Event()
    loop = asyncio.get_running_loop()
    signals = _install_signal_handlers(loop, stop, signalled)
    server = Server(
        settings,
        port,
        metrics,
        reloader=reloader,
        services=services,
        audit=audit,
    )
    metrics_server: MetricsServer | None = None
    try:
        if settings.metrics_port is not None:
            metrics_server = serve_metrics(
                metrics.registry, settings.metrics_port, settings.metrics_host
            )
        grpc_port = await server.start()
        if on_batcher is not None:
            on_batcher(server.batcher)
        console_port = await console.start() if console is not None else None
        bound = Bound(
            grpc_address=f"{settings.grpc_host}:{grpc_port}",
            grpc_port=grpc_port,
            metrics_port=metrics_server.port if metrics_server else None,
            console_port=console_port,
        )
        log.info(
            "firekeeper listening",
            extra={
                "grpc_address": bound.grpc_address,
                "metrics_port": bound.metrics_port,
                "console_port": bound.console_port,
            },
        )
        if on_ready is not None:
            on_ready(bound)
        if ready_event is not None:
            ready_event.set()
        await stop.wait()
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        drain = settings.drain_seconds if signalled.is_set() else 0.0
        await server.stop(settings.grace_seconds, drain=drain)
        if console is not None:
            await console.stop()
        if metrics_server is not None:
            await asyncio.to_thread(metrics_server.close)
        if signalled.is_set() and server.busy_workers:
            _exit_stuck(server.busy_workers)


def _exit_stuck(busy: int) -> None:
    """End the process now: a thread stuck past the grace period would otherwise keep
    it alive for ever (the interpreter joins every worker thread before it exits)."""
    log.error(
        "worker threads still busy after the grace period: exiting without them",
        extra={"busy_workers": busy},
    )
    logging.shutdown()  # flush the log handlers: os._exit skips it
    sys.stdout.flush()
    os._exit(1)


def _install_signal_handlers(
    loop: asyncio.AbstractEventLoop, stop: asyncio.Event, signalled: asyncio.Event
) -> list[signal.Signals]:
    installed: list[signal.Signals] = []
    for sig in (signal.SIGTERM, signal.SIGINT):

        def handle(sig: signal.Signals = sig) -> None:
            log.info("signal received: shutting down", extra={"signal": sig.name})
            signalled.set()
            stop.set()

        try:
            loop.add_signal_handler(sig, handle)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        installed.append(sig)
    return installed
