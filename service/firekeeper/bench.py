"""``firekeeper bench``: how fast the real pipeline is, and how that compares
with the bare matcher on the same compiled rulesets.

Three measurements on one deterministic workload (``firekeeper.workload``):
1. the bare matcher: ``CompiledRuleset.match`` on prebuilt facts (text
   predicates, projection, the durable-rules engine; no store, no decision);
   beside it, the reported-sample test of admins' corrections on each message
   against a tenant holding the most samples a tenant keeps;
2. the in-process pipeline as the service builds it (``firekeeper.wiring``, with
   every governance area): idempotency check, row lock, context and area
   loads, fact, engine, decision, state and area writes and the decision in
   one transaction;
3. over gRPC against a running server (one started here unless ``--target``
   names one): unary Evaluate calls, then EvaluateBatch calls.

And the learned classifier alone (``message.spam_score``): microseconds per
message, scoring the exported weights directly (what the service does) and,
when scikit-learn is installed, through ``predict_proba`` one message a call.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import grpc

from firekeeper.api.convert import event_to_proto, registration_to_proto
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.corrections_area import CorrectionsArea
from firekeeper.domain.chats import ChatContext, ChatRecord
from firekeeper.domain.events import Event, MessagePosted
from firekeeper.pipeline import RulesetHolder
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.rules.corrections import MAX_SAMPLES, ReportedSamples
from firekeeper.rules.facts import build_fact
from firekeeper.rulesets_dir import load
from firekeeper.store import create_store, overhead
from firekeeper.store.counting import StatementCount
from firekeeper.store.seeding import seed
from firekeeper.wiring import build_pipeline
from firekeeper.workload import Workload, build


@dataclass(frozen=True, slots=True)
class Figures:
    name: str
    events: int
    seconds: float
    latencies: Sequence[float]  # seconds per call (per event for per-event paths)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def line(self) -> str:
        lat = sorted(self.latencies)
        p50 = statistics.median(lat) * 1000 if lat else 0.0
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0.0
        return (
            f"{self.name:<28} {self.events:>7} events  {self.rate:>9.0f} ev/s  "
            f"p50 {p50:7.3f} ms  p99 {p99:7.3f} ms"
        )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_matcher(index: RulesetIndex, work: Workload) -> Figures:
    regs = {r.key: r for r in work.chats}
    prepared = []
    for ev in work.events:
        env = ev.envelope
        reg = next(
            r for k, r in regs.items() if k.chat_id == env.chat_id and k.platform == env.platform
        )
        name = reg.kind if reg.kind in index else "base"
        rs = index.get(name)
        chat = ChatRecord(
            key=reg.key,
            kind=reg.kind,
            created_at=reg.created_at,
            member_count=reg.member_count or 0,
            owner_id=reg.owner_id,
        )
        prepared.append((rs, build_fact(ev, ChatContext(chat, {}), rs.resolve_params({}))))
    lat = []
    t0 = time.perf_counter()
    for rs, fact in prepared:
        s = time.perf_counter()
        rs.match(fact)
        lat.append(time.perf_counter() - s)
    return Figures("bare matcher", len(prepared), time.perf_counter() - t0, lat)


def bench_reported(work: Workload) -> tuple[Figures, int]:
    """The reported-sample test (``firekeeper.rules.corrections``) on each message of the
    workload, against a tenant holding ``MAX_SAMPLES`` samples made from those messages
    (so that candidates are found: the costly case). Returns the figures and the size."""
    texts = [e.payload.text for e in work.events if isinstance(e.payload, MessagePosted)]
    made = (
        [
            ("spam" if n % 2 else "ham", f"{texts[n % len(texts)]} variant {n}")
            for n in range(MAX_SAMPLES)
        ]
        if texts
        else []
    )
    samples = ReportedSamples.of(made)
    lat = []
    t0 = time.perf_counter()
    for text in texts:
        s = time.perf_counter()
        samples.match(text)
        lat.append(time.perf_counter() - s)
    name = "reported-sample match"
    return Figures(name, len(texts), time.perf_counter() - t0, lat), len(samples.samples)


def bench_learned(work: Workload, rounds: int = 3) -> str:
    """The learned classifier's line: µs per message, direct and through scikit-learn."""
    from firekeeper.domain.events import MessagePosted
    from firekeeper.learned.artefact import shipped
    from firekeeper.rules import spam_model
    from firekeeper.rules.unmask import unmask

    model = shipped()
    texts = [
        unmask(ev.payload.text).text for ev in work.events if isinstance(ev.payload, MessagePosted)
    ]
    if not texts:
        return "learned classifier: no messages in the workload"
    t0 = time.perf_counter()
    for _ in range(rounds):
        for t in texts:
            spam_model.score(model, t)
    direct = (time.perf_counter() - t0) / (rounds * len(texts)) * 1e6
    line = f"learned classifier µs per message: {direct:.1f} direct (exported weights)"
    from firekeeper.learned import train

    try:
        est = train.to_estimator(model)
    except train.TrainError:  # scikit-learn not installed: pip install 'firekeeper[train]'
        return line + "; scikit-learn not installed"
    settings = train.Settings(model.bits, model.ngram_min, model.ngram_max, model.max_chars)
    few = texts[: min(len(texts), 500)]
    t0 = time.perf_counter()
    for t in few:
        est.predict_proba(train.matrix([t], settings))
    sk = (time.perf_counter() - t0) / len(few) * 1e6
    return line + f", {sk:.1f} scikit-learn predict_proba ({len(texts)} messages)"


@dataclass(frozen=True, slots=True)
class StoreFigures:
    """What the in-process pipeline sent to the database (``firekeeper.store.counting``)."""

    statements: int
    round_trips: int
    events: int

    def line(self) -> str:
        return (
            f"  {self.statements / self.events:.2f} SQL statements and "
            f"{self.round_trips / self.events:.2f} round trips per event"
        )


