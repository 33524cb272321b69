"""Property: the compiled engine matcher and the pure-Python oracle always agree.

Random conditions over a small vocabulary subset (ints, numbers, durations,
bools, strings, lists, text; params; fields missing or wrongly typed in the
fact; not/and/or nesting; field against field) are compiled as one ruleset
and run against random facts.
"""

from __future__ import annotations

import functools
import json

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from firekeeper.area_registry import VOCABULARY
from firekeeper.errors import RulesetError
from firekeeper.rules.compiler import CompiledRuleset
from firekeeper.rules.oracle import holds
from tests.compiling import compile_sources

NUMERIC = ["message.length", "message.link_count", "chat.member_count", "params.cap"]
DURATIONS = ["actor.tenure", "chat.age", "params.window"]
BOOLS = ["message.is_forward", "actor.is_bot", "params.flag"]
STRINGS = ["chat.kind", "actor.role", "params.label"]
LISTS = ["message.domains"]
TEXTS = ["message.text", "chat.title"]
PARAMS = {"cap": "int", "window": "duration", "flag": "bool", "label": "string"}

NUMBERS = ["-1", "0", "1", "3", "5", "10", "2.5"]
DURATION_LITERALS = ["45s", "30m", "6h", "1d", "2w"]
WORDS = ["work", "hobby", "admin", "member", ""]
DOMAINS = ["t.me", "bit.ly", "example.com"]
NEEDLES = ["buy", "ＢＵＹ", "straße", "now", "555"]
PATTERNS = [r"\d{3}-\d{4}", "(?i)^buy", "now$", "a|b"]
OPS = ["==", "!=", "<", "<=", ">", ">="]


def quoted(words: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(words).map(json.dumps)


def listed(items: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(items, min_size=1, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]")


# a comparison stays within one unit (the checker refuses a duration against a bare
# number, a count or a ratio): plain numbers with plain numbers, durations with durations
def numeric_compare(fields: list[str], literals: list[str]) -> st.SearchStrategy[str]:
    operand = st.one_of(st.sampled_from(fields), st.sampled_from(literals))
    return st.one_of(
        st.builds(
            lambda a, op, b: f"{a} {op} {b}",
            st.sampled_from(fields),
            st.sampled_from(OPS),
            operand,
        ),
        st.builds(
            lambda a, op, b: f"{a} {op} {b}",
            st.sampled_from(literals),
            st.sampled_from(OPS),
            st.sampled_from(fields),
        ),
    )


atoms = st.one_of(
    numeric_compare(NUMERIC, NUMBERS),
    numeric_compare(DURATIONS, DURATION_LITERALS),
    st.builds(
        lambda a, op, b: f"{a} {op} {b}",
        st.sampled_from(STRINGS),
        st.sampled_from(["==", "!="]),
        st.one_of(st.sampled_from(STRINGS), quoted(WORDS)),
    ),
    st.builds(
        lambda a, op, b: f"{a} {op} {b}",
        st.sampled_from(BOOLS),
        st.sampled_from(["==", "!="]),
        st.sampled_from(["true", "false", *BOOLS]),
    ),
    st.sampled_from(BOOLS),
    st.builds(
        lambda a, neg, xs: f"{a} {neg}in {xs}",
        st.sampled_from(NUMERIC),
        st.sampled_from(["", "not "]),
        listed(st.sampled_from(NUMBERS)),
    ),
    st.builds(
        lambda a, neg, xs: f"{a} {neg}in {xs}",
        st.sampled_from(DURATIONS),
        st.sampled_from(["", "not "]),
        listed(st.sampled_from(DURATION_LITERALS)),
    ),
    st.builds(
        lambda a, neg, xs: f"{a} {neg}in {xs}",
        st.sampled_from(STRINGS),
        st.sampled_from(["", "not "]),
        listed(quoted(WORDS)),
    ),
    st.builds(
        lambda a, any_, xs: f"{a} contains {any_}{xs}",
        st.sampled_from(LISTS),
        st.sampled_from(["", "any "]),
        st.one_of(quoted(DOMAINS), listed(quoted(DOMAINS))),
    ),
    st.builds(
        lambda a, any_, xs: f"{a} contains {any_}{xs}",
        st.sampled_from(TEXTS),
        st.sampled_from(["", "any "]),
        st.one_of(quoted(NEEDLES), listed(quoted(NEEDLES))),
    ),
    st.builds(lambda a, p: f"{a} matches {p}", st.sampled_from(TEXTS), quoted(PATTERNS)),
    st.builds(
        lambda a: f"known({a})",
        st.sampled_from(NUMERIC + DURATIONS + BOOLS + STRINGS + LISTS + TEXTS),
    ),
)


def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        inner.map(lambda x: f"not ({x})"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + " and ".join(xs) + ")"),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: "(" + " or ".join(xs) + ")"),
    )


