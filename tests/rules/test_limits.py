"""The engine's measured limits come back as located ruleset errors, never crashes."""

from __future__ import annotations

import pytest

from firekeeper.errors import RulesetError
from firekeeper.rules import lowering
from firekeeper.rules.engine import EngineError, Matcher
from firekeeper.rules.lowering import Test as EngineTest
from tests.compiling import compile_sources
from tests.rules.conftest import ruleset_yaml


def rule(i: int, when: str | None, on: str = "message.posted", mode: str = "shadow") -> str:
    text = f"  - id: r{i}\n    on: {on}\n    mode: {mode}\n    reason: r\n"
    return text + (f"    when: {when}\n" if when else "")


def problems(text: str) -> list[tuple[int, int, str, str]]:
    with pytest.raises(RulesetError) as info:
        compile_sources({"t.yaml": text})
    return [(d.line, d.column, d.path, d.message) for d in info.value.diagnostics]


def test_sixty_four_passing_tests_at_one_point_work() -> None:
    text = ruleset_yaml("".join(rule(i, f"message.length > {i}") for i in range(64)))
    rs = compile_sources({"t.yaml": text}).get("t")
    fact = {"event": {"kind": "message.posted"}, "message": {"length": 1000}}
    assert len(rs.match(fact)) == 64


def test_sixty_five_would_overflow_the_engine_and_are_rejected() -> None:
    text = ruleset_yaml("".join(rule(i, f"message.length > {i}") for i in range(65)))
    assert problems(text) == [
        (
            5 * 64 + 7,
            11,
            "rules[64].when",
            "too many different tests for message.posted events at one point "
            "(the engine can follow at most 64)",
        )
    ]


def test_the_engine_itself_fails_beyond_sixty_four() -> None:
    kind = EngineTest("eq", "event.kind", "k").to_json()
    rules = {
        f"r{i}": {"all": [{"m": {"$and": [kind, EngineTest("gt", "a.x", i).to_json()]}}]}
        for i in range(65)
    }
    matcher = Matcher(rules)
    with pytest.raises(EngineError, match="303"):
        matcher.match({"event": {"kind": "k"}, "a": {"x": 1000}})
    assert matcher.match({"event": {"kind": "k"}, "a": {"x": 10}}) == {f"r{i}" for i in range(10)}


def test_equality_tests_on_one_field_pass_one_at_a_time() -> None:
    rules = "".join(rule(i, f"message.length == {i}") for i in range(200))
    rs = compile_sources({"t.yaml": ruleset_yaml(rules)}).get("t")
    hit = rs.match({"event": {"kind": "message.posted"}, "message": {"length": 7}})
    assert [r.id for r in hit] == ["r7"]


def test_too_many_alternatives_in_one_condition() -> None:
    when = (
        "message.length in [1, 2, 3, 4] and message.line_count in [1, 2, 3, 4] "
        "and message.link_count in [1, 2, 3, 4, 5]"
    )
    assert problems(ruleset_yaml(rule(0, when))) == [
        (7, 11, "rules[0].when", "this condition expands to more than 64 alternatives")
    ]


def test_negations_are_simplified_before_counting() -> None:
    when = " and ".join(f"not message.length == {i}" for i in range(80))
    rs = compile_sources({"t.yaml": ruleset_yaml(rule(0, when))}).get("t")
    assert [r.id for r in rs.match({"event": {"kind": "message.posted"}})] == ["r0"]


def test_too_many_properties_in_the_fact() -> None:
    params = "".join(f"  p{i}: {i}\n" for i in range(260))
    rules = "".join(
        rule(k, " and ".join(f"params.p{i} >= 0" for i in range(k * 52, k * 52 + 52)))
        for k in range(5)
    )
    found = problems(ruleset_yaml(rules, params))
    assert found == [
        (
            260 + 3 + 4 * 5 + 5,
            11,
            "rules[4].when",
            "rules for message.posted events read more than 250 fields and text predicates",
        )
    ]


def test_too_many_rules_on_one_condition() -> None:
    text = ruleset_yaml("".join(rule(i, None) for i in range(251)))
    assert problems(text) == [
        (
            2 + 4 * 250 + 1,
            9,
            "rules[250].id",
            "more than 250 rules for message.posted events share one condition",
        )
    ]


def test_too_many_children_under_one_node() -> None:
    rules = "".join(
        rule(i, f"message.length in [{4 * i}, {4 * i + 1}, {4 * i + 2}, {4 * i + 3}]")
        for i in range(130)
    )
    found = problems(ruleset_yaml(rules))
    assert found == [
        (
            5 * 125 + 7,
            11,
            "rules[125].when",
            "more than 500 different tests for message.posted events at one point",
        )
    ]


def test_too_many_rules() -> None:
    text = ruleset_yaml("".join(rule(i, None, mode="off") for i in range(401)))
    # counted while parsing: located at the first rule too many, the rest never read
    assert problems(text) == [(4 * 400 + 3, 5, "rules[400]", "more than 400 rules")]


def test_total_engine_rules() -> None:
    one = [(EngineTest("eq", "a.x", 1),)]
    layout = {f"k{k}": [(k * 300 + i, one) for i in range(200)] for k in range(6)}
    found = lowering.check_layout(layout)
    assert [(p.rule, p.message) for p in found] == [
        (1500, "the ruleset lowers to more than 1000 engine rules")
    ]
