"""``firekeeper serve --workers N``: N server processes on one gRPC port, for more cores.

The parent starts N children, each a whole ``firekeeper serve`` (its own store
connections, rulesets, batcher and evaluation thread) with the same settings and
``--workers 1``; they all listen on the one address (gRPC sets ``SO_REUSEPORT`` on
Linux, and the kernel hands each new connection to one of them). The parent only
waits: it forwards SIGTERM and SIGINT to the children (each drains and stops as a
single server does) and exits with their status; if a child ends on its own, the
parent stops the others and exits with that child's status, so a supervisor
(systemd, Kubernetes) restarts the whole.

What differs between the children:
- the port: with port 0 the parent picks a free one first (a bound, not listening
  ``SO_REUSEPORT`` socket it keeps open), so every child gets the same;
- the scheduler runs in child 0 only (``--no-scheduler`` for the others); child 0 of
  each replica competes for the advisory lock, as a single server does (children
  run only on PostgreSQL: on SQLite more than one process is refused, below);
- metrics: child ``i`` serves on ``metrics_port + i`` (each process its own
  registry; scrape every port, each is an ``instance``); port 0 stays "any free
  port" for each; off stays off;
- the web console, if on, is served by child 0 only.

More than one process needs PostgreSQL: on SQLite the processes would only queue on
its one write lock (a writer at a time, whichever process or thread it is), so
``serve --workers N`` with N > 1 on an SQLite store is refused before anything starts
(:func:`refuse_sqlite`), naming the setting and where it was set.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from types import FrameType

from firekeeper.config import ConfigError, Loaded, Settings, origin

log = logging.getLogger("firekeeper.workers")

POLL_SECONDS = 0.2


def refuse_sqlite(loaded: Loaded) -> None:
    """``ConfigError`` when more than one process is asked for on an SQLite store."""
    settings = loaded.settings
    if settings.workers <= 1 or not settings.store_url.startswith("sqlite"):
        return
    store = origin(loaded, "store_url")
    raise ConfigError(
        "workers",
        settings.workers,
        f"{settings.workers} server processes on an SQLite store (store_url: {store})"
        " would only queue on its one write lock: run one process (workers 1; its"
        " evaluation thread is the one writer), or use PostgreSQL for more processes"
        " (FIREKEEPER_STORE_URL=postgresql+psycopg://...)",
        where=origin(loaded, "workers"),
    )


def child_flags(settings: Settings, index: int, port: int) -> list[str]:
    """The flags that make child ``index`` of ``settings.workers`` (appended last, they
    override the same flags given before them)."""
    flags = ["--workers", "1", "--address", f"{settings.grpc_host}:{port}"]
    if index > 0:
        flags += ["--no-scheduler", "--console-port", "off"]
    if settings.metrics_port:  # 0: any free port for each; None: off for all
        flags += ["--metrics-port", str(settings.metrics_port + index)]
    return flags


def reserve_port(host: str) -> socket.socket:
    """A bound, not listening SO_REUSEPORT socket on a free port of ``host``: holds the
    port for the children (who bind it too) without taking any connection."""
    bare = host.strip("[]")
    family, kind, proto, _, address = socket.getaddrinfo(bare, 0, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def supervise(settings: Settings, argv: Sequence[str]) -> int:
    """Run ``settings.workers`` children of ``firekeeper <argv>`` until they end."""
    if settings.metrics_port and settings.metrics_port + settings.workers - 1 > 65535:
        log.error(
            "metrics ports run past 65535",
            extra={"metrics_port": settings.metrics_port, "workers": settings.workers},
        )
        return 2
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if cpus and settings.workers > cpus:
        log.warning(
            "more worker processes than CPUs (FIREKEEPER_WORKERS counts processes; until"
            " 0.1 it counted threads, now FIREKEEPER_THREADS)",
            extra={"workers": settings.workers, "cpus": cpus},
        )
    held = None
    port = settings.grpc_port
    if port == 0:
        held = reserve_port(settings.grpc_host)
        port = held.getsockname()[1]
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {sig: signal.signal(sig, forward) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for index in range(settings.workers):
            flags = child_flags(settings, index, port)
            command = [sys.executable, "-m", "firekeeper.cli", *argv, *flags]
            children.append(subprocess.Popen(command))
        log.info(
            "workers started",
            extra={
                "workers": settings.workers,
                "grpc_address": f"{settings.grpc_host}:{port}",
                "pids": [c.pid for c in children],
            },
        )
        status = _wait(children, lambda: stopping)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if held is not None:
            held.close()
    return status


def _wait(children: list[subprocess.Popen[bytes]], stopping: Callable[[], bool]) -> int:
    """Wait for every child; the first to end on its own stops the others."""
    first: int | None = None
    while True:
        codes = [c.poll() for c in children]
        if all(code is not None for code in codes):
            break
        ended = [(c, code) for c, code in zip(children, codes, strict=True) if code is not None]
        if ended and first is None and not stopping():
            child = ended[0][0]
            first = _status(child)
            log.error(
                "a worker process ended: stopping the others",
                extra={"pid": child.pid, "status": first},
            )
            for other in children:
                if other.poll() is None:
                    other.terminate()
        time.sleep(POLL_SECONDS)
    if first is not None:
        return first if first != 0 else 1  # ending on its own is a failure of the whole
    return next((_status(c) for c in children if _status(c) != 0), 0)


def _status(child: subprocess.Popen[bytes]) -> int:
    """A child's exit status as a shell shows it (128 + signal for a signal)."""
    code = child.returncode or 0
    return 128 - code if code < 0 else code
