"""The fact the engine sees: only the fields a ruleset's rules read, as JSON, built once. Pure.

A full fact carries everything every area computed (some 120 fields for a
message); the rules for one event kind read a few dozen. A :class:`Projection`
is made once per (ruleset, event kind) when the ruleset compiles: the fields
its engine rules test, grouped by section, each with its property name already
encoded and its vocabulary type. :meth:`Projection.members` then reads those
fields from a full fact and writes them straight to JSON text, in one pass, with
no intermediate dict and no second serialisation: the matcher only adds the
fact's ``id`` and ``sid``.

A value counts as missing (left out, so every comparison on it is false) exactly
as ``firekeeper.rules.textmatch.typed`` says: absent, ``None``, of the wrong type,
a number that is not finite or not exact in a double. Lists of strings get the
NUL sentinel appended (``firekeeper.rules.lowering``). Numbers are written the
way the engine reads them (never in exponent form).

The walk over the fields is written out once per projection as a Python
function (:func:`_writer`: one ``get`` and one test per field, the common
cases inline, no recursion, no per-field calls), which reads a fact in under
half the time the tree walk :func:`_members` took; the generated source holds
only the field names (as literals) and the writers of this module.
``tests/rules/test_projection.py`` holds the two to the same output.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from firekeeper.rules.lowering import KIND_PATH, SENTINEL, TEXT_PREFIX
from firekeeper.rules.textmatch import NUMERIC_TYPES, TextTest

_MAX_EXACT = 2**53
_text: Callable[[str], str] = json.encoder.encode_basestring
_TAIL = "," + _text(SENTINEL) + "]"

Writer = Callable[[object], "str | None"]


def _number(value: object) -> str | None:
    if value.__class__ is int:  # the common case: no bool, no subclass
        return str(value) if -_MAX_EXACT < value < _MAX_EXACT else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if not abs(value) < _MAX_EXACT:
        return None
    if isinstance(value, float):
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text else text
    return str(int(value))


def _bool(value: object) -> str | None:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return None


def _string(value: object) -> str | None:
    return _text(value) if isinstance(value, str) else None


def _list(value: object) -> str | None:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        return None
    if not value:
        return "[" + _TAIL[1:]
    return "[" + ",".join(map(_text, value)) + _TAIL


_WRITERS: dict[str, Writer] = {
    **dict.fromkeys(NUMERIC_TYPES, _number),
    "bool": _bool,
    "string": _string,
    "text": _string,
    "list": _list,
}


@dataclass(frozen=True, slots=True)
class _Node:
    """One property: a leaf (``write`` set) or an object of further properties."""

    key: str
    head: str  # '"key":', encoded once
    write: Writer | None
    children: tuple[_Node, ...] = ()


def _tree(fields: Sequence[tuple[str, str]]) -> tuple[_Node, ...]:
    leaves: dict[str, str] = {}
    groups: dict[str, list[tuple[str, str]]] = {}
    for path, type_ in fields:
        head, _, rest = path.partition(".")
        if rest:
            groups.setdefault(head, []).append((rest, type_))
        else:
            leaves[head] = type_
    nodes = [_Node(k, _text(k) + ":", _WRITERS[t]) for k, t in leaves.items()]
    nodes += [_Node(k, _text(k) + ":", None, _tree(sub)) for k, sub in groups.items()]
    return tuple(nodes)


def _members(nodes: tuple[_Node, ...], source: Mapping[str, object], out: list[str]) -> None:
    """Append ``"key":value`` for every node present in ``source`` (comma-separated).

    The reference walk: :func:`_writer` writes it out per projection, and the tests
    hold the two to the same output."""
    for node in nodes:
        value = source.get(node.key)
        if value is None:
            continue
        write = node.write
        if write is not None:
            # the common cases inline (a plain int, a bool): no call per field
            if value.__class__ is int and write is _number and -_MAX_EXACT < value < _MAX_EXACT:
                out.append(node.head + str(value))
                continue
            if value.__class__ is bool and write is _bool:
                out.append(node.head + ("true" if value else "false"))
                continue
            written = write(value)
            if written is not None:
                out.append(node.head + written)
        elif isinstance(value, Mapping):
            inner: list[str] = []
            _members(node.children, value, inner)
            if inner:
                out.append(node.head + "{" + ",".join(inner) + "}")


def _writer(nodes: tuple[_Node, ...]) -> Callable[[Mapping[str, object]], list[str]]:
    """A function that does what :func:`_members` does for ``nodes``, written out."""
    names: dict[str, object] = {"_int": int, "_bool": bool, "_str": str, "_Mapping": Mapping}
    names.update(_MAX=_MAX_EXACT, _dict=dict)
    lines = ["def members(fact):", "    out = []"]
    serial = iter(range(1 << 30))

    def emit(nodes: tuple[_Node, ...], source: str, out: str, indent: str) -> None:
        for node in nodes:
            v = f"v{next(serial)}"
            head = repr(node.head)
            lines.append(f"{indent}{v} = {source}.get({node.key!r})")
            lines.append(f"{indent}if {v} is not None:")
            inner = indent + "    "
            if node.write is None:
                children = f"o{next(serial)}"
                lines.append(f"{inner}if {v}.__class__ is _dict or isinstance({v}, _Mapping):")
                lines.append(f"{inner}    {children} = []")
                emit(node.children, v, children, inner + "    ")
                lines.append(f"{inner}    if {children}:")
                opened = repr(node.head + "{")
                lines.append(f"{inner}        {out}.append({opened} + ','.join({children}) + '}}')")
                continue
            if node.write is _number:
                lines.append(f"{inner}if {v}.__class__ is _int and -_MAX < {v} < _MAX:")
                lines.append(f"{inner}    {out}.append({head} + _str({v}))")
                lines.append(f"{inner}else:")
                inner += "    "
            elif node.write is _bool:
                lines.append(f"{inner}if {v}.__class__ is _bool:")
                lines.append(f"{inner}    {out}.append({head} + ('true' if {v} else 'false'))")
                lines.append(f"{inner}else:")
                inner += "    "
            write = f"w{next(serial)}"
            names[write] = node.write
            lines.append(f"{inner}written = {write}({v})")
            lines.append(f"{inner}if written is not None:")
            lines.append(f"{inner}    {out}.append({head} + written)")

    emit(nodes, "fact", "out", "    ")
    lines.append("    return out")
    exec(compile("\n".join(lines), "<firekeeper.rules.projection>", "exec"), names)
    return names["members"]  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class Projection:
    """The fields of one event kind's rules, ready to be read from full facts."""

    kind: str
    nodes: tuple[_Node, ...]
    texts: tuple[tuple[str, TextTest], ...]  # (key under "tp", predicate)
    write: Callable[[Mapping[str, object]], list[str]]  # _members of nodes, written out

    @classmethod
    def of(
        cls, kind: str, fields: Sequence[tuple[str, str]], texts: Sequence[tuple[str, TextTest]]
    ) -> Projection:
        """``fields``: (path, vocabulary type) the engine rules read; ``event.kind``, which
        every engine rule tests first, is always read."""
        read = [(KIND_PATH, "string"), *(f for f in fields if f[0] != KIND_PATH)]
        nodes = _tree(read)
        return cls(kind, nodes, tuple(texts), _writer(nodes))

    def members(self, fact: Mapping[str, object]) -> str:
        """The projected fact as the members of a JSON object (no braces)."""
        out = self.write(fact)
        if self.texts:
            folded: dict[str, str] = {}  # one fold per text, whatever the tests on it
            tests = [
                _text(key) + ":" + ("true" if test.evaluate(fact, folded) else "false")
                for key, test in self.texts
            ]
            out.append(_text(TEXT_PREFIX) + ":{" + ",".join(tests) + "}")
        return ",".join(out)
