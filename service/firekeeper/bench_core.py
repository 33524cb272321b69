"""``firekeeper bench``'s core paths: the bare matcher on the pipeline's own facts, and
the pure core, with the cost of each of its stages.

Both replay what the in-process pipeline evaluated: the workload goes through the
pipeline once (every governance area wired, as the service builds it) while each
call of the pure core (``firekeeper.rules.evaluate.evaluate``) is recorded with its
inputs (the ruleset, the event, the context with what every area loaded, the
parameters) and the full fact it built. Then, with no store in the loop:

- **bare matcher on full facts**: ``CompiledRuleset.match`` on those facts, with
  every area's sections (the matcher's own work: text predicates, projection to
  the fields the ruleset reads, serialising, the engine);
- **pure core**: ``evaluate`` again on the recorded inputs (features, fact,
  match, decision, state changes);
- **stages**: the same, one stage at a time (``firekeeper.rules.evaluate``'s
  stage functions, the ones ``evaluate`` is made of), each over every event
  before the next: their code stays in the processor's caches, so they add up
  to less than the pure core, which interleaves them as the service does.

Each line gives events/s, p50/p99 of one event and the CPU time per event of the
measuring thread (a loaded machine shows much more in the wall time than there).
Each event's text features are computed afresh (``features.of`` forgets what it
kept), as for a message the service has not seen before.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from firekeeper.domain.chats import ChatContext
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event
from firekeeper.pipeline import RulesetHolder
from firekeeper.rules import evaluate as core
from firekeeper.rules import features
from firekeeper.rules.compiler import CompiledRuleset, RulesetIndex
from firekeeper.store import create_store
from firekeeper.wiring import build_pipeline, cached_areas
from firekeeper.workload import Workload, p50_p99_ms


@dataclass(frozen=True, slots=True)
class Recorded:
    """One call of the pure core as the pipeline made it, and the fact it built."""

    ruleset: CompiledRuleset
    event: Event
    ctx: ChatContext
    params: Mapping[str, Any]
    decided_at: datetime
    enrichers: Mapping[str, core.Enricher]
    fact: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CoreFigures:
    name: str
    events: int
    seconds: float  # wall
    cpu_seconds: float  # CPU time of the measuring thread
    latencies: Sequence[float]  # seconds per event

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    @property
    def cpu_us(self) -> float:
        return self.cpu_seconds / self.events * 1e6 if self.events else 0.0

    def line(self) -> str:
        p50, p99 = p50_p99_ms(self.latencies)
        return (
            f"{self.name:<28} {self.events:>7} events  {self.rate:>9.0f} ev/s  "
            f"p50 {p50:7.3f} ms  p99 {p99:7.3f} ms  CPU {self.cpu_us:7.1f} µs/event"
        )


@contextlib.contextmanager
def _recording(into: list[Recorded]) -> Iterator[None]:
    """Record every call of the pure core while the block runs.

    The pipeline imports ``evaluate`` by name, so each ``firekeeper`` module holding
    that function gets the recording one for the block (wherever the pipeline's
    modules call it from)."""
    original = core.evaluate

    def recording(
        ruleset: core.Matching,
        event: Event,
        ctx: ChatContext,
        params: Mapping[str, Any],
        decided_at: datetime,
        enrichers: Mapping[str, core.Enricher] | None = None,
        *,
        budget: core.Budget | None = None,
    ) -> core.Evaluation:
        result = original(ruleset, event, ctx, params, decided_at, enrichers, budget=budget)
        if isinstance(ruleset, CompiledRuleset):
            into.append(
                Recorded(
                    ruleset, event, ctx, params, decided_at, dict(enrichers or {}), result.fact
                )
            )
        return result

    patched = [
        m
        for name, m in list(sys.modules.items())
        if name.startswith("firekeeper.")
        and m is not None
        and m is not core
        and getattr(m, "evaluate", None) is original
    ]
    for module in patched:
        module.evaluate = recording  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in patched:
            module.evaluate = original  # type: ignore[attr-defined]


def record(index: RulesetIndex, work: Workload, store_url: str) -> list[Recorded]:
    """The workload through the in-process pipeline (every area), each pure-core call kept."""
    store = create_store(store_url)
    calls: list[Recorded] = []
    try:
        store.migrate()
        pipeline = build_pipeline(store, RulesetHolder(index), context=cached_areas())
        for reg in work.chats:
            pipeline.register_chat(reg)
        with _recording(calls):
            for ev in work.events:
                pipeline.evaluate(ev)
    finally:
        store.close()
    if not calls:
        raise RuntimeError(
            "the pipeline made no call of firekeeper.rules.evaluate.evaluate that could be "
            "recorded: the core paths have nothing to replay"
        )
    return calls


def _timed(
    name: str, items: Sequence[Any], one: Callable[[Any], object], *, fresh: bool = True
) -> CoreFigures:
    """``one`` on each item. ``fresh``: each event's text features are computed anew
    (``firekeeper.rules.features.of`` forgets the texts it kept), as for a message the
    service has not seen; the workload repeats a few texts, and what the recording run
    kept would otherwise be read back for free. The forgetting is outside the timings."""
    lat = []
    clock = time.perf_counter
    forget = features.of.cache_clear if fresh else _nothing
    cpu = 0.0
    wall = 0.0
    for item in items:
        forget()
        c0, s = time.thread_time(), clock()
        one(item)
        took = clock() - s
        cpu += time.thread_time() - c0
        wall += took
        lat.append(took)
    return CoreFigures(name, len(items), wall, cpu, lat)


def _nothing() -> None:
    return None


def bench_matcher_full(calls: Sequence[Recorded]) -> CoreFigures:
    """``CompiledRuleset.match`` on the full facts the pipeline built."""
    return _timed("bare matcher, full facts", calls, lambda c: c.ruleset.match(c.fact), fresh=False)


def _evaluate(c: Recorded) -> core.Evaluation:
    return core.evaluate(c.ruleset, c.event, c.ctx, c.params, c.decided_at, c.enrichers)


def bench_pure_core(calls: Sequence[Recorded]) -> CoreFigures:
    """``evaluate`` on the recorded inputs: features, fact, match, decision, state changes."""
    return _timed("pure core", calls, _evaluate)


def bench_stages(calls: Sequence[Recorded]) -> list[CoreFigures]:
    """The pure core's stages one at a time, each timed on what the one before made."""

    def start(c: Recorded) -> core.Started:
        return core.start(c.ruleset, c.event, c.ctx, c.params)

    out = [_timed("  fact", calls, start)]
    started = [(c, start(c)) for c in calls]
    out.append(
        _timed(
            "  features", started, lambda cs: core.run_features(cs[1], cs[0].event, cs[0].enrichers)
        )
    )
    matched = [(c, s, c.ruleset.match(s.fact)) for c, s in started]
    out.append(_timed("  match", started, lambda cs: cs[0].ruleset.match(cs[1].fact), fresh=False))

    def decide(csm: tuple[Recorded, core.Started, Any]) -> Decision:
        c, s, m = csm
        return core.decision(c.ruleset, c.event, s, m, c.decided_at)

    out.append(_timed("  decision", matched, decide, fresh=False))
    decided = [(c, s, decide((c, s, m))) for c, s, m in matched]
    out.append(
        _timed("  state changes", decided, lambda csd: core.changes(csd[0].event, csd[1], csd[2]))
    )
    return out


def run(index: RulesetIndex, work: Workload, store_url: str) -> tuple[list[str], CoreFigures]:
    """The core paths' lines for ``firekeeper bench``, and the bare matcher's figures (the
    in-process pipeline is compared with them). ``store_url``: a store of its own for the
    recording run (a fresh SQLite file: the recorded events must not be replays)."""
    calls = record(index, work, store_url)
    matcher = bench_matcher_full(calls)
    pure = bench_pure_core(calls)
    lines = [
        matcher.line(),
        "  (CompiledRuleset.match on the facts the pipeline built, every area's sections in)",
        pure.line(),
        "  (fact, features, match, decision, state changes; no store), by stage:",
        *(f.line() for f in bench_stages(calls)),
        f"  pure core / bare matcher CPU per event: {pure.cpu_us / matcher.cpu_us:.1f}x"
        if matcher.cpu_us
        else "",
    ]
    return [line for line in lines if line], matcher
