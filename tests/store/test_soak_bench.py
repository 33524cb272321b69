"""``firekeeper bench --soak``: the streamed workload, the samples and the verdict."""

from __future__ import annotations

import random

import pytest

from firekeeper import soak_bench
from firekeeper.areas.corrections.area import MAX_TENANTS
from firekeeper.rules.features import KEPT_TEXTS
from firekeeper.rulesets_dir import load
from firekeeper.soak_bench import Sample, change, flat, soak, verdict
from firekeeper.store import Store
from firekeeper.workload import build, registrations, stream
from tests.conftest import RULESETS

MB = 2**20


def test_the_streamed_workload_is_the_built_one() -> None:
    built = build(500, n_chats=30)
    rng = random.Random(7)
    chats = registrations(30, rng)
    assert chats == built.chats
    assert tuple(stream(chats, 500, rng)) == built.events


def test_a_short_soak_samples_memory_store_and_caches(store: Store) -> None:
    lines: list[str] = []
    table = soak(store, load(RULESETS), 300, 20, batch=40, samples=3, out=lines.append)
    # a sample every 100 events, taken at the first batch that reaches it
    assert [s.events for s in table] == [120, 200, 300]
    assert all(s.rss_bytes > 0 for s in table)
    assert 0 < table[0].store_bytes <= table[-1].store_bytes
    caches = dict(table[-1].caches)
    assert 0 < caches["text features"] <= KEPT_TEXTS
    assert caches["samples tenants"] == 1 <= MAX_TENANTS  # one tenant: the run's own
    assert lines[0].startswith("soak: 300 events over 20 chats (20 registered")
    assert "RSS MB" in lines[1] and len(lines) == 2 + len(table) + 1


def _table(*rss_mb: float) -> list[Sample]:
    return [
        Sample(n * 100, float(n), int(mb * MB), n * MB, 1.0, ())
        for n, mb in enumerate(rss_mb, start=1)
    ]


def test_the_verdict_compares_the_end_with_the_rss_after_warm_up() -> None:
    # ten samples: the warm-up (10 %) ends at the first; the climb before it does not count
    grows = _table(100, 200, 200, 200, 200, 200, 200, 200, 210, 219)
    assert change(grows, 0.10) == pytest.approx(1.19)
    assert change(grows, 0.20) == pytest.approx(0.095)
    assert flat(grows, 0.20) and not flat(grows, 0.10)
    assert "+9.5%, flat (within ± 10%)" in verdict(grows, 0.20)
    leaks = _table(200, 200, 200, 200, 200, 200, 200, 200, 210, 221)
    assert not flat(leaks, 0.10)
    assert "+10.5%, NOT flat" in verdict(leaks, 0.10)
    shrinks = _table(200, 200, 200, 200, 200, 200, 200, 200, 200, 179)
    assert not flat(shrinks, 0.10)  # ± 10 %: falling counts too


def test_arguments_that_make_no_soak_are_refused() -> None:
    said: list[str] = []
    assert soak_bench.run(0, 10, RULESETS, None, out=said.append) == 2
    assert "must be >= 1" in said[0]
