"""``firekeeper bench``'s gRPC part: servers started here (or ``--target``), driven over
loopback by an asyncio client in the bench's process.

Phases, each on fresh event ids of the same workload:
- unary ``Evaluate`` at several concurrencies (calls in flight, closed loop): capacity;
- unary at a fixed offered rate (open loop; latency counted from when each call was
  due, so a server that falls behind shows it): p50/p99 at, e.g., 1,000 requests/s;
- ``EvaluateBatch`` of several sizes, one call in flight.

Each line has the server's CPU time per event (user + system of every server process,
read from ``/proc``, so it does not depend on how loaded the machine is) and the
client's (this process: the client shares the machine's cores with the servers), and
the end the servers' peak RSS. The client sends requests serialized before the phase
starts and does not decode unary answers (only their status), so that its own work
per call is as small as a Python gRPC client's can be. ``--workers N`` starts
``firekeeper serve --workers N`` (N processes on one port), ``--replicas N`` N
separate servers on one store (the client spreads its connections over them).
``--stand-in`` serves a pipeline that does nothing (``python -m
firekeeper.bench_grpc``): what the transport, servicer and batcher cost per event,
next to the real one.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import grpc

from firekeeper.api.convert import event_to_proto, registration_to_proto
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.domain import Decision, Event
from firekeeper.domain.chats import ChatKey, ChatRecord, ChatRegistration
from firekeeper.domain.onboarding import ChatHistory, ImportSummary
from firekeeper.domain.views import ChatView, RulesetSummary
from firekeeper.workload import Workload, p50_p99_ms

CHANNELS_PER_SERVER = 4  # connections per server process: SO_REUSEPORT spreads connections
TIMEOUT = 10.0  # seconds, each call


@dataclass
class Phase:
    name: str
    events: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)  # per call (per event for batches)
    errors: int = 0
    cpu_seconds: float | None = None  # the servers' CPU time during the phase (if known)
    client_cpu_seconds: float = 0.0  # this process's CPU time during the phase

    def line(self) -> str:
        p50, p99 = p50_p99_ms(self.latencies)
        rate = self.events / self.seconds if self.seconds else 0.0
        cpu = (
            f"{self.cpu_seconds / self.events * 1e6:6.0f} µs/event"
            if self.events and self.cpu_seconds is not None
            else "n/a (not started here)"
        )
        client = (
            f"  client CPU {self.client_cpu_seconds / self.events * 1e6:4.0f} µs/event"
            if self.events
            else ""
        )
        errors = f"  {self.errors} errors" if self.errors else ""
        return (
            f"{self.name:<28} {self.events:>7} events  {rate:>9.0f} ev/s  "
            f"p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  server CPU {cpu}{client}{errors}"
        )


# ------------------------------------------------------------------ server processes


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc``; just ``pid`` elsewhere)."""
    out = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return out
    for kid in kids:
        out += _tree(int(kid))
    return out


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _peak_rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass
class Servers:
    procs: list[subprocess.Popen[bytes]]
    targets: list[str]
    workers: int

    def pids(self) -> list[int]:
        return [p for proc in self.procs for p in _tree(proc.pid)]

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(p) for p in self.pids())

    def peak_rss(self) -> str:
        """Each serving process's peak RSS (the ``--workers`` parent only waits)."""
        sizes = [_peak_rss_mb(p) for p in self.pids()]
        if not any(sizes):
            return "peak RSS of the servers: unknown (no /proc)"
        shown = ", ".join(f"{s:.0f}" for s in sizes)
        return f"peak RSS of the server processes: {shown} MB (total {sum(sizes):.0f} MB)"

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_servers(
    store_url: str,
    rulesets: Path,
    *,
    workers: int = 1,
    replicas: int = 1,
    stand_in: bool = False,
) -> Servers:
    """``replicas`` servers (each ``--workers`` processes) on ``store_url``; returns once
    every serving process listens."""
    procs: list[subprocess.Popen[bytes]] = []
    targets = []
    for _ in range(replicas):
        address = f"127.0.0.1:{_free_port()}"
        if stand_in:  # N stand-in processes on one port, as serve --workers N does
            cmd = [sys.executable, "-m", "firekeeper.bench_grpc", "--address", address]
            started = [subprocess.Popen(cmd, stderr=subprocess.PIPE) for _ in range(workers)]
        else:
            cmd = [
                *(sys.executable, "-m", "firekeeper.cli", "serve", "--store", store_url),
                *("--rulesets", str(rulesets), "--address", address),
                *("--metrics-port", "off", "--reload-seconds", "0"),
                *("--log-level", "warning", "--workers", str(workers)),
            ]
            started = [subprocess.Popen(cmd, stderr=subprocess.PIPE)]
        procs += started
        targets.append(address)
        try:  # one after the other: the first creates the store's schema
            for proc in started:
                _wait_listening(proc, address, workers)
        except BaseException:
            Servers(procs, targets, workers).stop()
            raise
    return Servers(procs, targets, workers)


