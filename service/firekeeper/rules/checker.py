"""Type checking of a parsed condition against the vocabulary and the ruleset's params.

Operand types: a vocabulary field has its declared type, ``params.<name>`` the
type of the declared parameter, and constants are ``number``, ``duration``,
``string`` or ``bool``. Numbers compare by any operator, but only within one
unit: a ``duration`` (seconds, written ``14d``) with a duration, and a plain
number (``int`` counts, ``number`` ratios and scores, bare constants) with a
plain number, so ``actor.tenure < 14`` is an error (did you mean 14d?), and so
is a count or a ratio against ``14d``. ``string`` and ``bool`` compare only by
``==``/``!=``; ``text`` only by ``contains``/``matches``; ``list`` only by
``contains``/``contains any``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from firekeeper.domain.events import EventKind
from firekeeper.rules.conditions import (
    DURATION_UNITS,
    And,
    Compare,
    Condition,
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
)
from firekeeper.rules.textmatch import NUMERIC_TYPES, PatternError, compile_pattern
from firekeeper.rules.vocabulary import PARAMS_PREFIX, Vocabulary

_SCALAR = NUMERIC_TYPES | {"string", "bool"}
# the type of a parameter whose declaration failed (and was reported): never checked
UNKNOWN_TYPE = "?"


@dataclass(frozen=True, slots=True)
class Checked:
    """A condition that passed: the types of the fields it reads, in order of appearance."""

    types: Mapping[str, str]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(self.types)


def field_refs(node: Condition) -> Iterator[FieldRef]:
    """Every field reference in a condition, in order of appearance."""
    if isinstance(node, And | Or):
        for item in node.operands:
            yield from field_refs(item)
    elif isinstance(node, Not):
        yield from field_refs(node.operand)
    elif isinstance(node, Compare):
        for side in (node.left, node.right):
            if isinstance(side, FieldRef):
                yield side
    else:
        yield node.field


def check(
    node: Condition, on: EventKind | None, params: Mapping[str, str], vocabulary: Vocabulary
) -> Checked:
    """Raise ConditionError listing the first problem; see ``check_all`` for every one."""
    errors, checked = check_all(node, on, params, vocabulary)
    if errors:
        raise errors[0]
    return checked


def check_all(
    node: Condition, on: EventKind | None, params: Mapping[str, str], vocabulary: Vocabulary
) -> tuple[list[ConditionError], Checked]:
    """Every problem of ``node`` against ``vocabulary`` and the ruleset's ``params``."""
    checker = _Checker(on, params, vocabulary)
    checker.visit(node)
    return checker.errors, Checked(dict(checker.types))


def field_type(
    path: str, on: EventKind | None, params: Mapping[str, str], vocabulary: Vocabulary
) -> str:
    """The type of ``path`` on events of kind ``on`` (None: any kind); raises
    ConditionError(pos=0) if none."""
    if path.startswith(PARAMS_PREFIX):
        name = path[len(PARAMS_PREFIX) :]
        if name in params:
            return params[name]
        close = difflib.get_close_matches(name, list(params), n=1)
        hint = f"did you mean params.{close[0]}?" if close else "declare it under `params:`"
        raise ConditionError(f"unknown parameter {name!r}", 0, hint)
    field = vocabulary.lookup(path)
    if field is None:
        known = vocabulary.paths_on(on)
        known += [PARAMS_PREFIX + p for p in params]
        close = difflib.get_close_matches(path, known, n=1, cutoff=0.6)
        if close:
            hint = f"did you mean {close[0]}?"
        else:
            prefixes = sorted({p.split(".")[0] + "." for p in known})
            hint = "fields start with " + ", ".join(prefixes)
        raise ConditionError(f"unknown field {path!r}", 0, hint)
    if field.on is not None and on is not None and on not in field.on:
        kinds = ", ".join(sorted(k.value for k in field.on))
        raise ConditionError(
            f"{path} is not available on {on.value} events", 0, f"it is set on: {kinds}"
        )
    return field.type


