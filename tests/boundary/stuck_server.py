"""A server process whose evaluations never return: ``python -m tests.boundary.stuck_server``.

Prints ``port N`` once it listens and ``entered`` when an evaluation starts
(and blocks for ever); test_drain.py sends SIGTERM and times the exit.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import threading

from prometheus_client import CollectorRegistry

from firekeeper import logs
from firekeeper.config import Settings
from firekeeper.domain import Decision, Event
from firekeeper.metrics import Metrics
from firekeeper.server import Bound, serve
from tests.api.support import FakePort


class StuckPort(FakePort):
    def evaluate(self, event: Event) -> Decision:
        print("entered", flush=True)
        threading.Event().wait()  # for ever
        raise AssertionError("unreachable")


def main() -> None:
    logs.configure("text", "info", stream=sys.stderr)
    settings = Settings(
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        workers=2,
        grace_seconds=float(sys.argv[1]),
        drain_seconds=float(sys.argv[2]),
    )

    def ready(bound: Bound) -> None:
        print(f"port {bound.grpc_port}", flush=True)

    asyncio.run(serve(settings, StuckPort(), Metrics(CollectorRegistry()), on_ready=ready))
    logging.getLogger(__name__).info("serve returned")


if __name__ == "__main__":
    main()
