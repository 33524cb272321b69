"""``firekeeper fmt``: ruleset and ruleset-test files in one canonical layout, comments kept.

The canonical form:

- keys in the order of the format's own models (``firekeeper.rules.spec`` for
  rulesets, ``firekeeper.tools.suite`` for tests: ``ruleset``, ``version``,
  ``description``, ..., ``rules``; a rule's ``id``, ``on``, ``when``, ``mode``,
  ``reason``, ``priority``, ``actions``; ...), keys the models do not know after
  them as written (a mapping of texts per language keeps its order, and so do
  names: parameters, the keys of a step);
- two spaces a level, sequences indented under their key (``rules:`` then
  ``  - id: ...``), flow collections (``{id: carol}``) on one line, as written;
- a single-line string plain when any YAML reader (1.1 or 1.2) reads it back as
  the same string (``"yes"`` keeps its quotes), else
  quoted the way PyYAML chooses (single quotes, double when it needs escapes);
  numbers, booleans and other plain values as written; strings written over
  several lines and block scalars (``|``, ``>``) keep their lines, re-indented;
- every comment kept: a comment on its own line stays before the entry that
  followed it (and moves with it), an end-of-line comment stays after its value;
  blank lines between entries are kept (runs of them become one); no trailing
  spaces; one newline at the end.

Formatting never changes what a file means, by construction and by check: the
file is read with the ruleset loader (so hostile input is refused with located
errors before anything else, in linear time), and the result is read back and
must hold the same data and the same comments, and formatting it again must
change nothing. A file that fails any of these is left as it is and the reason
is reported.
"""

from __future__ import annotations

import bisect
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel

from firekeeper.errors import Diagnostic
from firekeeper.rules import source, spec
from firekeeper.rules.compiler import LIMITS
from firekeeper.tools import suite

INDENT = 2

# where a format's models hold untyped data that another model reads
_NESTED: dict[tuple[type[BaseModel], str], Any] = {
    (spec.HeaderSpec, "rules"): list[spec.RuleSpec],
    (spec.HeaderSpec, "params"): dict[str, spec.ParamSpec],
    (spec.RuleSpec, "actions"): list[spec.ActionSpec],
    (suite.SuiteFile, "tests"): list[suite.TestCase],
    (suite.TestCase, "steps"): list[dict[str, Any]],
}
_STEP_EXPECT = "expect"  # a step is a free mapping, but its `expect` is a model


class Unformattable(Exception):
    """The layout cannot be reproduced safely (reported; the file is left as it is)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def format_text(file: str, text: str, *, tests: bool) -> tuple[str | None, list[Diagnostic]]:
    """The canonical form of a ruleset file (a test file when ``tests``), or None and the
    located reasons it cannot be formatted."""
    doc, problems = source.load(file, text, LIMITS)
    if doc is None or problems:
        return None, problems
    root = doc.values[()]
    model: Any = suite.SuiteFile if tests else spec.HeaderSpec
    try:
        out = _Formatter(text, root).run(model)
    except Unformattable as exc:
        return None, [_refusal(file, exc.line, exc.message)]
    again, problems = source.load(file, out, LIMITS)
    if again is None or problems:
        return None, [_refusal(file, 1, "the formatted text does not read back")]
    if again.data != doc.data:
        return None, [_refusal(file, 1, "formatting would change the data")]
    if _comments(out) != _comments(text):
        return None, [_refusal(file, 1, "formatting would lose or split a comment")]
    try:
        twice = _Formatter(out, again.values[()]).run(model)
    except Unformattable as exc:
        return None, [_refusal(file, exc.line, exc.message)]
    if twice != out:
        return None, [_refusal(file, 1, "formatting twice gives another layout")]
    return out, []


def _refusal(file: str, line: int, message: str) -> Diagnostic:
    return Diagnostic(
        file,
        line,
        1,
        f"fmt leaves this file as it is: {message}",
        hint="this is a limit of firekeeper fmt, not a mistake in the file; please report it",
    )


def _comments(text: str) -> list[str]:
    """Every comment of ``text``, sorted (a moved entry takes its comments along)."""
    doc, _ = source.load("", text, LIMITS)
    if doc is None:
        return []
    scan = _Scan(text.splitlines(), doc.values[()])
    return sorted([*scan.eol.values(), *scan.own_line.values()])  # reordering moves them


@dataclass
class _Scan:
    """Where the comments and blank lines of a text are, outside its scalars."""

    lines: list[str]
    root: yaml.Node
    eol: dict[int, str] = field(default_factory=dict)  # line -> comment after a value
    own_line: dict[int, str] = field(default_factory=dict)  # line -> comment alone
    blank: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        covered: dict[int, list[tuple[int, int]]] = {}
        for node in _walk(self.root):
            if isinstance(node, yaml.ScalarNode):
                start, end = node.start_mark, node.end_mark
                if node.style in ("|", ">"):
                    last = _block_end(self.lines, node)
                    covered.setdefault(start.line, []).append((start.column, 1 << 60))
                    for inner in range(start.line + 1, last + 1):
                        covered.setdefault(inner, []).append((0, 1 << 60))
                    continue
                if start.line == end.line:
                    covered.setdefault(start.line, []).append((start.column, end.column))
                    continue
                covered.setdefault(start.line, []).append((start.column, 1 << 60))
                for inner in range(start.line + 1, end.line):
                    covered.setdefault(inner, []).append((0, 1 << 60))
                covered.setdefault(end.line, []).append((0, end.column))
        for number, line in enumerate(self.lines):
            spans = sorted(covered.get(number, []))  # scalars never overlap on a line
            at = _comment_at(line, spans)
            if at >= 0:
                comment = line[at:].rstrip()
                if line[:at].strip():
                    self.eol[number] = comment
                else:
                    self.own_line[number] = comment
            elif not line.strip() and not any(lo < max(len(line), 1) for lo, _ in spans):
                self.blank.add(number)


def _block_end(lines: list[str], node: yaml.ScalarNode) -> int:
    """The last line of a block scalar: its trailing blank lines are not its own
    unless it keeps them (``|+``)."""
    start, end = node.start_mark, node.end_mark
    last = min(end.line if end.column > 0 else end.line - 1, len(lines) - 1)
    header = lines[start.line][start.column :].split("#")[0]
    if "+" not in header:
        while last > start.line and not lines[last].strip():
            last -= 1
    return last


def _comment_at(line: str, spans: list[tuple[int, int]]) -> int:
    """The column where a comment starts on ``line``, outside ``spans`` (sorted, disjoint);
    -1 when none. Each ``#`` costs a binary search, so a hostile line stays cheap."""
    starts = [lo for lo, _ in spans]
    at = line.find("#")
    while at >= 0:
        i = bisect.bisect_right(starts, at) - 1
        if i >= 0 and at < spans[i][1]:
            at = line.find("#", spans[i][1])  # skip the rest of that scalar
            continue
        if at == 0 or line[at - 1] in " \t":
            return at
        at = line.find("#", at + 1)
    return -1


