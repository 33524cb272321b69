"""Ruleset YAML text to Python data, keeping where every value came from.

The loader is PyYAML's safe loader with YAML 1.2 booleans: only ``true`` and
``false`` are booleans, so ``on:`` and ``mode: off`` stay strings. Duplicate
keys are errors. :class:`Document` maps a document path such as
``("rules", 2, "when")`` to a 1-based line and column, and an offset inside a
string value (a condition, a message template) to its line and column too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import yaml

from firekeeper.errors import Diagnostic

Path = tuple[str | int, ...]

_BOOL_TAG = "tag:yaml.org,2002:bool"


class _Loader(yaml.SafeLoader):
    pass


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
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
            line, column = _scalar_offset(self.text.splitlines(), node, offset)
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


def load(file: str, text: str) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one YAML file; on failure return no document and the located error."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [
                Diagnostic(file, 1, 1, "the file is empty", hint="start with `ruleset: <name>`")
            ]
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        message = f"invalid YAML: {exc.problem or exc.context or 'cannot parse'}"
        return None, [Diagnostic(file, line, column, message)]
    except yaml.YAMLError as exc:
        return None, [Diagnostic(file, 0, 0, f"invalid YAML: {exc}")]
    finally:
        loader.dispose()
    doc = Document(file, text, data)
    problems: list[Diagnostic] = []
    _index(doc, node, (), problems)
    return doc, problems


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
