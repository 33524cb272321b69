"""Ruleset fuzzer (issue 9 item 8): mutations of the shipped rulesets load or fail located.

Each example takes one shipped ruleset file (``rulesets/*.yaml``), applies one
mutation an attacker or a slip of the keyboard could make (anchors and aliases,
self-references, deep nesting in YAML or in ``when``, control characters,
invalid UTF-8, huge values, duplicated keys, truncation, random byte flips),
and loads it the way the service does: its bytes decoded (``source.decode``),
then compiled with the file it extends. The property: either the set compiles,
or :class:`RulesetError` is raised whose every diagnostic names the file, a
line and a column (>= 1) and a message, and none is an internal error; never
another exception, and each example within a time bound far above the
measured figure (milliseconds when refused, a fraction of a second when it
compiles).

Outcomes are recorded with ``hypothesis.event``: run with
``--hypothesis-show-statistics`` to see how many examples compiled and how
many were refused, by the first diagnostic's message. Derandomized under CI
(tests/conftest.py).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from firekeeper.errors import RulesetError
from firekeeper.rules.compiler import LIMITS
from firekeeper.rules.source import decode
from firekeeper.rulesets_dir import scan
from tests.compiling import compile_sources

ROOT = Path(__file__).resolve().parents[2] / "rulesets"
SHIPPED = {Path(f).name: Path(f).read_bytes() for f in scan(ROOT).sources}
NAMES = sorted(SHIPPED)
BOUND_SECONDS = 10.0  # measured: ~1 ms refused, ~0.3 s compiled (engine included)


def load(name: str, data: bytes) -> str:
    """Load the mutated file with its (unmutated) parent; the outcome's kind."""
    file = f"rulesets/{name}"
    started = time.perf_counter()
    try:
        text, problems = decode(file, data, LIMITS)
        if problems:
            raise RulesetError(problems)
        assert text is not None
        sources = {file: text}
        if name != "base.yaml" and b"extends: base" in SHIPPED[name]:
            sources["rulesets/base.yaml"] = SHIPPED["base.yaml"].decode()
        compile_sources(sources)
        outcome = "compiled"
    except RulesetError as exc:
        assert exc.diagnostics
        for d in exc.diagnostics:
            assert d.file in (file, "rulesets/base.yaml"), d
            assert d.line >= 1 and d.column >= 1 and d.message, d
            assert "internal error" not in d.message, d.render()
        message = re.sub(r" \(byte .*\)$|'[^']*'|[*&]\S+", "_", exc.diagnostics[0].message)
        outcome = "refused: " + re.sub(r"\b[0-9]+\b", "N", message)
    assert time.perf_counter() - started < BOUND_SECONDS
    return outcome


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


@st.composite
def anchors_and_aliases(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    name = draw(st.sampled_from([b"a", b"x1", b"laugh"]))
    lines[i] = re.sub(rb": ", b": &" + name + b" ", lines[i], count=1)
    lines[j] = re.sub(rb": .*$", b": *" + name, lines[j], count=1)
    return b"\n".join(lines)


@st.composite
def self_reference(draw: st.DrawFn, data: bytes) -> bytes:
    form = draw(st.sampled_from([b"rules: &r [*r]", b"x: &s {k: *s}", b"params: &p\n  a: *p"]))
    return form + b"\n" + data if draw(st.booleans()) else data + b"\n" + form + b"\n"


@st.composite
def deep_nesting(draw: st.DrawFn, data: bytes) -> bytes:
    n = draw(st.integers(1, 3000))
    open_, close = draw(st.sampled_from([(b"[", b"]"), (b"{a: ", b"}")]))
    return data + b"\nextra: " + open_ * n + close * n + b"\n"


@st.composite
def deep_condition(draw: st.DrawFn, data: bytes) -> bytes:
    n = draw(st.integers(1, 12_000))
    wrap = draw(st.sampled_from(["parens", "nots"]))

    def deepen(match: re.Match[bytes]) -> bytes:
        inner = match.group(1).strip(b"'\"")
        if wrap == "nots":
            return b"when: " + b"not " * n + b"(" + inner + b")"
        return b"when: '" + b"(" * n + inner + b")" * n + b"'"

    return re.sub(rb"when: (.*)$", deepen, data, count=1, flags=re.M)


@st.composite
def control_character(draw: st.DrawFn, data: bytes) -> bytes:
    c = draw(st.sampled_from([*range(0, 9), 11, 12, *range(14, 32), 127, *range(0x80, 0xA0)]))
    at = draw(st.integers(0, len(data)))
    return data[:at] + chr(c).encode() + data[at:]


@st.composite
def invalid_utf8(draw: st.DrawFn, data: bytes) -> bytes:
    bad = draw(st.sampled_from([b"\xff", b"\xfe\xff", b"\xc3", b"\x80", b"\xed\xa0\x80", b"\xf8"]))
    at = draw(st.integers(0, len(data)))
    return data[:at] + bad + data[at:]


@st.composite
def huge_scalar(draw: st.DrawFn, data: bytes) -> bytes:
    size = draw(st.sampled_from([17_000, 100_000, 300_000]))
    value = draw(st.sampled_from([b"x", b"9", b"(", b"\xe4\xb8\xad"])) * size
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    lines[i] = re.sub(rb": .*$", b": " + value, lines[i], count=1)
    return b"\n".join(lines)


@st.composite
def duplicated_line(draw: st.DrawFn, data: bytes) -> bytes:
    lines = _lines(data)
    i = draw(st.integers(0, len(lines) - 1))
    return b"\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])


@st.composite
def truncation(draw: st.DrawFn, data: bytes) -> bytes:
    return data[: draw(st.integers(0, len(data)))]


@st.composite
def byte_flips(draw: st.DrawFn, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, len(out) - 1))
        out[i] ^= 1 << draw(st.integers(0, 7))
    return bytes(out)


MUTATIONS = {
    "anchors and aliases": anchors_and_aliases,
    "self-reference": self_reference,
    "deep nesting": deep_nesting,
    "deep condition": deep_condition,
    "control character": control_character,
    "invalid UTF-8": invalid_utf8,
    "huge scalar": huge_scalar,
    "duplicated line": duplicated_line,
    "truncation": truncation,
    "byte flips": byte_flips,
}


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str, bytes]:
    name = draw(st.sampled_from(NAMES))
    kind = draw(st.sampled_from(sorted(MUTATIONS)))
    return name, kind, draw(MUTATIONS[kind](SHIPPED[name]))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_rulesets_load_or_fail_located(case: tuple[str, str, bytes]) -> None:
    name, kind, data = case
    outcome = load(name, data)
    event(f"mutation: {kind}")
    event(f"outcome: {outcome}")


def test_every_shipped_ruleset_loads_unmutated() -> None:
    for name, data in SHIPPED.items():
        assert load(name, data) == "compiled", name
