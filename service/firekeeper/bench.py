"""``firekeeper bench``: how fast the real pipeline is, and how that compares
with the bare matcher on the same compiled rulesets.

Three measurements on one deterministic workload (``firekeeper.workload``):
1. the core paths (``firekeeper.bench_core``): the bare matcher
   (``CompiledRuleset.match``: text predicates, projection, the durable-rules
   engine) on the full facts the pipeline builds, every area's sections in, and
   the pure core (fact, features, match, decision, state changes) on the
   pipeline's own inputs, stage by stage, with CPU µs per event; beside them,
   the reported-sample test of admins' corrections on each message against a
   tenant holding the most samples a tenant keeps;
2. the in-process pipeline as the service builds it (``firekeeper.wiring``, with
   every governance area): idempotency check, row lock, context and area
   loads, fact, engine, decision, state and area writes and the decision in
   one transaction;
3. over gRPC against running servers (started here unless ``--target`` names
   them): unary Evaluate at several concurrencies and at a fixed offered rate,
   EvaluateBatch of several sizes, with the servers' CPU µs per event and peak
   RSS (``firekeeper.bench_grpc``).

And the learned classifier alone (``message.spam_score``): microseconds per
message, scoring the exported weights directly (what the service does) and,
when scikit-learn is installed, through ``predict_proba`` one message a call.
"""

from __future__ import annotations

import asyncio
import os
import resource
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from firekeeper import bench_core, bench_grpc
from firekeeper.areas.corrections.pure.features import MAX_SAMPLES, ReportedSamples
from firekeeper.domain.events import Event, MessagePosted
from firekeeper.pipeline import RulesetHolder
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.rulesets_dir import load
from firekeeper.store import create_store, overhead
from firekeeper.store.counting import StatementCount
from firekeeper.store.seeding import seed
from firekeeper.wiring import build_pipeline, cached_areas
from firekeeper.workload import Workload, build, p50_p99_ms


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
        p50, p99 = p50_p99_ms(self.latencies)
        return (
            f"{self.name:<28} {self.events:>7} events  {self.rate:>9.0f} ev/s  "
            f"p50 {p50:7.3f} ms  p99 {p99:7.3f} ms"
        )


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_reported(work: Workload) -> tuple[Figures, int]:
    """The reported-sample test (``firekeeper.areas.corrections.pure.features``) on each
    message of the workload, against a tenant holding ``MAX_SAMPLES`` samples made from
    those messages (so that candidates are found: the costly case). Returns the figures
    and the size."""
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
    most_sent: tuple[tuple[int, str], ...] = ()  # (times, SQL) with --statements

    def line(self) -> str:
        top = "".join(f"\n    {k / self.events:6.3f}  {text}" for k, text in self.most_sent)
        return (
            f"  {self.statements / self.events:.2f} SQL statements and "
            f"{self.round_trips / self.events:.2f} round trips per event{top}"
        )


def bench_pipeline(
    index: RulesetIndex,
    work: Workload,
    store_url: str,
    *,
    batch: int = 1,
    seed_members: int = 0,
    seed_decisions: int = 0,
    statements: int = 0,
) -> tuple[Figures, StoreFigures]:
    """The pipeline as the service builds it, one event a call (``batch`` 1) or
    ``evaluate_batch`` on ``batch`` events a call (latencies per event), on a store
    holding ``seed_members`` members and ``seed_decisions`` decisions besides; with
    ``statements``, the figures list that many statements sent most, per event."""
    store = create_store(store_url)
    try:
        store.migrate()
        # the areas keep what they read as the service's do (the corrections sample
        # cache checks the store every 5 s, not at every message as the tools' does)
        pipeline = build_pipeline(store, RulesetHolder(index), context=cached_areas())
        tenant = f"b{time.time_ns()}"  # a run of its own on a reused store
        events = [_as_tenant(e, tenant) for e in work.events]
        for reg in work.chats:
            pipeline.register_chat(replace(reg, key=replace(reg.key, tenant=tenant)))
        seed(store, tenant, work, seed_members, seed_decisions)
        lat = []
        with StatementCount(store.engine, by_text=statements > 0) as count:
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
            StoreFigures(
                count.statements,
                count.round_trips,
                len(events),
                tuple(count.most_sent(statements)),
            ),
        )
    finally:
        store.close()


