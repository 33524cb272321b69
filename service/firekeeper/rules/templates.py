"""Message templates in action ``text``: ``{path}`` placeholders, ``{{``/``}}`` for braces.

A placeholder names a vocabulary path or ``params.<name>``; the compiler checks
them, the decision builder fills them with :func:`render`.

``{mention}`` (warn_user texts only) is not filled here: it stays in the action's
text as it is, and the action names whom it mentions (``Action.mention_user_id``);
the adapter replaces it with the platform's mention of that member (an @-mention,
a link) or their name (docs/adapters.md). A value rendered into a text never
produces it (a display name ``{mention}`` is shown as ``{ mention }``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable

MENTION = "mention"
MENTION_TOKEN = "{mention}"


class TemplateError(ValueError):
    def __init__(self, message: str, pos: int) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def placeholders(text: str) -> tuple[list[tuple[str, int]], TemplateError | None]:
    """``(path, offset of the path)`` of each placeholder, and the first syntax error if any
    (placeholders before it are still listed)."""
    found: list[tuple[str, int]] = []

    def collect(path: str, pos: int) -> str:
        found.append((path, pos))
        return ""

    try:
        _walk(text, collect)
    except TemplateError as exc:
        return found, exc
    return found, None


def render(text: str, value: Callable[[str], str]) -> str:
    """``text`` with every placeholder replaced by ``value(path)``."""
    literals, paths = _parsed(text)
    if not paths:
        return literals[0]
    out = [literals[0]]
    for path, literal in zip(paths, literals[1:], strict=True):
        out.append(value(path))
        out.append(literal)
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A template as its literal pieces and the paths between them (``len(paths) + 1``
    literals), parsed once: rulesets hold a bounded set of texts."""
    literals: list[str] = []
    paths: list[str] = []
    pending: list[str] = []

    def cut(path: str, _pos: int) -> str:
        literals.append("".join(pending))
        pending.clear()
        paths.append(path)
        return ""

    def collect(piece: str) -> None:
        pending.append(piece)

    _walk(text, cut, collect)
    literals.append("".join(pending))
    return tuple(literals), tuple(paths)


def _walk(
    text: str, on_field: Callable[[str, int], str], on_text: Callable[[str], None] | None = None
) -> str:
    """``on_text``: told each literal character (a brace for ``{{``/``}}``), in order."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if text.startswith(("{{", "}}"), i):
            out.append(c)
            if on_text is not None:
                on_text(c)
            i += 2
        elif c == "{":
            end = text.find("}", i + 1)
            if end < 0:
                raise TemplateError("unclosed '{' in the text (write {{ for a brace)", i)
            path = text[i + 1 : end]
            start = i + 1 + (len(path) - len(path.lstrip()))
            if not path.strip() or "{" in path:
                raise TemplateError("empty or broken placeholder (write {{ for a brace)", i)
            out.append(on_field(path.strip(), start))
            i = end + 1
        elif c == "}":
            raise TemplateError("unmatched '}' in the text (write }} for a brace)", i)
        else:
            out.append(c)
            if on_text is not None:
                on_text(c)
            i += 1
    return "".join(out)