def _listeners(port: int) -> int | None:
    """Sockets listening on TCP ``port`` (one per process with SO_REUSEPORT); None
    without ``/proc``."""
    found = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            return None
        for row in rows:
            cols = row.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:
                found += 1
    return found


def _wait_listening(
    proc: subprocess.Popen[bytes], address: str, processes: int, timeout: float = 120
) -> None:
    """Wait until ``processes`` sockets listen on the address's port; keep draining the
    server's log (a full pipe would block it), showing it if the server fails."""
    assert proc.stderr is not None
    stream = proc.stderr
    tail: list[str] = []

    def read() -> None:
        for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            if "ERROR" in line or "Traceback" in line:
                print(f"  server: {line}", file=sys.stderr)
            tail.append(line)
            del tail[:-20]

    threading.Thread(target=read, daemon=True).start()
    port = int(address.rsplit(":", 1)[1])
    until = time.monotonic() + timeout
    while True:
        listening = _listeners(port)
        if listening is None:  # no /proc: connectable is the best we know
            with grpc.insecure_channel(address) as channel:
                grpc.channel_ready_future(channel).result(timeout=timeout)
            return
        if listening >= processes:
            return
        if proc.poll() is not None or time.monotonic() > until:
            raise RuntimeError("the server did not start:\n" + "\n".join(tail))
        time.sleep(0.1)


# ------------------------------------------------------------------ the client


def _channels(targets: Sequence[str], per: int) -> list[grpc.aio.Channel]:
    # a local subchannel pool: each channel its own connection, so SO_REUSEPORT can
    # hand them to different processes
    options = [("grpc.use_local_subchannel_pool", 1)]
    return [grpc.aio.insecure_channel(t, options=options) for t in targets for _ in range(per)]


def protos_for(work: Workload, run_id: str, phase: str) -> list[pb.Event]:
    out = []
    for ev in work.events:
        msg = event_to_proto(ev)
        msg.envelope.event_id = f"{run_id}-{phase}-{msg.envelope.event_id}"
        msg.envelope.tenant = run_id
        out.append(msg)
    return out


async def register(
    channel: grpc.aio.Channel, chats: Sequence[ChatRegistration], tenant: str
) -> None:
    stub = pb_grpc.GovernanceStub(channel)
    for reg in chats:
        req = registration_to_proto(reg)
        req.tenant = tenant
        await stub.RegisterChat(req, timeout=TIMEOUT)


EVALUATE = "/firekeeper.v1.Governance/Evaluate"
EVALUATE_BATCH = "/firekeeper.v1.Governance/EvaluateBatch"