def _bench_grpc(
    work: Workload,
    rulesets: Path,
    server_url: str,
    target: str | None,
    *,
    concurrency: Sequence[int],
    rates: Sequence[float],
    batch_sizes: Sequence[int],
    workers: int,
    replicas: int,
    stand_in: bool,
) -> None:
    servers = None
    if target is None:
        servers = bench_grpc.start_servers(
            server_url, rulesets, workers=workers, replicas=replicas, stand_in=stand_in
        )
        targets = servers.targets
        what = "a stand-in pipeline that does nothing" if stand_in else server_url.split("://")[0]
        print(
            f"grpc: {replicas} server(s) x {servers.workers} process(es) on {what};"
            f" load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
    else:
        targets = target.split(",")
    try:
        asyncio.run(
            bench_grpc.drive(
                targets,
                work,
                run_id=f"bench{int(time.time())}",
                concurrencies=concurrency,
                rates=rates,
                batch_sizes=batch_sizes,
                servers=servers,
                processes=servers.workers if servers is not None else 1,
            )
        )
        if servers is not None:
            print(servers.peak_rss())
            print(f"load average after: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if servers is not None:
            servers.stop()


def _as_tenant(e: Event, tenant: str) -> Event:
    return replace(e, envelope=replace(e.envelope, tenant=tenant))


def run(
    events: int,
    chats: int,
    rulesets: Path,
    store_url: str | None,
    target: str | None,
    batch: Sequence[int],
    grpc_enabled: bool,
    *,
    concurrency: Sequence[int] = (1, 8, 32),
    rates: Sequence[float] = (1000.0,),
    workers: int = 1,
    replicas: int = 1,
    stand_in: bool = False,
    in_process: bool = True,
    members: int = 0,
    decisions: int = 0,
    statements: int = 0,
) -> int:
    index = load(rulesets)
    work = build(events, n_chats=chats)
    print(f"workload: {events} events over {chats} chats, rulesets {rulesets}")
    if members or decisions:
        print(f"the batched run's store holds {members} members and {decisions} decisions more")
    with tempfile.TemporaryDirectory() as tmp:
        url = store_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        if in_process:
            core_lines, matcher = bench_core.run(index, work, f"sqlite:///{Path(tmp) / 'core.db'}")
            print("\n".join(core_lines))
            reported, held = bench_reported(work)
            print(reported.line())
            print(f"  (messages only, against {held} near-duplicate samples of one tenant)")
            print(bench_learned(work))
            inproc, sent = bench_pipeline(index, work, url, statements=statements)
            print(inproc.line())
            print(sent.line())
            print(
                f"  store {url.split('://')[0]}; pipeline/matcher rate ratio "
                f"{inproc.rate / matcher.rate:.3f} (the matcher on the same full facts)"
            )
            seeded = {
                "seed_members": members,
                "seed_decisions": decisions,
                "statements": statements,
            }
            size = max(batch)
            batched, sent = bench_pipeline(index, work, url, batch=size, **seeded)
            print(batched.line())
            print(sent.line())
            print(
                f"  pipeline batch of {size}/matcher rate ratio {batched.rate / matcher.rate:.3f}"
            )
            with create_store(url) as store:
                print(overhead.measure(store).line())
        if grpc_enabled:
            _bench_grpc(
                work,
                rulesets,
                store_url or f"sqlite:///{Path(tmp) / 'bench-server.db'}",
                target,
                concurrency=concurrency,
                rates=rates,
                batch_sizes=batch,
                workers=workers,
                replicas=replicas,
                stand_in=stand_in,
            )
    print(f"peak RSS of this process: {_peak_rss_mb():.1f} MB")
    return 0
