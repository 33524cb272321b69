"""``firekeeper bench --reloads N``: memory and latency of the pipeline across hot reloads.

Worker threads drive the in-process pipeline (as the service wires it, every
area on, a temporary SQLite store) with the benchmark workload, in three phases
of equal length:

1. no reloads: the normal p50/p99;
2. N reloads of a ruleset no other extends (``hobby.yaml``): one ruleset
   recompiled each time, the others shared;
3. N reloads of ``base.yaml``, which every ruleset extends: all recompiled.

Each reload edits the file (a comment line, so the text and the version
change) and runs the reloader as the admin RPC does. Printed per phase:
events, p50/p99/max latency, RSS at its end (after a collection), and the
engine rulesets registered. A leak shows as RSS and registered rulesets that
climb phase after phase; a stall, as a p99 above the first phase's.
"""

from __future__ import annotations

import gc
import resource
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from firekeeper.domain.events import Event
from firekeeper.pipeline import RulesetHolder
from firekeeper.reload import Reloader, fingerprint
from firekeeper.rules import engine
from firekeeper.rulesets_dir import load, read_sources
from firekeeper.store import create_store
from firekeeper.wiring import build_pipeline
from firekeeper.workload import build, p50_p99_ms


def rss_mb() -> float:
    """Resident set size now (Linux), else the peak."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True, slots=True)
class Phase:
    name: str
    latencies: list[float]
    reloads: int
    rss_mb: float
    registered: int

    def line(self) -> str:
        lat = sorted(self.latencies)
        p50, p99 = p50_p99_ms(lat)
        top = lat[-1] * 1000 if lat else 0.0
        return (
            f"{self.name:<26} {len(lat):>6} events  {self.reloads:>3} reloads  "
            f"p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  max {top:7.2f} ms  "
            f"RSS {self.rss_mb:6.1f} MB  engine rulesets {self.registered}"
        )


def run(rulesets: Path, reloads: int, seconds: float, threads: int, chats: int) -> int:
    if reloads < 1 or seconds <= 0 or threads < 1:
        print(
            "firekeeper bench: --reloads, --seconds and --threads must be positive", file=sys.stderr
        )
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp) / "rulesets"
        shutil.copytree(rulesets, directory)
        for name in ("hobby.yaml", "base.yaml"):
            if not (directory / name).is_file():
                print(f"firekeeper bench: --reloads needs {name} in {rulesets}", file=sys.stderr)
                return 2
        holder = RulesetHolder(load(directory))
        reloader = Reloader(directory, holder, fingerprint=fingerprint(read_sources(directory)))
        store = create_store(f"sqlite:///{Path(tmp) / 'reload-bench.db'}")
        try:
            store.migrate()
            pipeline = build_pipeline(store, holder)
            work = build(4000, n_chats=chats)
            for reg in work.chats:
                pipeline.register_chat(reg)
            counter = iter(range(10**12))
            lock = threading.Lock()

            def next_event(i: int) -> Event:
                ev = work.events[i % len(work.events)]
                with lock:
                    n = next(counter)
                return replace(ev, envelope=replace(ev.envelope, event_id=f"r{n}"))

            def phase(name: str, edit: str | None) -> Phase:
                latencies: list[float] = []
                stop = threading.Event()

                def drive(offset: int) -> None:
                    i, mine = offset, []
                    while not stop.is_set():
                        event = next_event(i)
                        start = time.perf_counter()
                        pipeline.evaluate(event)
                        mine.append(time.perf_counter() - start)
                        i += threads
                    with lock:
                        latencies.extend(mine)

                workers = [threading.Thread(target=drive, args=(k,)) for k in range(threads)]
                for w in workers:
                    w.start()
                done = 0
                try:
                    if edit is None:
                        time.sleep(seconds)
                    else:
                        path = directory / edit
                        for k in range(reloads):
                            time.sleep(seconds / reloads)
                            with path.open("a", encoding="utf-8") as f:
                                f.write(f"\n# reload {name} {k}\n")
                            result = reloader.reload()
                            if not (result.ok and result.changed):
                                print(f"firekeeper bench: reload {k} failed: {result.errors}")
                                return Phase(name, latencies, done, rss_mb(), engine.registered())
                            done += 1
                finally:
                    stop.set()
                    for w in workers:
                        w.join()
                gc.collect()
                engine.release_unused()
                return Phase(name, latencies, done, rss_mb(), engine.registered())

            print(
                f"reload bench: {threads} threads on the in-process pipeline (SQLite), "
                f"{chats} chats, {seconds:.0f} s per phase, {reloads} reloads per reload phase"
            )
            gc.collect()
            print(f"{'start':<26} RSS {rss_mb():6.1f} MB  engine rulesets {engine.registered()}")
            phase("warm-up", None)
            for name, edit in (
                ("no reloads", None),
                ("reloads of hobby.yaml", "hobby.yaml"),
                ("reloads of base.yaml", "base.yaml"),
                ("no reloads again", None),
            ):
                print(phase(name, edit).line(), flush=True)
        finally:
            store.close()
    return 0
