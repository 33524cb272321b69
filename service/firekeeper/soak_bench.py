"""``firekeeper bench --soak N --chats C``: does the process's memory stay flat over a
long run? (issue #10: "RSS flat (± 10 %) over 1M events across 100k chats").

The production pipeline (``firekeeper.wiring.build_pipeline``, every governance area,
the corrections area with the service's sample cache) on one store, fed the bench's
event mix (``firekeeper.workload.stream``, made one event at a time so the workload
itself holds no memory that grows) in batches (``Pipeline.evaluate_batch``). Every
``N / samples`` events it samples the resident set (``/proc/self/statm``, the current
RSS, not the peak), the store's size on disk (SQLite: the file and its WAL;
PostgreSQL: ``pg_database_size``) and the sizes of the process's bounded caches, and
prints one line. The verdict compares the RSS after the warm-up (the first sample at
or past ``warmup`` of the events) with the RSS at the end: flat when within ± 10 %.
"""

from __future__ import annotations

import gc
import os
import random
import resource
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from firekeeper.areas.corrections.area import CorrectionsArea
from firekeeper.areas.lifecycle.pure import topic
from firekeeper.domain.events import Event
from firekeeper.pipeline import RulesetHolder
from firekeeper.rules import features, templates, textmatch
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.rulesets_dir import load
from firekeeper.store import Store, create_store
from firekeeper.wiring import area_set, build_pipeline, cached_areas
from firekeeper.workload import registrations, stream

# within this share of the RSS after warm-up, the run's RSS is called flat
TOLERANCE = 0.10
SEED = 7


@dataclass(frozen=True, slots=True)
class Sample:
    events: int  # evaluated so far
    seconds: float  # since the first event
    rss_bytes: int
    store_bytes: int
    rate: float  # events per second since the previous sample
    caches: tuple[tuple[str, int], ...]  # (name, entries held)


def rss_bytes() -> int:
    """The process's current resident set (``/proc/self/statm``); where there is no
    /proc, the peak (``getrusage``), which can only grow."""
    try:
        with open("/proc/self/statm") as f:
            resident = int(f.read().split()[1])
        return resident * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def store_bytes(store: Store) -> int:
    """The store's size: a SQLite file with its WAL and shared memory, or the PostgreSQL
    database's (``pg_database_size``)."""
    url = store.engine.url
    if url.get_backend_name() == "sqlite":
        path = url.database or ""
        return sum(
            os.path.getsize(p)
            for p in (path, f"{path}-wal", f"{path}-shm", f"{path}-journal")
            if p and os.path.exists(p)
        )
    with store.engine.connect() as conn:
        size = conn.execute(sa.text("SELECT pg_database_size(current_database())"))
        return int(size.scalar_one())


def _lru(fn: Any) -> Callable[[], int]:
    return lambda: int(fn.cache_info().currsize)


def caches(corrections: CorrectionsArea) -> dict[str, Callable[[], int]]:
    """The in-memory caches an evaluation fills, by name, each with its size now; every
    one is bounded (the bounds are listed in ``docs/operations.md``)."""
    return {
        "text features": _lru(features.of),
        "RE2 patterns": _lru(textmatch.compile_pattern),
        "templates": _lru(templates._parsed),
        "topic models": _lru(topic._compile),
        "samples tenants": corrections.cache.size,
    }


def run(
    events: int,
    chats: int,
    rulesets: Path,
    store_url: str | None,
    *,
    batch: int = 100,
    samples: int = 20,
    warmup: float = 0.10,
    out: Callable[[str], None] = print,
) -> int:
    """Run the soak and print its table and verdict; 0 when the RSS stayed flat, 1 when
    not (2 for arguments that cannot make a soak)."""
    if events < 1 or chats < 1 or batch < 1 or samples < 1:
        out("firekeeper bench --soak: events, --chats, the batch size and samples must be >= 1")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        url = store_url or f"sqlite:///{Path(tmp) / 'soak.db'}"
        store = create_store(url)
        try:
            store.migrate()
            table = soak(
                store, load(rulesets), events, chats, batch=batch, samples=samples, out=out
            )
        finally:
            store.close()
    out(verdict(table, warmup))
    return 0 if flat(table, warmup) else 1


