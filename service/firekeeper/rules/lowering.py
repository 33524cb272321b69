"""Lowering a typed condition to the engine's shape, and the engine's limits.

Shape. The condition is put in disjunctive normal form with negation pushed to
the leaves (durable-rules has no ``$not``); every branch becomes one engine
rule ``{"all": [{"m": {"$and": [event.kind == on, test, ...]}}]}`` (flat, no
``$or``). Missing values follow the language: a comparison on an absent field
is false, ``not`` is plain negation. So ``not (a < b)`` lowers to three
branches ``a missing | b missing | (b present and a >= b)``.

Measured on durable-rules 2.0.28 (C ``durable_rules_engine``, Python 3.11):

- ``$lt $lte $gt $gte $eq $neq`` on a missing field are false; ``$nex`` is
  true when missing; nested ``"a.b"`` paths work. Field against field
  (``{"$gte": {"a": {"$m": "b"}}}``) is false when ``a`` is missing but TRUE for
  every operator when ``b`` is missing, so each such test is guarded by
  ``$ex b``. ``$iany`` and ``$iall`` are both false on an empty list, so the
  matcher appends a NUL sentinel to every list it sends (``$iall $neq`` then
  means "lacks"); authors' strings cannot contain NUL.
- The engine's own state fact (``{"sid": "0", "id": "sid-0", "$s": 1}``,
  created when the first action fires) matches conditions such as ``$nex``;
  the leading ``event.kind`` test keeps it out.
- JSON numbers in exponent form (``1e-05``, ``1e+16``) are rejected (error
  204); ``firekeeper.rules.engine`` writes plain decimals. Floats parse exactly.
- Alpha nodes are shared by (parent, test), following the order of ``$and``.
  Error 303 (MAX_STACK_SIZE): more than 64 children of one node pass for one
  fact (65 distinct passing tests after ``event.kind`` fails; 400 children of
  which 60 pass is fine; 2**7 DNF branches of a product of ``$or`` is fine).
  A flat ``$or`` of 65 passing items also fails; ``$or`` of ``$and`` at the top
  of ``m`` fails to register (error 113) - hence flat branches.
- 512 alpha children under one node: registration or the first assert spins
  forever holding the GIL (511 is fine).
- 256 engine rules ending on the same node: segfault (255 is fine; 511 gives
  error 108 at registration).
- 4000 engine rules register in 0.1 s; 4800 fail with error 106.
- More than 254 properties in an asserted fact (objects and leaves both count;
  ``id`` and ``sid`` included; a list counts as one) give error 302.

The limits below sit under those numbers; ``check_layout`` turns them into
located ruleset errors at compile time, so the engine never sees such a shape.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from firekeeper.rules.conditions import (
    And,
    Compare,
    Condition,
    Contains,
    FieldRef,
    InList,
    IsTrue,
    Known,
    Matches,
    Not,
    Or,
    Scalar,
)
from firekeeper.rules.textmatch import TextTest, fold

MAX_BRANCHES_PER_RULE = 64
MAX_ENGINE_RULES = 1000
MAX_RULES = 400
MAX_PASSING_CHILDREN = 64
MAX_CHILDREN = 500
MAX_ATTACHED = 250
MAX_PROPERTIES = 250  # the engine rejects more than 254, id and sid included

KIND_PATH = "event.kind"
TEXT_PREFIX = "tp"
SENTINEL = "\x00"

_OPS = {"==": "eq", "!=": "neq", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_NEGATE = {"eq": "neq", "neq": "eq", "lt": "gte", "lte": "gt", "gt": "lte", "gte": "lt"}
_MIRROR = {"eq": "eq", "neq": "neq", "lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte"}


@dataclass(frozen=True, slots=True)
class Test:
    """One engine test. op: eq neq lt lte gt gte (against ``value`` or the field
    ``ref``), ex / nex (present / missing), has / lacks (list membership)."""

    op: str
    path: str
    value: Scalar | None = None
    ref: str = ""

    def to_json(self) -> dict[str, object]:
        if self.op in ("ex", "nex"):
            return {f"${self.op}": {self.path: 1}}
        if self.op == "has":
            return {"$iany": {self.path: {"$eq": {"$i": self.value}}}}
        if self.op == "lacks":
            return {"$iall": {self.path: {"$neq": {"$i": self.value}}}}
        rhs: object = {"$m": self.ref} if self.ref else self.value
        return {f"${self.op}": {self.path: rhs}}

    def reads(self) -> tuple[str, ...]:
        return (self.path, self.ref) if self.ref else (self.path,)


@dataclass(frozen=True, slots=True)
class TextAtom:
    test: TextTest
    expected: bool


Atom = Test | TextAtom
Branch = tuple[Atom, ...]


class TooManyBranches(Exception):
    def __init__(self, pos: int) -> None:
        super().__init__(pos)
        self.pos = pos


def branches(node: Condition | None, types: Mapping[str, str]) -> tuple[Branch, ...]:
    """The condition in DNF; ``()`` is never returned for a satisfiable condition.

    Raises TooManyBranches (with the position of the offending sub-expression)
    when the DNF would exceed MAX_BRANCHES_PER_RULE.
    """
    if node is None:
        return ((),)
    return tuple(_Lowerer(types).dnf(node, True))


class _Lowerer:
    def __init__(self, types: Mapping[str, str]) -> None:
        self.types = types

    def dnf(self, node: Condition, positive: bool) -> list[Branch]:
        if isinstance(node, Not):
            return self.dnf(node.operand, not positive)
        if isinstance(node, And | Or):
            parts = [self.dnf(item, positive) for item in node.operands]
            if isinstance(node, And) == positive:
                result: list[Branch] = [()]
                for part in parts:
                    result = _simplify([a + b for a in result for b in part], node.pos)
                return result
            return _simplify([b for part in parts for b in part], node.pos)
        return _simplify(self.leaf(node, positive), node.pos)

    def leaf(self, node: Condition, positive: bool) -> list[Branch]:
        if isinstance(node, Compare):
            return self.compare(node, positive)
        if isinstance(node, IsTrue):
            path = node.field.path
            if positive:
                return [(Test("eq", path, True),)]
            return [(Test("nex", path),), (Test("eq", path, False),)]
        if isinstance(node, Known):
            path = node.field.path
            if self.types.get(path) == "text":
                return [(TextAtom(TextTest("known", path), positive),)]
            return [(Test("ex" if positive else "nex", path),)]
        if isinstance(node, InList):
            return self.in_list(node, positive)
        if isinstance(node, Contains):
            return self.contains(node, positive)
        if isinstance(node, Matches):
            test = TextTest("matches", node.field.path, pattern=str(node.pattern.value))
            return [(TextAtom(test, positive),)]
        raise AssertionError(node)  # pragma: no cover

    def compare(self, node: Compare, positive: bool) -> list[Branch]:
        left, op, right = node.left, _OPS[node.op], node.right
        if not isinstance(left, FieldRef):
            left, right, op = right, left, _MIRROR[op]
        assert isinstance(left, FieldRef)
        if not positive:
            op = _NEGATE[op]
        if isinstance(right, FieldRef):
            test = Test(op, left.path, ref=right.path)
            guarded: Branch = (Test("ex", right.path), test)
            if positive:
                return [guarded]
            return [(Test("nex", left.path),), (Test("nex", right.path),), guarded]
        test = Test(op, left.path, right.value)
        return [(test,)] if positive else [(Test("nex", left.path),), (test,)]

    def in_list(self, node: InList, positive: bool) -> list[Branch]:
        path, values = node.field.path, _unique(c.value for c in node.values)
        members: list[Branch] = [(Test("eq", path, v),) for v in values]
        outside: Branch = tuple(Test("neq", path, v) for v in values)
        if positive:  # present and (not) one of the values
            return [outside] if node.negated else members
        missing: Branch = (Test("nex", path),)
        return [missing, *members] if node.negated else [missing, outside]

    def contains(self, node: Contains, positive: bool) -> list[Branch]:
        path = node.field.path
        needles = [str(n) for n in _unique(str(c.value) for c in node.needles)]
        if self.types.get(path) == "text":
            folded = tuple(fold(n) for n in needles)
            test = TextTest("contains", path, folded, node.any_of and len(folded) > 1)
            return [(TextAtom(test, positive),)]
        has = [Test("has", path, n) for n in needles]
        lacks = [Test("lacks", path, n) for n in needles]
        if positive:
            return [(t,) for t in has] if node.any_of else [tuple(has)]
        missing: Branch = (Test("nex", path),)
        if node.any_of:
            return [missing, tuple(lacks)]
        return [missing, *((t,) for t in lacks)]


def _unique(values: Iterable[Scalar]) -> list[Scalar]:
    seen: list[Scalar] = []
    for v in values:
        if not any(type(v) is type(s) and v == s for s in seen):
            seen.append(v)
    return seen


def _simplify(items: list[Branch], pos: int) -> list[Branch]:
    cleaned: list[Branch] = []
    for branch in items:
        atoms = tuple(dict.fromkeys(branch))
        if not _contradicts(atoms):
            cleaned.append(atoms)
    sets = [frozenset(b) for b in cleaned]
    result: list[Branch] = []
    kept: list[frozenset[Atom]] = []
    for branch, s in zip(cleaned, sets, strict=True):
        if any(k <= s for k in kept):
            continue
        if any(o < s for o in sets):
            continue
        kept.append(s)
        result.append(branch)
    if len(result) > MAX_BRANCHES_PER_RULE:
        raise TooManyBranches(pos)
    return result


def _contradicts(atoms: Branch) -> bool:
    missing = {a.path for a in atoms if isinstance(a, Test) and a.op == "nex"}
    equal: dict[str, Scalar | None] = {}
    texts: dict[TextTest, bool] = {}
    for a in atoms:
        if isinstance(a, TextAtom):
            if texts.setdefault(a.test, a.expected) != a.expected:
                return True
            continue
        if a.op != "nex" and any(p in missing for p in a.reads()):
            return True
        if a.op == "eq" and not a.ref:
            seen = equal.setdefault(a.path, a.value)
            if type(seen) is not type(a.value) or seen != a.value:
                return True
    return False


# --- layout: the shape of the alpha network and the engine's limits ---------------------


@dataclass(frozen=True, slots=True)
class Problem:
    rule: int  # index of the rule in the ruleset
    message: str
    hint: str


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)
    attached: int = 0


def _group(test: Test, key: str) -> str:
    if test.op == "eq" and not test.ref:
        return f"eq {test.path}"  # equality tests on one field pass one at a time
    if test.op in ("ex", "nex"):
        return f"ex {test.path}"
    return key


def _add_prefixes(seen: set[str], path: str) -> None:
    """Add a leaf path and its parents: the properties of a fact holding it (objects count)."""
    parts = path.split(".")
    seen.update(".".join(parts[: i + 1]) for i in range(len(parts)))


def check_layout(
    kinds: Mapping[str, Sequence[tuple[int, Sequence[tuple[Test, ...]]]]],
) -> list[Problem]:
    """Check the engine's limits for ``{on: [(rule index, branches)]}``.

    The branches' tests exclude the leading ``event.kind`` test (the trie's root)."""
    problems: list[Problem] = []
    total = 0
    reported: set[str] = set()

    def report(what: str, rule: int, message: str, hint: str) -> None:
        if what not in reported:
            reported.add(what)
            problems.append(Problem(rule, message, hint))

    for kind, rules in kinds.items():
        root = _Node()
        seen: set[str] = set()  # the fact's properties; + id and sid
        _add_prefixes(seen, KIND_PATH)
        for index, rule_branches in rules:
            total += len(rule_branches)
            if total > MAX_ENGINE_RULES:
                report(
                    "total",
                    index,
                    f"the ruleset lowers to more than {MAX_ENGINE_RULES} engine rules",
                    "use fewer rules or fewer `or` branches",
                )
            for branch in rule_branches:
                for t in branch:
                    for p in t.reads():
                        _add_prefixes(seen, p)
                node = root
                for test in branch:
                    key = json.dumps(test.to_json(), sort_keys=True)
                    child = node.children.get(key)
                    if child is None:
                        child = node.children[key] = _Node()
                        node.groups.add(_group(test, key))
                        if len(node.groups) > MAX_PASSING_CHILDREN:
                            report(
                                f"stack {kind}",
                                index,
                                f"too many different tests for {kind} events at one point "
                                f"(the engine can follow at most {MAX_PASSING_CHILDREN})",
                                "start more rules with the same test, or merge rules",
                            )
                        if len(node.children) > MAX_CHILDREN:
                            report(
                                f"children {kind}",
                                index,
                                f"more than {MAX_CHILDREN} different tests for {kind} "
                                "events at one point",
                                "merge rules",
                            )
                    node = child
                node.attached += 1
                if node.attached > MAX_ATTACHED:
                    report(
                        f"attached {kind}",
                        index,
                        f"more than {MAX_ATTACHED} rules for {kind} events share one condition",
                        "merge rules that test the same thing",
                    )
            if 2 + len(seen) > MAX_PROPERTIES:
                report(
                    f"properties {kind}",
                    index,
                    f"rules for {kind} events read more than {MAX_PROPERTIES} fields "
                    "and text predicates",
                    "use fewer distinct fields and text tests",
                )
    return problems
