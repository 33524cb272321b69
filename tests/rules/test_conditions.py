"""The condition parser: precedence, literals, and errors that point at the spot."""

from __future__ import annotations

import pytest

from firekeeper.rules.conditions import (
    And,
    Compare,
    ConditionError,
    Const,
    Contains,
    FieldRef,
    InList,
    IsTrue,
    Known,
    Matches,
    Not,
    Or,
    parse,
)


def test_and_binds_tighter_than_or_and_not_tighter_than_and() -> None:
    node = parse("a.x or not a.y and a.z")
    assert isinstance(node, Or)
    left, right = node.operands
    assert left == IsTrue(FieldRef("a.x", 0), 0)
    assert isinstance(right, And)
    assert isinstance(right.operands[0], Not)
    assert right.operands[1] == IsTrue(FieldRef("a.z", 19), 19)


def test_parentheses_override_precedence() -> None:
    node = parse("(a.x or a.y) and a.z")
    assert isinstance(node, And)
    assert isinstance(node.operands[0], Or)


def test_chains_are_flat() -> None:
    node = parse("a.x and a.y and a.z")
    assert isinstance(node, And) and len(node.operands) == 3


@pytest.mark.parametrize(
    ("text", "value", "kind"),
    [
        ("45s", 45, "duration"),
        ("30m", 1800, "duration"),
        ("6h", 21600, "duration"),
        ("14d", 1209600, "duration"),
        ("2w", 1209600, "duration"),
        ("150", 150, "number"),
        ("-3", -3, "number"),
        ("2.5", 2.5, "number"),
        ('"hi"', "hi", "string"),
        ("'it''", None, None),
        (r'"a \"q\" \\ \n"', 'a "q" \\ \n', "string"),
        (r"'single \' quote'", "single ' quote", "string"),
        (r'"\d+\.x"', r"\d+\.x", "string"),
        ("true", True, "bool"),
        ("false", False, "bool"),
    ],
)
def test_literals(text: str, value: object, kind: str | None) -> None:
    if kind is None:
        with pytest.raises(ConditionError):
            parse(f"a.x == {text}")
        return
    node = parse(f"a.x == {text}")
    assert isinstance(node, Compare)
    assert node.right == Const(value, kind, 7)  # type: ignore[arg-type]


def test_comparison_operators_and_literal_on_the_left() -> None:
    for op in ("==", "!=", "<", "<=", ">", ">="):
        node = parse(f"a.x {op} 1")
        assert isinstance(node, Compare) and node.op == op
    node = parse("10 <= chat.member_count")
    assert isinstance(node, Compare)
    assert node.left == Const(10, "number", 0)
    assert node.right == FieldRef("chat.member_count", 6)


def test_field_against_field() -> None:
    node = parse("chat.member_count >= params.hard_cap")
    assert node == Compare(
        FieldRef("chat.member_count", 0), ">=", FieldRef("params.hard_cap", 21), 0
    )


def test_in_not_in_contains_matches_known() -> None:
    node = parse('chat.kind not in ["work", "goal"]')
    assert isinstance(node, InList) and node.negated
    assert [c.value for c in node.values] == ["work", "goal"]
    node = parse("a.n in [1, 2d]")
    assert isinstance(node, InList) and not node.negated
    assert [c.value for c in node.values] == [1, 172800]
    node = parse('message.domains contains any ["t.me", "bit.ly"]')
    assert isinstance(node, Contains) and node.any_of and len(node.needles) == 2
    node = parse('message.text contains "buy"')
    assert isinstance(node, Contains) and not node.any_of
    node = parse('message.text contains ["a", "b"]')
    assert isinstance(node, Contains) and not node.any_of and len(node.needles) == 2
    node = parse(r'message.text matches "\d{3}"')
    assert isinstance(node, Matches) and node.pattern.value == r"\d{3}"
    node = parse("known(actor.account_age)")
    assert node == Known(FieldRef("actor.account_age", 6), 0)


@pytest.mark.parametrize(
    ("text", "pos", "fragment"),
    [
        ("", 0, "empty condition"),
        ("a.x = 1", 4, "unexpected '='"),
        ("a.x && a.y", 4, "unexpected '&&'"),
        ("a.x == 'open", 7, "unterminated string"),
        ("a.x > 14days", 8, "unknown duration unit"),
        ("a.x > 1.5h", 6, "whole numbers"),
        ("a.x a.y", 4, "unexpected 'a.y'"),
        ("(a.x", 4, "expected ')'"),
        ("a.x ==", 6, "expected a value"),
        ("a.x in 1", 7, "expected a list"),
        ("a.x in [1,", 10, "expected a value"),
        ("a.x contains 1", 13, "expected a string or a list"),
        ("a.x contains [1]", 14, "contains takes strings"),
        ("a.x matches x.y", 12, "quoted pattern"),
        ("a.x not 1", 8, "expected `in` after `not`"),
        ("5", 1, "expected a comparison operator"),
        ("a.x > 99999999999999999", 6, "out of range"),
        ("a.x > #", 6, "unexpected character '#'"),
        ("and", 0, "expected a condition"),
    ],
)
def test_syntax_errors_point_at_the_spot(text: str, pos: int, fragment: str) -> None:
    with pytest.raises(ConditionError) as info:
        parse(text)
    assert fragment in info.value.message
    assert info.value.pos == pos


def test_mistakes_come_with_a_hint() -> None:
    with pytest.raises(ConditionError) as info:
        parse("a.x = 1")
    assert info.value.hint == "write `==` instead"