def soak(
    store: Store,
    index: RulesetIndex,
    events: int,
    chats: int,
    *,
    batch: int = 100,
    samples: int = 20,
    out: Callable[[str], None] = print,
) -> list[Sample]:
    """Evaluate ``events`` events over ``chats`` chats on ``store`` in batches of
    ``batch``, printing and returning a sample every ``events / samples`` events."""
    holder = RulesetHolder(index)
    # the registry's areas as the service builds them (the corrections sample cache
    # checks every 5 s); the corrections area is kept to read its cache's size
    built = area_set(holder, cached_areas())
    corrections = next(a for a in built.areas if isinstance(a, CorrectionsArea))
    pipeline = build_pipeline(store, holder, areas=built)
    tenant = f"soak{time.time_ns()}"  # a run of its own on a reused store
    rng = random.Random(SEED)
    regs = tuple(replace(r, key=replace(r.key, tenant=tenant)) for r in registrations(chats, rng))
    t0 = time.perf_counter()
    for reg in regs:
        pipeline.register_chat(reg)
    out(
        f"soak: {events} events over {chats} chats ({len(regs)} registered in "
        f"{time.perf_counter() - t0:.1f} s), batches of {batch}, store "
        f"{store.engine.url.get_backend_name()}; load average {_load()}"
    )
    sizes = caches(corrections)
    every = max(batch, -(-events // samples))
    out(_header(sizes))
    table: list[Sample] = []
    gc.collect()
    start = last_t = time.perf_counter()
    done = last_n = 0
    next_sample = every
    for chunk in _batches(stream(regs, events, rng), batch):
        pipeline.evaluate_batch(chunk)
        done += len(chunk)
        if done >= next_sample or done == events:
            now = time.perf_counter()
            sample = Sample(
                done,
                now - start,
                rss_bytes(),
                store_bytes(store),
                (done - last_n) / (now - last_t) if now > last_t else 0.0,
                tuple((name, size()) for name, size in sizes.items()),
            )
            table.append(sample)
            out(_line(sample))
            last_t, last_n = now, done
            next_sample += every
    out(f"load average at the end: {_load()}")
    return table


def _batches(events: Iterator[Event], size: int) -> Iterator[list[Event]]:
    chunk: list[Event] = []
    for e in events:
        chunk.append(e)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _load() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def _header(sizes: dict[str, Callable[[], int]]) -> str:
    cols = "".join(f"  {name:>17}" for name in sizes)
    return f"{'events':>9}  {'seconds':>8}  {'RSS MB':>8}  {'store MB':>9}  {'ev/s':>7}{cols}"


def _line(s: Sample) -> str:
    cols = "".join(f"  {n:>17}" for _, n in s.caches)
    return (
        f"{s.events:>9}  {s.seconds:>8.0f}  {s.rss_bytes / 2**20:>8.1f}  "
        f"{s.store_bytes / 2**20:>9.1f}  {s.rate:>7.0f}{cols}"
    )


def _after_warmup(table: Sequence[Sample], warmup: float) -> Sample:
    total = table[-1].events
    return next(s for s in table if s.events >= warmup * total)


def change(table: Sequence[Sample], warmup: float) -> float:
    """The RSS at the end against the RSS after the warm-up, as a share (0.05: 5 % more)."""
    base = _after_warmup(table, warmup).rss_bytes
    return (table[-1].rss_bytes - base) / base


def flat(table: Sequence[Sample], warmup: float) -> bool:
    return abs(change(table, warmup)) <= TOLERANCE


def verdict(table: Sequence[Sample], warmup: float) -> str:
    base = _after_warmup(table, warmup)
    end = table[-1]
    moved = change(table, warmup)
    word = "flat" if flat(table, warmup) else "NOT flat"
    return (
        f"RSS after warm-up ({base.events} events) {base.rss_bytes / 2**20:.1f} MB, at the end "
        f"({end.events} events) {end.rss_bytes / 2**20:.1f} MB: {moved:+.1%}, {word} "
        f"(within ± {TOLERANCE:.0%}); store {base.store_bytes / 2**20:.1f} MB -> "
        f"{end.store_bytes / 2**20:.1f} MB"
    )
