"""A plain-Python evaluator of the condition AST: the reference the engine must agree with.

Same semantics as the compiled matcher: a comparison on a missing value is
false, ``not`` is boolean negation, ``known(f)`` tests presence. Values are
read with :func:`firekeeper.rules.textmatch.read` (a wrongly typed value is
missing) and text predicates use the same :class:`TextTest` code. Used by the
property tests and handy to explain a decision; never on the hot path.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from firekeeper.rules.conditions import (
    And,
    Compare,
    Condition,
    Const,
    Contains,
    FieldRef,
    InList,
    IsTrue,
    Known,
    Matches,
    Not,
    Or,
)
from firekeeper.rules.textmatch import MISSING, NUMERIC_TYPES, TextTest, Value, fold, raw, typed
from firekeeper.rules.vocabulary import PARAMS_PREFIX, Vocabulary

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def holds(
    node: Condition,
    fact: Mapping[str, object],
    vocabulary: Vocabulary,
    params: Mapping[str, str] | None = None,
) -> bool:
    """Whether ``node`` holds for ``fact``; ``vocabulary`` gives the fields' types,
    ``params`` declared parameter types (``{name: type}``); an undeclared parameter takes
    the type of its value."""
    return _Eval(fact, params or {}, vocabulary).truth(node)


class _Eval:
    def __init__(
        self, fact: Mapping[str, object], params: Mapping[str, str], vocabulary: Vocabulary
    ) -> None:
        self.fact = fact
        self.params = params
        self.vocabulary = vocabulary

    def value(self, ref: FieldRef) -> Value | object:
        value = raw(self.fact, ref.path)
        return typed(value, self.type_of(ref.path, value))

    def type_of(self, path: str, value: object) -> str:
        if path.startswith(PARAMS_PREFIX):
            declared = self.params.get(path[len(PARAMS_PREFIX) :])
            if declared is not None:
                return declared
            return _natural(value)
        field = self.vocabulary.lookup(path)
        return field.type if field else _natural(value)

    def truth(self, node: Condition) -> bool:
        if isinstance(node, Not):
            return not self.truth(node.operand)
        if isinstance(node, And):
            return all(self.truth(item) for item in node.operands)
        if isinstance(node, Or):
            return any(self.truth(item) for item in node.operands)
        if isinstance(node, Compare):
            return self.compare(node)
        if isinstance(node, Known):
            return self.value(node.field) is not MISSING
        if isinstance(node, IsTrue):
            return self.value(node.field) is True
        if isinstance(node, InList):
            value = self.value(node.field)
            if value is MISSING:
                return False
            found = any(_same(value, c.value) for c in node.values)
            return found != node.negated
        if isinstance(node, Matches):
            test = TextTest("matches", node.field.path, pattern=str(node.pattern.value))
            return test.evaluate(self.fact)
        return self.contains(node)

    def compare(self, node: Compare) -> bool:
        left, right = self.operand(node.left), self.operand(node.right)
        if left is MISSING or right is MISSING:
            return False
        if _is_number(left) and _is_number(right):
            return _OPS[node.op](left, right)
        if type(left) is type(right) and isinstance(left, str | bool) and node.op in ("==", "!="):
            return _OPS[node.op](left, right)
        return False

    def operand(self, side: FieldRef | Const) -> object:
        return side.value if isinstance(side, Const) else self.value(side)

    def contains(self, node: Contains) -> bool:
        value = self.value(node.field)
        needles = [str(c.value) for c in node.needles]
        if isinstance(value, tuple):
            hits = [n in value for n in needles]
        elif isinstance(value, str):
            folded = fold(value)
            hits = [fold(n) in folded for n in needles]
        else:
            return False
        return any(hits) if node.any_of else all(hits)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _same(a: object, b: object) -> bool:
    if _is_number(a) and _is_number(b):
        return a == b
    return type(a) is type(b) and a == b


def _natural(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list | tuple):
        return "list"
    return "string"


assert NUMERIC_TYPES  # the oracle reads numbers exactly as the matcher does
