"""Undo the tricks spammers use to get past keyword filters, before any signal is read. Pure.

``unmask(text)`` returns the text as a reader sees it, and which tricks it undid:

1. ``invisible``: zero-width spaces and joiners, word joiners, soft hyphens,
   bidi controls, Hangul fillers and variation selectors are removed. Counted
   as a trick only when one sits between two letters or digits (a ZWJ inside
   an emoji sequence is normal).
2. ``fullwidth``: NFKC compatibility folding turns ``ｆｒｅｅ``, ``𝐟𝐫𝐞𝐞``,
   ``①`` and ``￥`` into ``free``, ``1`` and ``¥``. Counted when three or more
   full-width or mathematical letters or digits were folded (Chinese text uses
   full-width punctuation all the time; that is not a trick).
3. ``lookalike``: small capitals (``ᴘᴀʏ``) become plain letters, and in a word
   that mixes Latin, Cyrillic and Greek letters the look-alikes are rewritten
   in the word's main script (``Пpивeт`` with Latin p, e -> ``Привет``;
   ``frее`` with Cyrillic е -> ``free``); digits that stand for letters
   inside Cyrillic words (``pa6oтa``) too.
4. ``spaced``: letters spaced out to dodge filters (``f r e e``, ``加 微 信``,
   ``В Л С``) are joined: four or more single letters in a row, three for
   CJK characters.

Every step is linear in the text: the patterns run on RE2
(``firekeeper.rules.linear``), the spaced-out runs are found by a scan (their
rule needs look-around, which RE2 lacks), and the text is first cut to
``SCANNED_CHARS`` code points.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from firekeeper.rules import linear

_INVISIBLE = frozenset(
    "\u00ad\u034f\u115f\u1160\u180e\u200b\u200c\u200d\u200e\u200f"
    "\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
    "\u2066\u2067\u2068\u2069\u3164\ufeff\ufe00\ufe01\ufe02\ufe03"
    "\ufe04\ufe05\ufe06\ufe07\ufe08\ufe09\ufe0a\ufe0b\ufe0c\ufe0d\ufe0e\ufe0f"
)
# Small capitals and other letter-like symbols NFKC leaves alone.
_SMALL_CAPS = str.maketrans(
    {
        "ᴀ": "a", "ʙ": "B", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "H", "ɪ": "i",
        "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "M", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r",
        "ꜱ": "s", "ᴛ": "T", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
        "ᴧ": "л", "ᴨ": "п", "ᴩ": "р", "ʍ": "м", "ɜ": "з",
    }
)  # fmt: skip
# Latin (and Greek) letters that pass for Cyrillic ones, and the other way round.
_TO_CYRILLIC = {
    "a": "а", "c": "с", "e": "е", "o": "о", "p": "р", "x": "х", "y": "у", "k": "к",
    "m": "м", "u": "и", "n": "п", "r": "г", "t": "т", "h": "н", "b": "в",
    "A": "А", "B": "В", "C": "С", "E": "Е", "H": "Н", "K": "К", "M": "М", "O": "О",
    "P": "Р", "T": "Т", "X": "Х", "Y": "У", "ó": "о", "é": "е", "á": "а", "Ó": "О",
    "ë": "ё", "α": "а", "ο": "о", "ε": "е", "ρ": "р", "τ": "т", "κ": "к", "χ": "х",
    "ν": "v", "Α": "А", "Ο": "О", "Ε": "Е", "Ρ": "Р", "Τ": "Т", "Κ": "К", "Χ": "Х",
    "3": "з", "6": "б", "0": "о",
}  # fmt: skip
_TO_LATIN = {
    "а": "a", "с": "c", "е": "e", "о": "o", "р": "p", "х": "x", "у": "y", "к": "k",
    "і": "i", "ј": "j", "ѕ": "s", "ԁ": "d", "һ": "h", "ԛ": "q", "ԝ": "w", "в": "b",
    "А": "A", "В": "B", "С": "C", "Е": "E", "Н": "H", "К": "K", "М": "M", "О": "O",
    "Р": "P", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S",
    "α": "a", "ο": "o", "ε": "e", "ρ": "p", "τ": "t", "κ": "k", "χ": "x", "ν": "v",
    "ι": "i", "υ": "u", "Α": "A", "Ο": "O", "Ε": "E", "Ρ": "P", "Τ": "T", "Κ": "K",
}  # fmt: skip
_WORD = linear.tokens(r"[^\W_]+")
_SPACED_LETTERS = 4  # single letters in a row, each but the last followed by one space
_SPACES = " \u3000"
_SPACED_CJK = linear.compile(
    r"(?:[\u3400-\u9fff\uf900-\ufaff][ \u3000]){2,}[\u3400-\u9fff\uf900-\ufaff]"
)


@dataclass(frozen=True, slots=True)
class Unmasked:
    text: str
    invisible: int = 0  # invisible characters found inside words
    fullwidth: int = 0  # full-width or mathematical letters and digits folded
    lookalike: int = 0  # words whose look-alike letters were rewritten
    words: int = 0  # words in the text
    spaced: int = 0  # runs of spaced-out letters joined

    @property
    def tricks(self) -> tuple[str, ...]:
        names = ("invisible", "fullwidth", "lookalike", "spaced")
        return tuple(n for n in names if getattr(self, n))


def _script(ch: str) -> str:
    if ch.isascii():
        return "latin" if ch.isalpha() else ""
    code = ord(ch)
    if 0x0400 <= code <= 0x04FF:
        return "cyrillic"
    if 0x0370 <= code <= 0x03FF:
        return "greek"
    if 0x00C0 <= code <= 0x024F and ch.isalpha():
        return "latin"
    return ""


def _strip_invisible(text: str) -> tuple[str, int]:
    """The text without invisible characters, and how many sat between two letters or
    digits (a run of them counts each one; one pass, so linear)."""
    inside = pending = 0
    out: list[str] = []
    for ch in text:
        if ch in _INVISIBLE:
            pending += 1
            continue
        if pending:
            if out and out[-1].isalnum() and ch.isalnum():
                inside += pending
            pending = 0
        out.append(ch)
    return "".join(out), inside


def _letter(ch: str) -> bool:
    return ch.isalnum() and not ch.isdecimal()


def _join_spaced(text: str, on_run: Callable[[], Any]) -> str:
    """Join runs of :data:`_SPACED_LETTERS` or more single letters spaced out by one space
    (``f r e e`` -> ``free``), not touching a letter or digit on either side.

    A scan in one pass: at a letter that follows no letter or digit, count the
    letter-space pairs after it. A run of k pairs ends either at its next letter
    (when nothing alphanumeric follows it) or, with one pair fewer, at its last
    pair's letter; positions inside a run that does not qualify are skipped at once.
    """
    n = len(text)
    out: list[str] = []
    i = done = 0
    while i < n:
        if not _letter(text[i]) or (i > 0 and text[i - 1].isalnum()):
            i += 1
            continue
        pairs = 0
        while (
            i + 2 * pairs + 1 < n
            and _letter(text[i + 2 * pairs])
            and text[i + 2 * pairs + 1] in _SPACES
        ):
            pairs += 1
        last = i + 2 * pairs  # the letter that would end a run of all the pairs
        end = -1
        if (
            pairs >= _SPACED_LETTERS - 1
            and last < n
            and _letter(text[last])
            and (last + 1 == n or not text[last + 1].isalnum())
        ):
            end = last + 1
        elif pairs >= _SPACED_LETTERS:
            end = last - 1  # one pair fewer: ends on a letter followed by a space
        if end < 0:
            i = max(i + 1, last)
            continue
        on_run()
        out.append(text[done:i])
        out.append("".join(text[j] for j in range(i, end, 2)))
        i = done = end
    out.append(text[done:])
    return "".join(out)


def _folded_letters(text: str) -> int:
    count = 0
    for ch in text:
        code = ord(ch)
        if (0xFF10 <= code <= 0xFF5A and ch.isalnum()) or 0x1D400 <= code <= 0x1D7FF:
            count += 1
    return count


def _fix_word(word: str) -> str:
    scripts = [_script(c) for c in word]
    latin, cyrillic = scripts.count("latin"), scripts.count("cyrillic")
    greek = scripts.count("greek")
    if (latin > 0) + (cyrillic > 0) + (greek > 0) < 2:
        return word
    # The word's script is told by its letters that have no look-alike in the other one.
    own_latin = sum(
        1 for c, s in zip(word, scripts, strict=True) if s == "latin" and c not in _TO_CYRILLIC
    )
    own_cyrillic = sum(
        1 for c, s in zip(word, scripts, strict=True) if s == "cyrillic" and c not in _TO_LATIN
    )
    cyrillic_word = own_cyrillic > own_latin if own_latin != own_cyrillic else cyrillic >= latin
    table = _TO_CYRILLIC if cyrillic_word else _TO_LATIN
    out = []
    for i, ch in enumerate(word):
        if ch.isdigit():
            inner = 0 < i < len(word) - 1 and word[i - 1].isalpha() and word[i + 1].isalpha()
            out.append(table.get(ch, ch) if inner and table is _TO_CYRILLIC else ch)
        else:
            out.append(table.get(ch, ch))
    return "".join(out)


def unmask(text: str) -> Unmasked:
    """``text`` (its first ``SCANNED_CHARS`` code points) as a reader sees it."""
    text = linear.scanned(text)
    if not text:
        return Unmasked("")
    stripped, invisible = _strip_invisible(text)
    fullwidth = _folded_letters(stripped)
    folded = unicodedata.normalize("NFKC", stripped).translate(_SMALL_CAPS)
    lookalike = 0

    def fix(m: linear.Match) -> str:
        nonlocal lookalike
        fixed = _fix_word(m.group(0))
        if fixed != m.group(0):
            lookalike += 1
        return fixed

    fixed = _WORD.sub(fix, folded)
    spaced = 0

    def count() -> None:
        nonlocal spaced
        spaced += 1

    def join(m: linear.Match) -> str:
        count()
        return str(m.group(0)).replace(" ", "").replace("\u3000", "")

    joined = _SPACED_CJK.sub(join, _join_spaced(fixed, count))
    return Unmasked(
        text=joined,
        invisible=invisible,
        fullwidth=fullwidth if fullwidth >= 3 else 0,
        lookalike=lookalike,
        spaced=spaced,
        words=len(_WORD.findall(joined)),
    )