def _walk(root: yaml.Node) -> Iterator[yaml.Node]:
    stack = [root]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack += (key, value)
        elif isinstance(node, yaml.SequenceNode):
            stack += node.value


class _Formatter:
    def __init__(self, text: str, root: yaml.Node) -> None:
        self.lines = text.splitlines()
        self.root = root
        self.scan = _Scan(self.lines, root)
        self.out: list[str] = []
        self.used_eol: set[int] = set()
        starts: set[int] = set()
        for node in _walk(root):
            if isinstance(node, yaml.MappingNode) and not node.flow_style:
                starts.update(key.start_mark.line for key, _ in node.value)
            elif isinstance(node, yaml.SequenceNode) and not node.flow_style:
                starts.update(item.start_mark.line for item in node.value)
        self.starts = sorted(starts)
        self.comment_lines = sorted([*self.scan.eol, *self.scan.own_line])
        # comment and blank lines, each before the first entry that starts after it
        self.leading: dict[int, list[str]] = {}
        self.head: list[str] = []
        self.tail: list[str] = []
        first = self.starts[0] if self.starts else len(self.lines)
        for number in sorted([*self.scan.own_line, *self.scan.blank]):
            text_ = self.scan.own_line.get(number, "")
            if number < first and isinstance(root, yaml.MappingNode) and not root.flow_style:
                self.head.append(text_)
                continue
            i = bisect.bisect_right(self.starts, number)
            if i == len(self.starts):  # after the last entry: as written
                self.tail.append(self.lines[number].rstrip())
            else:
                self.leading.setdefault(self.starts[i], []).append(text_)

    def run(self, model: Any) -> str:
        self.out = []
        for line in _squeeze(self.head):
            if line or self.out:
                self.out.append(line)
        node = self.root
        if isinstance(node, yaml.MappingNode) and not node.flow_style:
            self.mapping(node, 0, model, None)
        elif isinstance(node, yaml.SequenceNode) and not node.flow_style:
            self.sequence(node, 0, model)
        else:
            self.out.append(self.inline(node, model) + self.eol(node.end_mark.line))
        self.out += [line for line in _squeeze(self.tail)]
        missing = set(self.scan.eol) - self.used_eol
        if missing:
            raise Unformattable(min(missing) + 1, "a comment where fmt cannot keep it")
        while self.out and not self.out[-1]:
            self.out.pop()
        return "\n".join(line.rstrip() for line in self.out) + "\n"

    def eol(self, line: int) -> str:
        comment = self.scan.eol.get(line)
        if comment is None or line in self.used_eol:
            return ""
        self.used_eol.add(line)
        return "  " + comment

    def lead(self, line: int, indent: int, *, first: bool) -> None:
        """The comment and blank lines before the entry at ``line`` (no blank line before
        the first entry of a collection)."""
        for text in _squeeze(self.leading.pop(line, [])):
            if text:
                self.out.append(" " * indent + text)
            elif not first and self.out and self.out[-1]:
                self.out.append("")

    def mapping(self, node: yaml.MappingNode, indent: int, model: Any, prefix: str | None) -> None:
        """A block mapping at ``indent``; ``prefix``: its first line starts a sequence item."""
        for n, (key, value) in enumerate(_ordered(node.value, model)):
            if not isinstance(key, yaml.ScalarNode):
                raise Unformattable(key.start_mark.line + 1, "a key that is not a scalar")
            if n == 0 and prefix is not None:  # the first line of a sequence item
                self.lead(key.start_mark.line, indent - INDENT, first=False)
                start = prefix
            else:
                self.lead(key.start_mark.line, indent, first=n == 0)
                start = " " * indent
            head = start + self.scalar_line(key) + ":"
            self.value(head, key.start_mark.line, value, indent, _child(model, str(key.value)))

    def value(self, head: str, line: int, value: yaml.Node, indent: int, model: Any) -> None:
        if isinstance(value, yaml.MappingNode) and not value.flow_style and value.value:
            self.out.append(head + self.eol(line))
            self.mapping(value, indent + INDENT, model, None)
        elif isinstance(value, yaml.SequenceNode) and not value.flow_style and value.value:
            self.out.append(head + self.eol(line))
            self.sequence(value, indent + INDENT, model)
        elif isinstance(value, yaml.ScalarNode) and _is_empty(value):
            self.out.append(head + self.eol(value.end_mark.line))
        elif isinstance(value, yaml.ScalarNode) and _multiline(value):
            self.block(head + " ", value, indent + INDENT)
        else:
            self.out.append(head + " " + self.inline(value, model) + self.eol(_last(value)))

    def sequence(self, node: yaml.SequenceNode, indent: int, model: Any) -> None:
        item_model = _child(model, 0)
        for n, item in enumerate(node.value):
            self.lead(item.start_mark.line, indent, first=n == 0)
            dash = " " * indent + "- "
            if isinstance(item, yaml.MappingNode) and not item.flow_style and item.value:
                self.mapping(item, indent + INDENT, item_model, dash)
            elif isinstance(item, yaml.SequenceNode) and not item.flow_style and item.value:
                self.out.append(dash.rstrip())
                self.sequence(item, indent + INDENT, item_model)
            elif isinstance(item, yaml.ScalarNode) and _multiline(item):
                self.block(dash, item, indent + INDENT)
            else:
                self.out.append(dash + self.inline(item, item_model) + self.eol(_last(item)))

    def block(self, head: str, node: yaml.ScalarNode, indent: int) -> None:
        """A scalar written over several lines: its lines as written, re-indented."""
        start, end = node.start_mark, node.end_mark
        last = _block_end(self.lines, node) if node.style in ("|", ">") else end.line
        first = self.lines[start.line][start.column :]
        rest = self.lines[start.line + 1 : last + 1]
        if node.style in ("|", ">"):
            if any(c.isdigit() for c in first.split("#")[0]):
                raise Unformattable(start.line + 1, "a block scalar with an indentation digit")
            self.out.append(head + first.rstrip())
        else:
            if end.column > 0 and end.line != start.line:
                rest = [*self.lines[start.line + 1 : end.line], self.lines[end.line][: end.column]]
            self.out.append(head + first.rstrip())
        filled = [r for r in rest if r.strip()]
        base = min((len(r) - len(r.lstrip(" ")) for r in filled), default=0)
        for r in rest:
            if r.strip() or len(r) > base:
                self.out.append(" " * indent + r[base:])
            else:
                self.out.append("")
        if node.style not in ("|", ">"):
            self.out[-1] += self.eol(end.line)

    def inline(self, node: yaml.Node, model: Any) -> str:
        """A scalar or a flow collection on one line."""
        if isinstance(node, yaml.ScalarNode):
            if _multiline(node):
                raise Unformattable(node.start_mark.line + 1, "a multi-line value in a flow")
            return self.scalar_line(node, flow=True) if not _is_empty(node) else "null"
        self.check_flow_comments(node)
        if isinstance(node, yaml.SequenceNode):
            item = _child(model, 0)
            return "[" + ", ".join(self.inline(v, item) for v in node.value) + "]"
        assert isinstance(node, yaml.MappingNode)
        parts = []
        for key, value in _ordered(node.value, model):
            if not isinstance(key, yaml.ScalarNode):
                raise Unformattable(key.start_mark.line + 1, "a key that is not a scalar")
            rendered = self.inline(value, _child(model, str(key.value)))
            parts.append(f"{self.scalar_line(key, flow=True)}: {rendered}")
        return "{" + ", ".join(parts) + "}"

    def check_flow_comments(self, node: yaml.Node) -> None:
        start, end = node.start_mark.line, node.end_mark.line
        if start == end:
            return  # one line: a comment can only follow it
        i = bisect.bisect_left(self.comment_lines, start)
        if i < len(self.comment_lines) and self.comment_lines[i] < end:
            line = self.comment_lines[i] + 1
            raise Unformattable(line, "a comment inside a [..] or {..} collection")

    def scalar_line(self, node: yaml.ScalarNode, *, flow: bool = False) -> str:
        """A one-line scalar: plain values as written, strings plain when they read back
        the same (in a flow collection, by its stricter rules), else quoted."""
        if node.style in (None, "") or node.tag != "tag:yaml.org,2002:str":
            line = self.lines[node.start_mark.line]
            return line[node.start_mark.column : node.end_mark.column]
        quoted = _quote(node.value, flow=flow)
        if quoted is None:
            line = self.lines[node.start_mark.line]
            return line[node.start_mark.column : node.end_mark.column]
        return quoted


