"""Ruleset YAML text to Python data, keeping where every value came from.

The loader is PyYAML's safe loader with YAML 1.2 booleans: only ``true`` and
``false`` are booleans, so ``on:`` and ``mode: off`` stay strings. Duplicate
keys are errors. :class:`Document` maps a document path such as
``("rules", 2, "when")`` to a 1-based line and column, and an offset inside a
string value (a condition, a message template) to its line and column too.

Loading cannot be weaponised: every cost is bounded by :class:`Limits` before
the data is built, and each refusal is a located :class:`Diagnostic`:

- the file's size (``decode`` and ``load``), invalid UTF-8 and control
  characters (with the line and column of each);
- anchors and aliases (``&name`` / ``*name``) are refused altogether: an alias
  bomb of a few hundred bytes would otherwise expand to gigabytes, and a
  self-referencing anchor to an endless structure;
- nesting depth, entries per mapping or sequence (and a tighter cap per
  top-level key, e.g. ``rules``, counted while parsing so a 10,000-rule file
  stops at the first rule too many), the length of one value, and of numbers.

Events come from libyaml when PyYAML has it (several times faster than the pure
Python parser, which is the fallback); composing into nodes is done here, one
node at a time with its depth known, so nothing recurses without bound.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType
from typing import Any

import yaml
from yaml import events as ev

from firekeeper.errors import Diagnostic

Path = tuple[str | int, ...]

_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:int", "tag:yaml.org,2002:float"})

MAX_FILE_BYTES = 256 * 1024
MAX_DEPTH = 32
MAX_ITEMS = 1000
MAX_SCALAR_CHARS = 16 * 1024
MAX_NUMBER_CHARS = 64
MAX_PROBLEMS = 50  # per file; loading stops after this many

NO_ANCHORS_HINT = (
    "anchors and aliases are not allowed in ruleset files: write the value out, "
    "or share it with `extends` or a parameter"
)

# What YAML itself refuses (the printable set of YAML 1.1), as one linear scan.
_NON_PRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on one file; ``top_level`` caps the entries under a root key (``rules``)."""

    file_bytes: int = MAX_FILE_BYTES
    depth: int = MAX_DEPTH
    items: int = MAX_ITEMS
    scalar_chars: int = MAX_SCALAR_CHARS
    top_level: Mapping[str, tuple[int, str, str]] = field(
        default_factory=lambda: MappingProxyType({})
    )  # key -> (max entries, what they are, hint)


class _Resolver(yaml.resolver.Resolver):
    pass


