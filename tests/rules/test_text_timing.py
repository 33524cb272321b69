"""No built-in text check is super-linear, and none is slow on a long text.

Every check on user text (``firekeeper.area_registry.text_checks()``: the
core's ``firekeeper.rules.textchecks.CHECKS`` and each area's) runs on
adversarial texts (runs of digits, ``a.`` and ``1.`` repeated, ``www.``
repeated, spaced-out letters, CJK mixed with digits, nested brackets,
zero-width characters between letters) of 4 KB and 64 KB with the scanning
bound lifted, so the patterns and scans themselves are measured. Linear work
grows 16 times; the test allows 80, under a third of what quadratic work grows
(256 times), because timing on a shared machine is noisy and a 64 KB text no
longer fits the caches a 4 KB one fits (linear checks were seen to grow up to
48 times under load 8 on 2 cores). Each figure is the best of several runs
with the garbage collector off; both sizes are timed back to back in rounds,
and a check fails only when five rounds all say it grew too much. Before the
move to RE2 the price pattern took 7.7 s on 4 KB of digits and 144 s on 16 KB;
the link finder 1.5 s on 4 KB of ``a.``.

With the bound in place (the service's setting), each check on 64 KB must take
under 0.5 s: many times the few milliseconds it takes, so only a regression
of the bound or of the patterns trips it. These are bounds, not benchmarks;
``scripts/measure-text-checks`` prints the figures.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator

import pytest

from firekeeper.area_registry import text_checks
from firekeeper.rules import linear
from firekeeper.rules.textchecks import Check

CHECKS = text_checks()

SMALL, LARGE = 4096, 65536
GROWTH = 80
ABSOLUTE_SECONDS = 0.5

SHAPES = {
    "digits": "1",
    "a.": "a.",
    "1.": "1.",
    "www.": "www.",
    "spaced": "a ",
    "cjk_digits": "中1",
    "brackets": "([{<",
    "zero_width": "a\u200b",
    "keycap_digits": "1\ufe0f\u20e3",
    "punctuated_cjk": "加.",
    "spaced_mixed": "加 V ",
    "numerals": "三",
    "spaced_digits": "1 -",
}


def text(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


def _once(run: Callable[[str], object], value: str) -> float:
    gc.disable()
    try:
        start = time.perf_counter()
        run(value)
        return time.perf_counter() - start
    finally:
        gc.enable()


def _small(run: Callable[[str], object], value: str) -> float:
    """Seconds a call takes: the best of 3 rounds of at least 5 ms each."""
    best = float("inf")
    for _ in range(3):
        calls, spent = 0, 0.0
        while spent < 0.005:
            spent += _once(run, value)
            calls += 1
        best = min(best, spent / calls)
    return best


@pytest.fixture
def unbounded(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(linear, "SCANNED_CHARS", 1 << 20)
    yield


def test_every_module_with_text_patterns_has_a_check_listed() -> None:
    checked = {c.module for c in CHECKS}
    modules = {c.module for c in linear.compiled()}
    assert modules, "no pattern registered: the checks were not imported"
    assert modules <= checked, f"patterns without a check in textchecks.CHECKS: {modules - checked}"


def _super_linear(run: Callable[[str], object], unit: str) -> str:
    """Empty when ``run`` grows at most GROWTH times from 4 KB to 64 KB, else the figures.

    Each round times both sizes back to back, so both see the same load on the
    machine; the best round counts, and a check is slow only if every one of
    up to five rounds says so."""
    floor = 1e-4  # below 0.1 ms at 64 KB nothing is measurable, let alone quadratic
    small_text, large_text = text(unit, SMALL), text(unit, LARGE)
    rounds: list[tuple[float, float]] = []
    for _ in range(5):
        small, large = _small(run, small_text), _once(run, large_text)
        if large <= max(GROWTH * small, floor):
            return ""
        rounds.append((small, large))
    small, large = min(rounds, key=lambda r: r[1] / r[0])
    return f"{small * 1e3:.2f} ms at 4 KB, {large * 1e3:.1f} ms at 64 KB"


def _quadratic(value: str) -> int:
    return sum(value[i:].count("1") for i in range(0, len(value), 64))


def test_the_measurement_tells_quadratic_work_from_linear() -> None:
    assert _super_linear(_quadratic, "1")
    assert not _super_linear(lambda value: value.count("1"), "1")


@pytest.mark.usefixtures("unbounded")
@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_the_check_grows_linearly_on_adversarial_text(check: Check) -> None:
    slow = {shape: f for shape, unit in SHAPES.items() if (f := _super_linear(check.run, unit))}
    assert not slow, f"{check.name} grows faster than linearly: {slow}"


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.name)
def test_the_check_is_quick_on_64_kb_with_the_bound(check: Check) -> None:
    for shape, unit in SHAPES.items():
        seconds = min(_once(check.run, text(unit, LARGE)) for _ in range(2))
        assert seconds < ABSOLUTE_SECONDS, (check.name, shape, seconds)