class _Checker:
    def __init__(
        self, on: EventKind | None, params: Mapping[str, str], vocabulary: Vocabulary
    ) -> None:
        self.on = on
        self.params = params
        self.vocabulary = vocabulary
        self.errors: list[ConditionError] = []
        self.types: dict[str, str] = {}

    def fail(self, message: str, pos: int, hint: str = "") -> None:
        self.errors.append(ConditionError(message, pos, hint))

    def type_of(self, ref: FieldRef) -> str | None:
        try:
            type_ = field_type(ref.path, self.on, self.params, self.vocabulary)
        except ConditionError as exc:
            self.fail(exc.message, ref.pos, exc.hint)
            return None
        if type_ == UNKNOWN_TYPE:
            return None  # its declaration's problem is reported where it was written
        self.types.setdefault(ref.path, type_)
        return type_

    def visit(self, node: Condition) -> None:
        if isinstance(node, And | Or):
            for item in node.operands:
                self.visit(item)
        elif isinstance(node, Not):
            self.visit(node.operand)
        elif isinstance(node, Compare):
            self.compare(node)
        elif isinstance(node, InList):
            self.in_list(node)
        elif isinstance(node, Contains):
            self.contains(node)
        elif isinstance(node, Matches):
            self.matches(node)
        elif isinstance(node, Known):
            self.type_of(node.field)
        else:
            self.is_true(node)

    def operand_type(self, side: FieldRef | Const) -> str | None:
        return self.type_of(side) if isinstance(side, FieldRef) else side.kind

    def compare(self, node: Compare) -> None:
        if isinstance(node.left, Const) and isinstance(node.right, Const):
            self.fail("this compares two constants", node.pos, "compare a field with a value")
            return
        left, right = self.operand_type(node.left), self.operand_type(node.right)
        if left is None or right is None:
            return
        for side, type_ in ((node.left, left), (node.right, right)):
            if type_ == "text":
                self.fail(
                    "text is never compared exactly; use contains or matches",
                    side.pos,
                    f'e.g. {_name(side)} contains "word"',
                )
                return
            if type_ == "list":
                self.fail(
                    f"{_name(side)} is a list; use contains or contains any",
                    side.pos,
                    f'e.g. {_name(side)} contains "x"',
                )
                return
        numeric = left in NUMERIC_TYPES and right in NUMERIC_TYPES
        if numeric and _unit(left) != _unit(right):
            self.unit_mismatch(node.left, left, node.right, right)
            return
        if not numeric and _group(left) != _group(right):
            bad = node.right if isinstance(node.left, FieldRef) else node.left
            hint = ""
            if isinstance(bad, Const) and bad.kind == "string" and _looks_numeric(bad.value):
                hint = "remove the quotes to compare as a number"
            elif isinstance(bad, Const) and bad.kind == "bool":
                hint = "true and false compare only with bool fields"
            self.fail(f"cannot compare {left} with {right}", bad.pos, hint)
            return
        if not numeric and node.op not in ("==", "!="):
            self.fail(
                f"{left} values compare only with == and !=",
                node.pos,
                "ordering (<, <=, >, >=) is for numbers and durations",
            )

    def unit_mismatch(
        self, left: FieldRef | Const, left_type: str, right: FieldRef | Const, right_type: str
    ) -> None:
        """A duration against a plain number (a count, a ratio, a bare constant)."""
        if isinstance(left, Const):
            left, left_type, right, right_type = right, right_type, left, left_type
        assert isinstance(left, FieldRef)
        if isinstance(right, Const):
            if right.kind == "duration":
                seconds = int(right.value)
                self.fail(
                    f"{left.path} is {_unit_words(left_type)}, not a duration: "
                    f"{_duration(seconds)} cannot be compared with it",
                    right.pos,
                    f"write a bare number: did you mean {_bare(seconds)}?",
                )
            else:
                self.fail(
                    f"{left.path} is a duration: the bare number {right.value} has no unit",
                    right.pos,
                    _with_unit(right.value),
                )
            return
        message = (
            f"cannot compare {left.path} ({left_type}) with {right.path} ({right_type}): "
            "a duration compares only with a duration"
        )
        # a parameter is the side to change: point at it and say how to declare it
        at, wanted = right, left_type
        if _is_param(left) and not _is_param(right):
            at, wanted = left, right_type
        if _is_param(at):
            name = at.path[len(PARAMS_PREFIX) :]
            example = f"{name}: 14d" if wanted == "duration" else f"{name}: 14"
            hint = f"declare params.{name} as {wanted}, e.g. `{example}`"
        else:
            hint = "compare it with a field or parameter of the same unit, or a value like 14d"
        self.fail(message, at.pos, hint)

    def in_list(self, node: InList) -> None:
        type_ = self.type_of(node.field)
        if type_ is None:
            return
        if type_ == "list":
            self.fail(
                f"{node.field.path} is a list; use contains any [...]",
                node.field.pos,
                f'e.g. {node.field.path} contains any ["a", "b"]',
            )
            return
        if type_ not in NUMERIC_TYPES and type_ != "string":
            self.fail(f"`in` needs a number, duration or string field, not {type_}", node.pos)
            return
        for value in node.values:
            if _group(value.kind) != _group(type_):
                self.fail(f"{value.kind} value in a list for a {type_} field", value.pos)
            elif type_ in NUMERIC_TYPES and _unit(value.kind) != _unit(type_):
                self.unit_mismatch(node.field, type_, value, value.kind)

    def contains(self, node: Contains) -> None:
        type_ = self.type_of(node.field)
        if type_ is None:
            return
        if type_ not in ("text", "list"):
            hint = "use == or in [...]" if type_ == "string" else ""
            self.fail(f"contains works on text and list fields, not {type_}", node.pos, hint)
            return
        for needle in node.needles:
            if needle.value == "":
                self.fail("empty string after contains", needle.pos)

    def matches(self, node: Matches) -> None:
        type_ = self.type_of(node.field)
        if type_ is None:
            return
        if type_ != "text":
            hint = "use == or in [...]" if type_ == "string" else ""
            self.fail(f"matches works on text fields, not {type_}", node.pos, hint)
            return
        try:
            compile_pattern(str(node.pattern.value))
        except PatternError as exc:
            self.fail(f"invalid regular expression: {exc}", node.pattern.pos, "RE2 syntax")

    def is_true(self, node: IsTrue) -> None:
        type_ = self.type_of(node.field)
        if type_ is None or type_ == "bool":
            return
        if type_ in NUMERIC_TYPES:
            hint = f"compare it, e.g. {node.field.path} > 0"
        elif type_ == "text":
            hint = f'e.g. {node.field.path} contains "word", or known({node.field.path})'
        else:
            hint = f"compare it, or test known({node.field.path})"
        self.fail(f"{node.field.path} is {type_}, not a condition by itself", node.pos, hint)


def _is_param(side: FieldRef) -> bool:
    return side.path.startswith(PARAMS_PREFIX)


def _unit(type_: str) -> str:
    """``duration`` for durations, ``number`` for counts, ratios and bare numbers."""
    return "duration" if type_ == "duration" else _group(type_)


def _unit_words(type_: str) -> str:
    words = {"int": "a count (int)", "number": "a number", "duration": "a duration"}
    return words.get(type_, type_)


def _duration(seconds: int) -> str:
    """Seconds in the largest unit up to days that divides them: 1209600 -> 14d."""
    for unit in ("d", "h", "m"):
        if seconds and seconds % DURATION_UNITS[unit] == 0:
            return f"{seconds // DURATION_UNITS[unit]}{unit}"
    return f"{seconds}s"


def _bare(seconds: int) -> str:
    return _duration(seconds)[:-1]


def _with_unit(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"did you mean {value}d?"
    return "durations are a whole number and a unit (s, m, h, d or w), e.g. 36h for 1.5 days"


def _group(type_: str) -> str:
    return "number" if type_ in NUMERIC_TYPES else type_


def _name(side: FieldRef | Const) -> str:
    return side.path if isinstance(side, FieldRef) else repr(side.value)


def _looks_numeric(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True