conditions = st.recursive(st.one_of(atoms, atoms.map(lambda x: f"not {x}")), extend, max_leaves=6)


def maybe(value: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Present, absent, None, or of the wrong type."""
    return st.one_of(
        value, value, value, st.just(None), st.just("MISSING"), st.sampled_from(["7", [1], 1.5e300])
    )


numbers = st.sampled_from([-1, 0, 1, 3, 5, 10, 2.5, 5.0, 100])
seconds = st.sampled_from([0, 45, 1800, 21600, 86400, 1209600, 100, 3600])
texts = st.sampled_from(["", "please BUY now", "ｂｕｙ", "STRASSE", "call 555-1234", "b", "now"])


VALUES: dict[str, st.SearchStrategy[object]] = {
    **{path: numbers for path in NUMERIC},
    **{path: seconds for path in DURATIONS},
    **{path: st.booleans() for path in BOOLS},
    **{path: st.sampled_from(WORDS) for path in STRINGS},
    "message.domains": st.sampled_from([[], [], ["t.me"], ["bit.ly", "t.me"], ["x.org"]]),
    **{path: texts for path in TEXTS},
}
SLOTS = {path: maybe(value) for path, value in VALUES.items()}


@st.composite
def facts(draw: st.DrawFn) -> dict[str, object]:
    kind = draw(st.sampled_from(["message.posted"] * 9 + ["member.joined"]))
    fact: dict[str, object] = {"event": {"kind": kind}}
    for path, slot in SLOTS.items():
        got = draw(slot)
        if got != "MISSING":
            top, leaf = path.split(".")
            fact.setdefault(top, {})[leaf] = got  # type: ignore[index]
    return fact


@functools.lru_cache(maxsize=4096)
def compiled(text: str) -> CompiledRuleset:
    """Shrinking retries the same rulesets; the engine never frees one, so reuse them."""
    return compile_sources({"t.yaml": text}).get("t")


PARAM_DECLS = "params:\n  cap: 5\n  window: 1d\n  flag: true\n  label: work\n"


@settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(conditions, min_size=1, max_size=5), st.lists(facts(), min_size=4, max_size=10))
def test_engine_and_oracle_agree(whens: list[str], cases: list[dict[str, object]]) -> None:
    rules = "".join(
        f"  - id: r{i}\n    on: message.posted\n    mode: shadow\n    reason: r\n"
        f"    when: {json.dumps(when)}\n"
        for i, when in enumerate(whens)
    )
    try:
        ruleset = compiled(f"ruleset: t\n{PARAM_DECLS}rules:\n{rules}")
    except RulesetError as exc:  # only the engine's size limits may refuse a generated ruleset
        assert all("more than" in d.message for d in exc.diagnostics), str(exc)
        assume(False)
        return
    for fact in cases:
        fired = {r.id for r in ruleset.match(fact)}
        on_kind = fact["event"] == {"kind": "message.posted"}
        expected = {
            r.id
            for r in ruleset.rules
            if on_kind and (r.condition is None or holds(r.condition, fact, VOCABULARY, PARAMS))
        }
        assert fired == expected, (whens, fact)
