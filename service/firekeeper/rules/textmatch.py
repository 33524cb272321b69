"""Typed reads from a fact, and the text predicates computed before the engine.

Both the compiled matcher (``firekeeper.rules.compiler``) and the reference
evaluator (``firekeeper.rules.oracle``) read facts through :func:`read`, so they
agree on what "missing" means: a path that is absent, ``None``, or holds a value
of the wrong type for the field is missing. Numbers must be finite and smaller
than 2**53 in magnitude (exact in a double, which is what the engine compares).

Text predicates (``contains`` and ``matches`` on ``text`` fields) never reach
the engine: :class:`TextTest` evaluates them here and the engine sees booleans.
``contains`` compares after NFKC normalisation and case folding on both sides
(plain substring search, linear time); ``matches`` runs an RE2 pattern (search
semantics) on the text as sent, so an author's regex can never backtrack
without bound. Python's ``re`` is never used for author patterns.
"""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import re2


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()

Value = int | float | str | bool | tuple[str, ...]

_MAX_EXACT = 2**53
NUMERIC_TYPES = frozenset({"int", "number", "duration"})


def raw(fact: Mapping[str, object], path: str) -> object:
    """The value at a dotted path of a nested mapping, or MISSING."""
    node: object = fact
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return MISSING
        node = node[part]
    return MISSING if node is None else node


def typed(value: object, type_: str) -> Value | _Missing:
    """``value`` if it fits the vocabulary type ``type_``, else MISSING."""
    if value is MISSING:
        return MISSING
    if type_ in NUMERIC_TYPES:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return MISSING
        if isinstance(value, float) and not math.isfinite(value):
            return MISSING
        return value if abs(value) < _MAX_EXACT else MISSING
    if type_ == "bool":
        return value if isinstance(value, bool) else MISSING
    if type_ in ("string", "text"):
        return value if isinstance(value, str) else MISSING
    if type_ == "list":
        if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            return tuple(value)
        return MISSING
    return MISSING


def read(fact: Mapping[str, object], path: str, type_: str) -> Value | _Missing:
    return typed(raw(fact, path), type_)


def fold(text: str) -> str:
    """Caseless form for ``contains``: NFKC, case fold, NFKC again."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.never_capture = True
    return options


_OPTIONS: Final = _options()


class PatternError(ValueError):
    """An author's ``matches`` pattern that RE2 rejects."""


@functools.lru_cache(maxsize=1024)
def compile_pattern(pattern: str) -> re2._Regexp:
    try:
        return re2.compile(pattern, _OPTIONS)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else ""
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        raise PatternError(str(detail)) from None


@dataclass(frozen=True, slots=True)
class TextTest:
    """One text predicate, identified by what it computes (not where it was written).

    kind: ``contains`` (``needles`` already folded, all of them or ``any_of``),
    ``matches`` (an RE2 ``pattern``) or ``known`` (the text is present).
    """

    kind: str
    path: str
    needles: tuple[str, ...] = ()
    any_of: bool = False
    pattern: str = ""

    def evaluate(
        self, fact: Mapping[str, object], folded_by_path: dict[str, str] | None = None
    ) -> bool:
        """``folded_by_path``: the folded texts of this fact already computed (by path),
        shared by the tests of one fact so each text is folded once."""
        value = read(fact, self.path, "text")
        if not isinstance(value, str):
            return False
        if self.kind == "known":
            return True
        if self.kind == "matches":
            return compile_pattern(self.pattern).search(value) is not None
        if folded_by_path is None:
            folded = fold(value)
        else:
            folded = folded_by_path.get(self.path) or folded_by_path.setdefault(
                self.path, fold(value)
            )
        if self.any_of:
            return any(n in folded for n in self.needles)
        return all(n in folded for n in self.needles)