_Resolver.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items()
}
_Resolver.add_implicit_resolver(
    _BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def render_path(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass
class Document:
    file: str
    text: str
    data: object
    values: dict[Path, yaml.Node] = field(default_factory=dict)
    keys: dict[Path, yaml.Node] = field(default_factory=dict)

    @cached_property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def node(self, path: Path) -> tuple[yaml.Node | None, Path]:
        """The node at ``path`` or at its nearest ancestor that exists."""
        while path and path not in self.values:
            path = path[:-1]
        return self.values.get(path), path

    def diagnostic(
        self, path: Path, message: str, hint: str = "", *, key: bool = False, offset: int = -1
    ) -> Diagnostic:
        """A diagnostic at ``path``: its key when ``key``, ``offset`` inside its string value."""
        line, column = self.position(path, key=key, offset=offset)
        return Diagnostic(self.file, line, column, message, render_path(path), hint)

    def position(self, path: Path, *, key: bool = False, offset: int = -1) -> tuple[int, int]:
        if key and path in self.keys:
            mark = self.keys[path].start_mark
            return mark.line + 1, mark.column + 1
        node, found = self.node(path)
        if node is None:
            return 1, 1
        if offset >= 0 and found == path and isinstance(node, yaml.ScalarNode):
            line, column = _scalar_offset(self.lines, node, offset)
            return line + 1, column + 1
        return node.start_mark.line + 1, node.start_mark.column + 1


def _scalar_offset(lines: Sequence[str], node: yaml.ScalarNode, offset: int) -> tuple[int, int]:
    """0-based line and column of character ``offset`` of a scalar's value, best effort."""
    start, end, style = node.start_mark, node.end_mark, node.style
    quote = 1 if style in ("'", '"') else 0
    segments: list[tuple[int, int, str]] = []  # (line, column, text)
    if style in ("|", ">"):
        indent = -1
        for i in range(start.line + 1, min(end.line + 1, len(lines))):
            text = lines[i]
            if not text.strip():
                segments.append((i, max(indent, 0), ""))
                continue
            width = len(text) - len(text.lstrip(" "))
            if indent < 0:
                indent = width
            elif width < indent:
                break
            segments.append((i, indent, text[indent:]))
        while segments and not segments[-1][2]:
            segments.pop()
        joiner = "\n" if style == "|" else " "
    else:
        for i in range(start.line, min(end.line + 1, len(lines))):
            text = lines[i]
            lo = start.column + quote if i == start.line else len(text) - len(text.lstrip())
            hi = end.column - quote if i == end.line else len(text)
            segments.append((i, lo, text[lo:hi].rstrip() if i != end.line else text[lo:hi]))
        joiner = " "
    rebuilt = joiner.join(s[2] for s in segments)
    if not segments or rebuilt.rstrip("\n") != node.value.rstrip("\n"):
        return start.line, start.column + quote + (offset if start.line == end.line else 0)
    for line, column, text in segments:
        if offset <= len(text):
            return line, column + offset
        offset -= len(text) + 1
    return start.line, start.column


def decode(
    file: str, data: bytes, limits: Limits | None = None
) -> tuple[str | None, list[Diagnostic]]:
    """A file's bytes as text; its size and every invalid UTF-8 sequence are located errors."""
    limits = limits or Limits()
    if len(data) > limits.file_bytes:
        return None, [_too_large(file, limits)]
    problems: list[Diagnostic] = []
    start = 0
    while len(problems) < MAX_PROBLEMS:
        try:
            data[start:].decode("utf-8")
            break
        except UnicodeDecodeError as exc:
            at = start + exc.start
            line_start = data.rfind(b"\n", 0, at) + 1
            column = len(data[line_start:at].decode("utf-8", "replace")) + 1
            problems.append(
                Diagnostic(
                    file,
                    data.count(b"\n", 0, at) + 1,
                    column,
                    f"invalid UTF-8 (byte 0x{data[at]:02x})",
                    hint="save the file as UTF-8",
                )
            )
            start = start + exc.end
    if problems:
        return None, problems
    return data.decode("utf-8"), []


def _too_large(file: str, limits: Limits) -> Diagnostic:
    return Diagnostic(
        file,
        1,
        1,
        f"the file is larger than {limits.file_bytes} bytes",
        hint="split it into rulesets that extend one another",
    )


def _line_column(text: str, pos: int) -> tuple[int, int]:
    return text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)


def _control_characters(file: str, text: str) -> list[Diagnostic]:
    problems: list[Diagnostic] = []
    for found in _NON_PRINTABLE.finditer(text):
        line, column = _line_column(text, found.start())
        char = found.group()
        problems.append(
            Diagnostic(
                file,
                line,
                column,
                f"control character U+{ord(char):04X} is not allowed",
                hint="delete it; inside a double-quoted string write an escape such as \\t",
            )
        )
        if len(problems) >= MAX_PROBLEMS:
            break
    return problems


def load(
    file: str, text: str, limits: Limits | None = None
) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one YAML file; on failure return no document and every located error."""
    limits = limits or Limits()
    if (
        len(text) > limits.file_bytes
        or len(text.encode("utf-8", "surrogatepass")) > limits.file_bytes
    ):
        return None, [_too_large(file, limits)]
    problems = _control_characters(file, text)
    if problems:
        return None, problems
    composer = _Composer(file, text, limits)
    try:
        node = composer.document()
        if composer.problems:
            return None, composer.problems
        if node is None:
            return None, [
                Diagnostic(file, 1, 1, "the file is empty", hint="start with `ruleset: <name>`")
            ]
        data = _Constructor().construct_document(node)
    except _Stop:
        return None, composer.problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"invalid YAML: {exc.problem or exc.context or 'cannot parse'}"
        return None, [*composer.problems, Diagnostic(file, line, column, message)]
    except yaml.YAMLError as exc:
        return None, [*composer.problems, Diagnostic(file, 1, 1, f"invalid YAML: {exc}")]
    finally:
        composer.dispose()
    doc = Document(file, text, data)
    problems = []
    _index(doc, node, (), problems)
    return doc, problems


_Cap = tuple[int, str, str]  # (max entries, what they are, hint)


class _Stop(Exception):
    """Too many problems in one file: stop reading it."""


class _Constructor(yaml.constructor.SafeConstructor):
    pass


def _event_parser(text: str) -> Any:
    if getattr(yaml, "__with_libyaml__", False):
        return yaml.CSafeLoader(text)
    return yaml.SafeLoader(text)


class _Composer:
    """Events to nodes, like PyYAML's composer, with every :class:`Limits` bound checked
    as the events arrive; anchors and aliases are reported, never resolved."""

    def __init__(self, file: str, text: str, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.events = _event_parser(text)
        self.resolver = _Resolver()
        self.problems: list[Diagnostic] = []

    def dispose(self) -> None:
        self.events.dispose()

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: Any) -> str:
        tag: str = self.resolver.resolve(kind, value, implicit)  # type: ignore[no-untyped-call]
        return tag

    def report(self, mark: Any, message: str, hint: str, path: Path) -> None:
        where = render_path(path)
        self.problems.append(
            Diagnostic(self.file, mark.line + 1, mark.column + 1, message, where, hint)
        )
        if len(self.problems) >= MAX_PROBLEMS:
            raise _Stop

    def document(self) -> yaml.Node | None:
        events = self.events
        events.get_event()  # stream start
        if events.check_event(ev.StreamEndEvent):
            return None
        events.get_event()  # document start
        node = self.node(1, None, ())
        events.get_event()  # document end
        if not events.check_event(ev.StreamEndEvent):
            extra = events.get_event()
            raise yaml.composer.ComposerError(
                "expected a single document in the stream",
                node.start_mark,
                "but found another document",
                extra.start_mark,
            )
        return node

    def node(self, depth: int, cap: _Cap | None, path: Path) -> yaml.Node:
        events = self.events
        event: Any = events.peek_event()
        mark: Any = event.start_mark
        if isinstance(event, ev.AliasEvent):
            events.get_event()
            self.report(mark, f"alias *{event.anchor} is not allowed", NO_ANCHORS_HINT, path)
            return yaml.ScalarNode(_NULL_TAG, "", mark, mark)
        if event.anchor is not None:
            self.report(mark, f"anchor &{event.anchor} is not allowed", NO_ANCHORS_HINT, path)
        if depth > self.limits.depth:
            self.report(
                event.start_mark,
                f"nested deeper than {self.limits.depth} levels",
                "a ruleset needs a handful of levels; check the indentation and brackets here",
                path,
            )
            self.skip()
            return yaml.ScalarNode(_NULL_TAG, "", event.start_mark, event.end_mark)
        if isinstance(event, ev.ScalarEvent):
            return self.scalar(path)
        if isinstance(event, ev.SequenceStartEvent):
            return self.sequence(depth, cap, path)
        return self.mapping(depth, cap, path)

    def scalar(self, path: Path) -> yaml.ScalarNode:
        event = self.events.get_event()
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(yaml.ScalarNode, event.value, event.implicit)
        value = event.value
        if len(value) > self.limits.scalar_chars:
            self.report(
                event.start_mark,
                f"a value longer than {self.limits.scalar_chars} characters",
                "shorten it",
                path,
            )
            value = ""
        elif tag in _NUMBER_TAGS and len(value) > MAX_NUMBER_CHARS:
            self.report(
                event.start_mark,
                f"a number longer than {MAX_NUMBER_CHARS} characters",
                "quote it if it is text",
                path,
            )
            value = "0"
        return yaml.ScalarNode(tag, value, event.start_mark, event.end_mark, style=event.style)

    def entries(self, mark: Any, count: int, cap: _Cap | None, path: Path) -> None:
        """Reports an entry past the cap and stops reading the file (its size is the attack)."""
        limit, what, hint = cap or (self.limits.items, "entries", "split it up")
        if count >= limit:
            self.report(mark, f"more than {limit} {what}", hint, path)
            raise _Stop

    def sequence(self, depth: int, cap: _Cap | None, path: Path) -> yaml.SequenceNode:
        events = self.events
        start = events.get_event()
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(yaml.SequenceNode, None, start.implicit)
        node = yaml.SequenceNode(tag, [], start.start_mark, None, flow_style=start.flow_style)
        while not events.check_event(ev.SequenceEndEvent):
            item = (*path, len(node.value))
            self.entries(events.peek_event().start_mark, len(node.value), cap, item)
            node.value.append(self.node(depth + 1, None, item))
        node.end_mark = events.get_event().end_mark
        return node

    def mapping(self, depth: int, cap: _Cap | None, path: Path) -> yaml.MappingNode:
        events = self.events
        start = events.get_event()
        tag = start.tag
        if tag is None or tag == "!":
            tag = self.resolve(yaml.MappingNode, None, start.implicit)
        node = yaml.MappingNode(tag, [], start.start_mark, None, flow_style=start.flow_style)
        while not events.check_event(ev.MappingEndEvent):
            self.entries(events.peek_event().start_mark, len(node.value), cap, path)
            key = self.node(depth + 1, None, path)
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            inner = self.limits.top_level.get(name) if depth == 1 else None
            node.value.append((key, self.node(depth + 1, inner, (*path, name))))
        node.end_mark = events.get_event().end_mark
        return node

    def skip(self) -> None:
        """Consume one node's events without building it (iteratively: any depth)."""
        events, level = self.events, 0
        while True:
            event = events.get_event()
            if isinstance(event, ev.SequenceStartEvent | ev.MappingStartEvent):
                level += 1
            elif isinstance(event, ev.SequenceEndEvent | ev.MappingEndEvent):
                level -= 1
            if level == 0:
                return


def _index(doc: Document, node: yaml.Node, path: Path, problems: list[Diagnostic]) -> None:
    doc.values[path] = node
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _index(doc, item, (*path, i), problems)
    elif isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = (*path, key)
            if key in seen:
                mark = key_node.start_mark
                problems.append(
                    Diagnostic(
                        doc.file,
                        mark.line + 1,
                        mark.column + 1,
                        f"duplicate key {key!r}",
                        render_path(child),
                        "each key may appear once; remove one of them",
                    )
                )
                continue
            seen.add(key)
            doc.keys[child] = key_node
            _index(doc, value_node, child, problems)
