"""Why each rule did or did not match an event: the decision's explanation. Pure.

For every rule (not ``off``) on the event's kind, evaluated with the reference
evaluator (``firekeeper.rules.oracle``) over the same fact the engine saw:

- matched: the values of every field its condition reads;
- not matched: the parts of the condition that were false. For ``a and b`` the
  first false part (explained further if it is itself an ``and``/``or``); for
  ``a or b`` every branch; for anything else the expression itself. Each with
  the values of the fields it reads.

Only computed on request (``EvaluateRequest.explain``, ``firekeeper explain``).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from firekeeper.domain.decisions import Decision, FailedCondition, RuleCheck, RuleMode
from firekeeper.domain.events import EventKind
from firekeeper.rules.compiler import CompiledRuleset
from firekeeper.rules.conditions import (
    DURATION_UNITS,
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
from firekeeper.rules.decide import trace_values
from firekeeper.rules.oracle import holds
from firekeeper.rules.vocabulary import Vocabulary


class _Rule(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def on(self) -> EventKind: ...
    @property
    def mode(self) -> RuleMode: ...
    @property
    def condition(self) -> Condition | None: ...
    @property
    def fields(self) -> tuple[str, ...]: ...


def explained(ruleset: CompiledRuleset, decision: Decision, fact: Mapping[str, Any]) -> Decision:
    """``decision`` with its explanation, from the fact it was made on."""
    kind = fact.get("event", {}).get("kind", "")
    types = {name: p.type for name, p in ruleset.params.items()}
    matched = (m.rule_id for m in decision.trace)
    checks = explain(ruleset.rules, kind, fact, matched, types, ruleset.vocabulary)
    return dataclasses.replace(decision, explanation=checks)


def explain(
    rules: Sequence[_Rule],
    kind: str,
    fact: Mapping[str, Any],
    matched: Iterable[str],
    param_types: Mapping[str, str],
    vocabulary: Vocabulary,
) -> tuple[RuleCheck, ...]:
    """A RuleCheck per rule on ``kind`` (not off), in ruleset order.

    ``matched``: the ids the engine matched (authoritative for ``matched``);
    ``param_types``: ``{name: type}`` of the ruleset's parameters; ``vocabulary``: the
    fields' types (the one the rules were compiled against).
    """
    fired = set(matched)
    out = []
    for rule in rules:
        if rule.on.value != kind or rule.mode is RuleMode.OFF:
            continue
        values = trace_values(rule.fields, fact)
        if rule.id in fired or rule.condition is None:
            out.append(RuleCheck(rule.id, rule.mode, True, (), values))
            continue
        failed = tuple(
            FailedCondition(unparse(node), trace_values(fields_of(node), fact))
            for node in _false_parts(rule.condition, fact, param_types, vocabulary)
        )
        out.append(RuleCheck(rule.id, rule.mode, False, failed, values))
    return tuple(out)


def _false_parts(
    node: Condition, fact: Mapping[str, Any], params: Mapping[str, str], vocabulary: Vocabulary
) -> list[Condition]:
    if isinstance(node, And):
        for part in node.operands:
            if not holds(part, fact, vocabulary, params):
                return _false_parts(part, fact, params, vocabulary)
        return []  # the oracle disagrees with the engine: nothing to point at
    if isinstance(node, Or):
        return [
            p for branch in node.operands for p in _false_parts(branch, fact, params, vocabulary)
        ]
    return [node]


def fields_of(node: Condition) -> tuple[str, ...]:
    """Paths a condition reads, in order of appearance, once each."""
    found: dict[str, None] = {}
    for ref in _refs(node):
        found.setdefault(ref.path, None)
    return tuple(found)


def _refs(node: Condition) -> Iterable[FieldRef]:
    if isinstance(node, And | Or):
        for part in node.operands:
            yield from _refs(part)
    elif isinstance(node, Not):
        yield from _refs(node.operand)
    elif isinstance(node, Compare):
        yield from (side for side in (node.left, node.right) if isinstance(side, FieldRef))
    else:
        yield node.field


def unparse(node: Condition) -> str:
    """The condition as text in the ruleset language (normalised spacing and literals)."""
    return _text(node, 0)


_OR, _AND, _NOT, _ATOM = 1, 2, 3, 4


def _text(node: Condition, context: int) -> str:
    if isinstance(node, Or):
        text, level = " or ".join(_text(p, _OR + 1) for p in node.operands), _OR
    elif isinstance(node, And):
        text, level = " and ".join(_text(p, _AND + 1) for p in node.operands), _AND
    elif isinstance(node, Not):
        text, level = "not " + _text(node.operand, _NOT), _NOT
    else:
        return _atom(node)
    return f"({text})" if level < context else text


def _atom(node: Condition) -> str:
    if isinstance(node, Compare):
        return f"{_operand(node.left)} {node.op} {_operand(node.right)}"
    if isinstance(node, InList):
        word = "not in" if node.negated else "in"
        return f"{node.field.path} {word} [{', '.join(_const(c) for c in node.values)}]"
    if isinstance(node, Contains):
        needles = [_const(c) for c in node.needles]
        target = needles[0] if len(needles) == 1 and not node.any_of else f"[{', '.join(needles)}]"
        return f"{node.field.path} contains {'any ' if node.any_of else ''}{target}"
    if isinstance(node, Matches):
        return f"{node.field.path} matches {_const(node.pattern)}"
    if isinstance(node, Known):
        return f"known({node.field.path})"
    assert isinstance(node, IsTrue)
    return node.field.path


def _operand(side: FieldRef | Const) -> str:
    return side.path if isinstance(side, FieldRef) else _const(side)


def _const(c: Const) -> str:
    if c.kind == "duration" and isinstance(c.value, int):
        return duration_text(c.value)
    if isinstance(c.value, bool):
        return "true" if c.value else "false"
    if isinstance(c.value, str):
        return json.dumps(c.value, ensure_ascii=False)
    return str(c.value)


def duration_text(seconds: int) -> str:
    """``1209600`` -> ``2w``; ``90`` -> ``90s``: the largest unit that divides exactly."""
    for unit, size in sorted(DURATION_UNITS.items(), key=lambda kv: -kv[1]):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
