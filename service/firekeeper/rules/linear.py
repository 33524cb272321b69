"""The built-in patterns on user text, compiled with RE2 so they run in linear time. Pure.

Every fixed pattern the service runs on message text, bios, answers, display
names and notices goes through :func:`compile`: RE2 has no backtracking, so
no input can make a match take more than linear time (Python's ``re`` took
minutes on 16 KB of digits). Texts given to the built-in checks are also cut
to :data:`SCANNED_CHARS` code points (:func:`scanned`).

The patterns are written in Python's syntax with its Unicode meaning of the
shorthand classes, and translated here into what RE2 understands, so they read
(and are tested, ``tests/rules/test_linear.py``) exactly like the ``re``
patterns they replaced:

- ``\\w`` / ``\\W``: ``[\\pL\\pN_]`` and its complement (RE2's are ASCII only);
- ``\\d``: ``\\p{Nd}``; ``\\s``: the characters ``str.isspace`` accepts;
- ``\\b``: RE2 has no Unicode word boundary and no look-around, so a ``\\b``
  that opens a word (at the start, after ``|`` or ``(``) becomes "start of
  text or one non-word character", and one that closes a word becomes "end of
  text or one non-word character". The boundary character is then part of
  the match, which does not change whether a pattern is found; patterns that
  extract text put what they extract in a group.

Look-around and back-references are refused (RE2 cannot run them in linear
time); rewrite such a pattern as a scan (see ``firekeeper.rules.unmask``).

Tokenizers (``[^\\W_]+``, a CJK run, one CJK character) find hundreds of matches
in one text, and RE2's Python binding costs about 20 us a match, against well
under one for ``re``. A pattern that is only one character class repeated (or
an alternation of such) has nothing to backtrack into, since each attempt
either takes the whole run or fails at its first character, so :func:`tokens`
compiles it with ``re`` after checking that shape. Both kinds are timed on
adversarial texts by ``tests/rules/test_text_timing.py``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Final, Protocol, cast

import re2

SCANNED_CHARS: Final = 4096
"""Code points of one text the built-in checks read. 4096 is the longest message
Telegram sends (Discord's is 2000 and 4000, a Telegram bio is 70 or 140), so
no ordinary text is cut; what lies past it is not scanned for links, promotion
signals, topic or notice structure. ``message.length`` and
``message.line_count`` still measure the whole text, so a rule can act on a
text that is very long."""


def scanned(text: str) -> str:
    """The part of ``text`` the built-in checks read."""
    return text[:SCANNED_CHARS]


class Match(Protocol):
    def group(self, index: int = 0) -> str: ...
    def span(self, index: int = 0) -> tuple[int, int]: ...


class Pattern(Protocol):
    """What the checks use of a compiled RE2 pattern (``re2._Regexp``)."""

    @property
    def pattern(self) -> str: ...
    def search(self, text: str) -> Match | None: ...
    def match(self, text: str) -> Match | None: ...
    def finditer(self, text: str) -> Iterator[Match]: ...
    def findall(self, text: str) -> list[Any]: ...
    def sub(self, repl: str | Callable[[Match], str], text: str) -> str: ...


_WORD = r"\pL\pN_"
_SPACE = r"\t-\r\x{1c}-\x{1f}\x{85}\p{Z}"
_OPEN = rf"(?:^|[^{_WORD}])"
_CLOSE = rf"(?:$|[^{_WORD}])"
_IN_CLASS = {"w": _WORD, "d": r"\p{Nd}", "s": _SPACE}
# Whole classes built on \W, which RE2 cannot put inside a class.
_IDIOMS = {
    r"[^\W_]": r"[\pL\pN]",  # letters and digits
    r"[\W_]": r"[^\pL\pN]",
    r"[^\W\d_]": r"[\pL\p{Nl}\p{No}]",  # letters
}
_OUTSIDE = {
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
}


class PatternSyntax(ValueError):
    """A built-in pattern that cannot run in linear time, or that this module cannot translate."""


def translate(source: str) -> str:
    """RE2 syntax with the Unicode meaning Python's ``re`` gives ``source``."""
    out: list[str] = []
    i, n = 0, len(source)
    in_class = False
    while i < n:
        ch = source[i]
        if not in_class and ch == "[":
            idiom = next((k for k in _IDIOMS if source.startswith(k, i)), None)
            if idiom is not None:
                out.append(_IDIOMS[idiom])
                i += len(idiom)
                continue
        if ch == "\\" and i + 1 < n:
            nxt = source[i + 1]
            i += 2
            if nxt in "uU":
                digits = 4 if nxt == "u" else 8
                out.append(f"\\x{{{source[i : i + digits]}}}")
                i += digits
                continue
            if in_class:
                if nxt in _IN_CLASS:
                    out.append(_IN_CLASS[nxt])
                elif nxt in "WDSb":
                    raise PatternSyntax(f"\\{nxt} inside a character class in {source!r}")
                else:
                    out.append("\\" + nxt)
            elif nxt == "b":
                prev = "".join(out)
                opens = not prev or prev.endswith(("|", "(", "(?:", "^")) or _after_flags(prev)
                out.append(_OPEN if opens else _CLOSE)
            elif nxt in _OUTSIDE:
                out.append(_OUTSIDE[nxt])
            elif nxt.isdigit() or nxt == "B":
                raise PatternSyntax(f"\\{nxt} (a back-reference or \\B) in {source!r}")
            elif nxt == "Z":
                out.append("\\z")
            else:
                out.append("\\" + nxt)
            continue
        if in_class:
            if ch == "]":
                in_class = False
        elif ch == "[":
            in_class = True
            out.append(ch)
            i += 1
            if i < n and source[i] == "^":
                out.append("^")
                i += 1
            if i < n and source[i] == "]":  # a literal ] first in a class
                out.append("\\]")
                i += 1
            continue
        elif ch == "(" and source.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            raise PatternSyntax(f"look-around in {source!r}: RE2 cannot run it; write a scan")
        out.append(ch)
        i += 1
    return "".join(out)


def _after_flags(prev: str) -> bool:
    """``prev`` ends with an inline flag group such as ``(?i)``."""
    if not prev.endswith(")"):
        return False
    start = prev.rfind("(?")
    return start >= 0 and prev[start + 2 : -1].isalpha()


def _options(*, ignore_case: bool) -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.case_sensitive = not ignore_case
    return options


@dataclass(frozen=True, slots=True)
class Compiled:
    """One built-in pattern as compiled here, for the tests that hold them to their word."""

    source: str  # as written, in Python's syntax
    rewritten: str  # what RE2 was given ("" on re)
    ignore_case: bool
    pattern: Pattern
    module: str  # the module that compiled it
    engine: str  # "re2", or "re" for a tokenizer


_REGISTRY: list[Compiled] = []


def _caller(depth: int) -> str:
    return str(sys._getframe(depth + 1).f_globals.get("__name__", ""))


_UNANCHORED: Final = re2._Anchor.UNANCHORED
_NOT_FOUND: Final = (-1, -1)
_last: tuple[str, bytes] = ("", b"")  # the text searched last, and its UTF-8


def _utf8(text: str) -> bytes:
    """``text`` in UTF-8, encoded once however many patterns search it in a row (the
    text searched last is kept; the swap of one tuple is safe across threads)."""
    global _last
    last = _last
    if last[0] is text:
        return last[1]
    data = text.encode("utf-8")
    _last = (text, data)
    return data


class _Searched:
    """An RE2 pattern whose :meth:`search` tells "not found" with one call into RE2.

    The binding's ``search`` encodes the text again for every pattern and maps byte
    offsets back to characters through a generator; most searches on a message find
    nothing (the check patterns look for what ordinary chat lacks), so they are worth
    answering directly: the last text's UTF-8 is kept and shared by the patterns that
    search it in turn, and RE2 is asked only whether there is a match. A match is then
    found again through the binding, for its groups and spans. Same RE2 program, same
    answers; everything else is the binding's own."""

    __slots__ = ("_program", "_regexp", "match", "pattern")

    def __init__(self, regexp: Any) -> None:
        self._regexp = regexp
        self._program = regexp._regexp
        self.pattern: str = regexp.pattern
        self.match = regexp.match

    def _found(self, text: str) -> bool:
        data = _utf8(text)
        return bool(self._program.Match(_UNANCHORED, data, 0, len(data))[0] != _NOT_FOUND)

    def search(self, text: str) -> Match | None:
        return cast(Match | None, self._regexp.search(text)) if self._found(text) else None

    def finditer(self, text: str) -> Iterator[Match]:
        return cast(Iterator[Match], self._regexp.finditer(text)) if self._found(text) else iter(())

    def findall(self, text: str) -> list[Any]:
        return cast(list[Any], self._regexp.findall(text)) if self._found(text) else []

    def sub(self, repl: str | Callable[[Match], str], text: str) -> str:
        return cast(str, self._regexp.sub(repl, text)) if self._found(text) else text


def compile(source: str, *, ignore_case: bool = False, _depth: int = 1) -> Pattern:
    """``source`` (Python syntax, see the module docstring) as an RE2 pattern."""
    rewritten = translate(source)
    try:
        compiled = re2.compile(rewritten, _options(ignore_case=ignore_case))
    except re2.error as exc:
        raise PatternSyntax(f"RE2 refuses {source!r}: {exc}") from None
    pattern: Pattern = _Searched(compiled)
    _REGISTRY.append(Compiled(source, rewritten, ignore_case, pattern, _caller(_depth), "re2"))
    return pattern


SET_MAX_MEM: Final = 32 << 20
"""RE2 memory of one :class:`PatternSet` (its program and its DFA's cache of states)."""


class PatternSet:
    """Which of several built-in patterns occur in a text, in one pass (RE2's ``Set``).

    A message is read by a dozen check patterns that mostly find nothing; each
    search is one call through the binding, which costs several times what RE2's
    DFA spends on a chat message. A set answers for all of them with one call.
    The members stay patterns of their own (compiled and registered by
    :func:`compile`, so ``tests/rules/test_linear.py`` holds each to its word);
    the set is made of their RE2 sources, each with its own case rule.

    Out of memory: a set runs only on RE2's DFA (no fallback to the NFA, and its
    ``Match`` cannot tell "out of memory" from "nothing found"). RE2 checks when
    the set compiles that the DFA can run in :data:`SET_MAX_MEM`, and refuses to
    compile otherwise (:class:`PatternSyntax` here, at import, never a silent
    miss). Past that check the DFA has room for at least twenty of its largest
    states; when its cache fills during a search it empties it and goes on (a
    set's DFA never gives up for slowness), so a search cannot fail midway: the
    cost stays linear in the text, the memory within the bound."""

    __slots__ = ("_match", "_set", "members")

    def __init__(self, members: tuple[Pattern, ...], max_mem: int = SET_MAX_MEM) -> None:
        entries = {id(c.pattern): c for c in _REGISTRY}
        options = _options(ignore_case=False)
        options.max_mem = max_mem
        self._set = re2.Set.SearchSet(options)
        self.members = members
        for member in members:
            entry = entries.get(id(member))
            if entry is None or entry.engine != "re2":
                raise PatternSyntax(f"{member.pattern!r} was not compiled by linear.compile")
            source = f"(?i:{entry.rewritten})" if entry.ignore_case else entry.rewritten
            try:
                self._set.Add(source)
            except re2.error as exc:
                raise PatternSyntax(f"RE2 refuses {entry.source!r} in a set: {exc}") from None
        try:
            self._set.Compile()
        except re2.error as exc:
            raise PatternSyntax(
                f"RE2 cannot run a set of {len(members)} patterns in {max_mem} bytes: {exc}"
            ) from None
        # the binding's own object: its wrapper encodes the text again and says None for none
        self._match = self._set._set.Match

    def found(self, text: str) -> frozenset[int]:
        """The positions in :attr:`members` of the patterns found in ``text``."""
        return frozenset(self._match(_utf8(text)))


_SETS: list[PatternSet] = []


def pattern_set(*members: Pattern) -> PatternSet:
    """One :class:`PatternSet` of patterns compiled by :func:`compile` (or :func:`any_of`)."""
    made = PatternSet(members)
    _SETS.append(made)
    return made


def pattern_sets() -> tuple[PatternSet, ...]:
    """Every set made by :func:`pattern_set` so far, for the tests that hold them to their
    members' answers."""
    return tuple(_SETS)


def any_of(*sources: str, ignore_case: bool = True) -> Pattern:
    """One pattern that finds any of ``sources``.

    Each Unicode word boundary costs RE2 some 1,350 instructions (the class of
    every letter and digit), and a pattern of fifty of them outgrows RE2's DFA
    memory, which makes it fall back to a matcher ten times slower. So the
    sources that open (or open and close) with ``\\b`` and have no ``|`` of
    their own share one boundary: ``\\bA\\b|\\bB\\b`` is ``\\b(?:A|B)\\b``.
    """
    groups: dict[tuple[bool, bool], list[str]] = {}
    rest: list[str] = []
    for source in sources:
        opens = source.startswith("\\b") and not _top_level_bar(source)
        if not opens:
            rest.append(source)
            continue
        body = source[2:]
        closes = body.endswith("\\b") and not body.endswith("\\\\b")
        groups.setdefault((True, closes), []).append(body[:-2] if closes else body)
    parts = [
        "\\b(?:" + "|".join(f"(?:{b})" for b in bodies) + ")" + ("\\b" if closes else "")
        for (_, closes), bodies in groups.items()
    ]
    joined = "|".join(f"(?:{s})" for s in (*parts, *rest))
    return compile(joined, ignore_case=ignore_case, _depth=2)


def _top_level_bar(source: str) -> bool:
    """``source`` has a ``|`` outside every group and class."""
    depth, i, in_class = 0, 0, False
    while i < len(source):
        ch = source[i]
        if ch == "\\":
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
        i += 1
    return False


_RUN = r"(?:\[(?:\\.|[^\]\\])+\]|\\[wWdDsS]|[^\\|()\[\]{}*+?.^$])(?:\+|\{\d+,?\d*\})?"
_TOKENS_SHAPE = re.compile(rf"{_RUN}(?:\|{_RUN})*")


def tokens(source: str) -> Pattern:
    """A tokenizer: one character class repeated, or an alternation of such, on ``re``."""
    if _TOKENS_SHAPE.fullmatch(source) is None:
        raise PatternSyntax(f"{source!r} is not one character class repeated: use compile()")
    pattern = cast(Pattern, re.compile(source))  # the methods used are the same
    _REGISTRY.append(Compiled(source, "", False, pattern, _caller(1), "re"))
    return pattern


def compiled() -> tuple[Compiled, ...]:
    """Every pattern compiled here so far, with the module that compiled it."""
    return tuple(_REGISTRY)
