"""Does the console slow the gRPC path? ``python -m firekeeper.console.bench``.

Starts ``firekeeper serve --console-port P`` in a child process on a temporary SQLite
store with the shipped rulesets, fills the decision log with ``--seed`` events of the
benchmark workload (``firekeeper.workload``, over ``--chats`` chats), then times
sequential unary ``Evaluate`` calls (new events of the same workload) in rounds of
``--seconds``, alternating: the console idle, and the console loaded by a client that
fetches its pages back to back (the rules page over the whole decision log, a chat
page, a replay page of one chat). It prints p50/p99 of the gRPC calls in each state
(medians over ``--rounds`` rounds) and how many pages were served meanwhile.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import grpc

from firekeeper.api.convert import event_to_proto, registration_to_proto
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.workload import build

PACED = 2.0  # seconds between pages of the paced load


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class _PageLoad:
    """Fetches console pages back to back on its own thread until stopped."""

    def __init__(self, urls: list[str], pause: float) -> None:
        self.urls = urls
        self.pause = pause  # seconds between pages: 0, back to back; 2, a person reading
        self.served = 0
        self.seconds: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            start = time.perf_counter()
            with urllib.request.urlopen(self.urls[n % len(self.urls)], timeout=60) as r:
                r.read()
            self.seconds.append(time.perf_counter() - start)
            self.served += 1
            n += 1
            self._stop.wait(self.pause)

    def __enter__(self) -> _PageLoad:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(120)


def run(seed: int, chats: int, seconds: float, rounds: int) -> int:
    work = build(seed + 200_000, n_chats=chats)
    grpc_port, console_port = _free_port(), _free_port()
    with tempfile.TemporaryDirectory() as directory:
        store = f"sqlite:///{Path(directory) / 'firekeeper.db'}"
        command = [
            sys.executable, "-m", "firekeeper.cli", "serve", "--store", store,
            "--address", f"127.0.0.1:{grpc_port}", "--metrics-port", "off",
            "--console-port", str(console_port), "--log-level", "warning",
        ]  # fmt: skip
        proc = subprocess.Popen(command)
        try:
            return _measure(work, grpc_port, console_port, seed, seconds, rounds)
        finally:
            proc.terminate()
            proc.wait(30)


def _measure(
    work: object, grpc_port: int, console_port: int, seed: int, seconds: float, rounds: int
) -> int:
    from firekeeper.workload import Workload

    assert isinstance(work, Workload)
    events = iter(event_to_proto(e) for e in work.events)
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        grpc.channel_ready_future(channel).result(timeout=120)
        stub = pb_grpc.GovernanceStub(channel)
        for reg in work.chats:
            stub.RegisterChat(registration_to_proto(reg), timeout=30)
        for _ in range(seed):
            stub.Evaluate(pb.EvaluateRequest(event=next(events)), timeout=30)
        chat = work.chats[0].key
        base = f"http://127.0.0.1:{console_port}"
        where = f"platform={chat.platform.value}&tenant={chat.tenant}&chat={chat.chat_id}"
        urls = [
            f"{base}/rules?tenant={chat.tenant}&bucket=hour&last=24",
            f"{base}/chat?{where}",
            f"{base}/replay?{where}",
        ]

        def calls() -> list[float]:
            out = []
            until = time.perf_counter() + seconds
            while time.perf_counter() < until:
                start = time.perf_counter()
                stub.Evaluate(pb.EvaluateRequest(event=next(events)), timeout=30)
                out.append(time.perf_counter() - start)
            return out

        calls()  # warm-up
        idle: list[list[float]] = []
        # pause between pages -> (the gRPC latencies of each round, every page's seconds)
        loads: dict[float, tuple[list[list[float]], list[float]]] = {
            PACED: ([], []),
            0.0: ([], []),
        }
        for _ in range(rounds):
            idle.append(calls())
            for pause, (runs, pages) in loads.items():
                with _PageLoad(urls, pause) as load:
                    runs.append(calls())
                pages += load.seconds

    def line(label: str, runs: list[list[float]]) -> str:
        p50 = statistics.median(_percentile(r, 0.5) for r in runs) * 1e3
        p99 = statistics.median(_percentile(r, 0.99) for r in runs) * 1e3
        n = sum(len(r) for r in runs)
        return f"{label:<20} {n:6d} calls  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms"

    print(f"decision log: {seed} decisions, {len(work.chats)} chats; {rounds} x {seconds:g} s")
    print(line("console idle", idle))
    for pause, (runs, pages) in loads.items():
        label = f"a page every {pause:g} s" if pause else "pages back to back"
        print(line(label, runs) + f"  ({len(pages)} pages, p50 {_ms(pages, 0.5)} ms each)")
    return 0


def _ms(values: list[float], q: float) -> str:
    return f"{_percentile(values, q) * 1e3:.0f}" if values else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=2000, help="decisions made before timing")
    parser.add_argument("--chats", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0, help="length of one round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    return run(args.seed, args.chats, args.seconds, args.rounds)


if __name__ == "__main__":
    raise SystemExit(main())