def _quote(value: str, *, flow: bool) -> str | None:
    """``value`` as YAML on one line: plain if it reads back as this string, else in
    double quotes when it needs no escape, else as PyYAML quotes it; None if it cannot be
    written on one line."""
    dumped = yaml.dump(
        [value] if flow else {"k": value},
        Dumper=yaml.SafeDumper,  # YAML 1.1: "yes" and "on" keep their quotes, for any reader
        allow_unicode=True,
        width=1 << 30,
        default_flow_style=flow,
    )
    text = dumped.removeprefix("[").removesuffix("]\n") if flow else dumped.removeprefix("k: ")
    text = text.rstrip("\n")
    if "\n" in text:
        return None
    if text[:1] not in ("'", '"'):
        return text  # plain
    if '"' not in value and "\\" not in value and value.isprintable():
        return f'"{value}"'
    return text


def _squeeze(lines: list[str]) -> list[str]:
    """Runs of blank lines as one."""
    out: list[str] = []
    for line in lines:
        if line or not out or out[-1]:
            out.append(line)
    return out


def _is_empty(node: yaml.ScalarNode) -> bool:
    return node.tag == "tag:yaml.org,2002:null" and node.value == "" and node.style in (None, "")


def _multiline(node: yaml.ScalarNode) -> bool:
    if node.style in ("|", ">"):
        return True
    return node.end_mark.line > node.start_mark.line