class Raw:
    """The two evaluation calls of one channel, taking requests already serialized; a
    unary answer is left undecoded (its status says whether it failed), a batch's is
    decoded (its entries carry the errors)."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self.evaluate: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(
            EVALUATE, request_serializer=None, response_deserializer=None
        )
        self.evaluate_batch: grpc.aio.UnaryUnaryMultiCallable[bytes, pb.EvaluateBatchResponse] = (
            channel.unary_unary(
                EVALUATE_BATCH,
                request_serializer=None,
                response_deserializer=pb.EvaluateBatchResponse.FromString,
            )
        )


def unary_requests(protos: Sequence[pb.Event]) -> list[bytes]:
    return [pb.EvaluateRequest(event=msg).SerializeToString() for msg in protos]


def batch_requests(protos: Sequence[pb.Event], size: int) -> list[tuple[int, bytes]]:
    """(events, request bytes) of each ``EvaluateBatch`` call."""
    return [
        (len(chunk), pb.EvaluateBatchRequest(events=chunk).SerializeToString())
        for chunk in (protos[i : i + size] for i in range(0, len(protos), size))
    ]


async def unary_closed(stubs: Sequence[Raw], requests: Sequence[bytes], concurrency: int) -> Phase:
    phase = Phase(f"grpc unary, {concurrency} in flight")
    queue = iter(requests)

    async def worker(stub: Raw) -> None:
        for request in queue:
            s = time.perf_counter()
            try:
                await stub.evaluate(request, timeout=TIMEOUT)
            except grpc.aio.AioRpcError:
                phase.errors += 1
            phase.latencies.append(time.perf_counter() - s)
            phase.events += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(stubs[i % len(stubs)]) for i in range(concurrency)))
    phase.seconds = time.perf_counter() - t0
    return phase


async def unary_open(stubs: Sequence[Raw], requests: Sequence[bytes], rate: float) -> Phase:
    """Calls sent at ``rate`` per second whatever the answers; each call's latency runs
    from when it was due."""
    phase = Phase(f"grpc unary at {rate:.0f}/s offered")
    loop = asyncio.get_running_loop()

    async def one(stub: Raw, request: bytes, due: float) -> None:
        try:
            await stub.evaluate(request, timeout=TIMEOUT)
        except grpc.aio.AioRpcError:
            phase.errors += 1
        phase.latencies.append(loop.time() - due)
        phase.events += 1

    tasks = []
    t0 = loop.time()
    for i, request in enumerate(requests):
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(stubs[i % len(stubs)], request, due)))
    await asyncio.gather(*tasks)
    phase.seconds = loop.time() - t0
    return phase


async def batches(stubs: Sequence[Raw], requests: Sequence[tuple[int, bytes]], size: int) -> Phase:
    phase = Phase(f"grpc batch of {size}")
    t0 = time.perf_counter()
    for n, (count, request) in enumerate(requests):
        s = time.perf_counter()
        try:
            response = await stubs[n % len(stubs)].evaluate_batch(request, timeout=60)
            phase.errors += sum(1 for r in response.results if r.HasField("error"))
        except grpc.aio.AioRpcError:
            phase.errors += count
        per = (time.perf_counter() - s) / count
        phase.latencies += [per] * count
        phase.events += count
    phase.seconds = time.perf_counter() - t0
    return phase


async def drive(
    targets: Sequence[str],
    work: Workload,
    *,
    run_id: str,
    concurrencies: Sequence[int],
    rates: Sequence[float],
    batch_sizes: Sequence[int],
    servers: Servers | None,
    processes: int = 1,
) -> list[Phase]:
    channels = _channels(targets, CHANNELS_PER_SERVER * processes)
    try:
        for channel in channels:
            await asyncio.wait_for(channel.channel_ready(), 30)
        stubs = [Raw(c) for c in channels]
        await register(channels[0], work.chats, run_id)
        plan: list[tuple[str, object]] = [("c", c) for c in concurrencies]
        plan += [("r", r) for r in rates]
        plan += [("b", b) for b in batch_sizes]
        phases = []
        for n, (kind, value) in enumerate(plan):
            protos = protos_for(work, run_id, f"p{n}")
            unary = unary_requests(protos) if kind in ("c", "r") else []
            batched = batch_requests(protos, int(value)) if kind == "b" else []  # type: ignore[call-overload]
            before = servers.cpu_seconds() if servers is not None else 0.0
            client_before = time.process_time()
            if kind == "c":
                phase = await unary_closed(stubs, unary, int(value))  # type: ignore[call-overload]
            elif kind == "r":
                phase = await unary_open(stubs, unary, float(value))  # type: ignore[arg-type]
            else:
                phase = await batches(stubs, batched, int(value))  # type: ignore[call-overload]
            phase.client_cpu_seconds = time.process_time() - client_before
            if servers is not None:
                phase.cpu_seconds = servers.cpu_seconds() - before
            phases.append(phase)
            print(phase.line(), flush=True)
        return phases
    finally:
        for channel in channels:
            await channel.close()


# ------------------------------------------------------------------ the stand-in


class StandIn:
    """A pipeline that decides nothing, at once: what remains is the transport, the
    servicer and the batcher."""

    def evaluate_batch(
        self, events: Sequence[Event], *, explain: bool | Sequence[bool] = False
    ) -> list[Decision | Exception]:
        now = datetime.now(UTC)
        return [Decision(e.envelope.event_id, (), (), "stand-in", "0", now) for e in events]

    def register_chat(self, reg: ChatRegistration) -> ChatView:
        return ChatView(ChatRecord(key=reg.key, registered=True))

    def get_chat(self, key: ChatKey) -> ChatView:
        return ChatView(ChatRecord(key=key))

    def list_rulesets(self) -> list[RulesetSummary]:
        return []

    def import_history(self, key: ChatKey, history: ChatHistory) -> ImportSummary:
        raise NotImplementedError

    def ready(self) -> bool:
        return True


def _serve_stand_in(address: str) -> None:
    from prometheus_client import CollectorRegistry

    from firekeeper.config import Settings
    from firekeeper.logs import configure
    from firekeeper.metrics import Metrics
    from firekeeper.server import serve

    configure("text", "warning")
    settings = Settings(grpc_address=address, metrics_port=None)
    asyncio.run(serve(settings, StandIn(), Metrics(CollectorRegistry())))


if __name__ == "__main__":  # python -m firekeeper.bench_grpc --address HOST:PORT
    args = argparse.ArgumentParser(description=_serve_stand_in.__doc__)
    args.add_argument("--address", required=True)
    _serve_stand_in(args.parse_args().address)