def bench_pipeline(
    index: RulesetIndex,
    work: Workload,
    store_url: str,
    *,
    batch: int = 1,
    seed_members: int = 0,
    seed_decisions: int = 0,
) -> tuple[Figures, StoreFigures]:
    """The pipeline as the service builds it, one event a call (``batch`` 1) or
    ``evaluate_batch`` on ``batch`` events a call (latencies per event), on a store
    holding ``seed_members`` members and ``seed_decisions`` decisions besides."""
    store = create_store(store_url)
    try:
        store.migrate()
        # the corrections area as the service builds it (its sample cache checks the
        # store every 5 s, not at every message as the tools' does)
        pipeline = build_pipeline(store, RulesetHolder(index), corrections=CorrectionsArea())
        tenant = f"b{time.time_ns()}"  # a run of its own on a reused store
        events = [_as_tenant(e, tenant) for e in work.events]
        for reg in work.chats:
            pipeline.register_chat(replace(reg, key=replace(reg.key, tenant=tenant)))
        seed(store, tenant, work, seed_members, seed_decisions)
        lat = []
        with StatementCount(store.engine) as count:
            t0 = time.perf_counter()
            for i in range(0, len(events), batch):
                chunk = events[i : i + batch]
                s = time.perf_counter()
                pipeline.evaluate_batch(chunk)
                lat.append((time.perf_counter() - s) / len(chunk))
            seconds = time.perf_counter() - t0
        name = "pipeline in-process" if batch == 1 else f"pipeline in-process, batch {batch}"
        return (
            Figures(name, len(events), seconds, lat),
            StoreFigures(count.statements, count.round_trips, len(events)),
        )
    finally:
        store.close()


def _as_tenant(e: Event, tenant: str) -> Event:
    return replace(e, envelope=replace(e.envelope, tenant=tenant))


def bench_grpc(target: str, work: Workload, batch: int, run_id: str) -> list[Figures]:
    def retag(ev: Event) -> pb.Event:
        msg = event_to_proto(ev)
        msg.envelope.event_id = f"{run_id}-{msg.envelope.event_id}"
        msg.envelope.tenant = run_id
        return msg

    protos = [retag(ev) for ev in work.events]
    with grpc.insecure_channel(target) as channel:
        grpc.channel_ready_future(channel).result(timeout=30)
        stub = pb_grpc.GovernanceStub(channel)
        for reg in work.chats:
            req = registration_to_proto(reg)
            req.tenant = run_id
            stub.RegisterChat(req, timeout=10)
        half = len(protos) // 2
        lat = []
        t0 = time.perf_counter()
        for msg in protos[:half]:
            s = time.perf_counter()
            stub.Evaluate(pb.EvaluateRequest(event=msg), timeout=10)
            lat.append(time.perf_counter() - s)
        unary = Figures("grpc unary", half, time.perf_counter() - t0, lat)
        rest = protos[half:]
        lat = []
        t0 = time.perf_counter()
        for i in range(0, len(rest), batch):
            chunk = rest[i : i + batch]
            s = time.perf_counter()
            stub.EvaluateBatch(pb.EvaluateBatchRequest(events=chunk), timeout=60)
            lat.append((time.perf_counter() - s) / len(chunk))
        batched = Figures(f"grpc batch of {batch}", len(rest), time.perf_counter() - t0, lat)
    return [unary, batched]


def _start_server(store_url: str, rulesets: Path) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firekeeper.cli",
            "serve",
            "--store",
            store_url,
            "--rulesets",
            str(rulesets),
            "--address",
            f"127.0.0.1:{port}",
            "--metrics-port",
            "off",
            "--log-level",
            "warning",
        ],
    )
    return proc, f"127.0.0.1:{port}"


def run(
    events: int,
    chats: int,
    rulesets: Path,
    store_url: str | None,
    target: str | None,
    batch: int,
    grpc_enabled: bool,
    members: int = 0,
    decisions: int = 0,
) -> int:
    index = load(rulesets)
    work = build(events, n_chats=chats)
    print(f"workload: {events} events over {chats} chats, rulesets {rulesets}")
    if members or decisions:
        print(f"the batched run's store holds {members} members and {decisions} decisions more")
    with tempfile.TemporaryDirectory() as tmp:
        url = store_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        matcher = bench_matcher(index, work)
        print(matcher.line())
        reported, held = bench_reported(work)
        print(reported.line())
        print(f"  (messages only, against {held} near-duplicate samples of one tenant)")
        print(bench_learned(work))
        inproc, sent = bench_pipeline(index, work, url)
        print(inproc.line())
        print(sent.line())
        print(
            f"  store {url.split('://')[0]}; matcher/pipeline rate ratio "
            f"{matcher.rate / inproc.rate:.1f}x (the cost of everything around the engine)"
        )
        seeded = {"seed_members": members, "seed_decisions": decisions}
        batched, sent = bench_pipeline(index, work, url, batch=batch, **seeded)
        print(batched.line())
        print(sent.line())
        with create_store(url) as store:
            print(overhead.measure(store).line())
        if grpc_enabled:
            proc = None
            if target is None:
                server_url = store_url or f"sqlite:///{Path(tmp) / 'bench-server.db'}"
                proc, target = _start_server(server_url, rulesets)
            try:
                for fig in bench_grpc(target, work, batch, run_id=f"bench{int(time.time())}"):
                    print(fig.line())
            finally:
                if proc is not None:
                    proc.terminate()
                    proc.wait(timeout=30)
    print(f"peak RSS of this process: {_peak_rss_mb():.1f} MB")
    return 0