def _last(node: yaml.Node) -> int:
    return node.end_mark.line


def _ordered(pairs: list[tuple[yaml.Node, yaml.Node]], model: Any) -> list[tuple[Any, Any]]:
    """The entries of a mapping: the model's keys in its order, then the others as written."""
    names = _field_names(model)
    if not names:
        return list(pairs)
    rank = {name: i for i, name in enumerate(names)}
    known = [p for p in pairs if isinstance(p[0], yaml.ScalarNode) and str(p[0].value) in rank]
    known.sort(key=lambda p: rank[str(p[0].value)])
    others = [p for p in pairs if not (isinstance(p[0], yaml.ScalarNode) and p[0].value in rank)]
    return known + others


def _models(annotation: Any) -> list[Any]:
    """The alternatives of an annotation (a union's members, or itself)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(annotation) for m in _models(a)]
    if origin is typing.Annotated:
        return _models(typing.get_args(annotation)[0])
    return [annotation]


def _field_names(model: Any) -> list[str]:
    for option in _models(model):
        if isinstance(option, type) and issubclass(option, BaseModel):
            return [info.alias or name for name, info in option.model_fields.items()]
    return []


def _child(model: Any, key: str | int) -> Any:
    """The annotation of the value at ``key`` of a value typed ``model`` (None: untyped)."""
    for option in _models(model):
        origin = typing.get_origin(option)
        if isinstance(option, type) and issubclass(option, BaseModel) and isinstance(key, str):
            nested = _NESTED.get((option, key))
            if nested is not None:
                return nested
            for name, info in option.model_fields.items():
                if key in (name, info.alias):
                    return info.annotation
        elif origin is list and isinstance(key, int):
            return typing.get_args(option)[0]
        elif origin is dict and isinstance(key, str):
            args = typing.get_args(option)
            value = args[1] if len(args) == 2 else None
            if value is Any:
                return suite.Expect if key == _STEP_EXPECT else None
            return value
    return None
