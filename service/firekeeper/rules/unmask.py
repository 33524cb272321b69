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

The patterns here are fixed (not authors'), so the stdlib ``re`` is safe.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

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
_WORD = re.compile(r"[^\W_]+")
_SPACED = re.compile(r"(?<![^\W_])(?:[^\W\d_][ \u3000]){3,}[^\W\d_](?![^\W_])")
_SPACED_CJK = re.compile(
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
    inside = 0
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch not in _INVISIBLE:
            out.append(ch)
            continue
        before = out[-1] if out else ""
        after = next((c for c in text[i + 1 :] if c not in _INVISIBLE), "")
        if before.isalnum() and after.isalnum():
            inside += 1
    return "".join(out), inside


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
    if not text:
        return Unmasked("")
    stripped, invisible = _strip_invisible(text)
    fullwidth = _folded_letters(stripped)
    folded = unicodedata.normalize("NFKC", stripped).translate(_SMALL_CAPS)
    lookalike = 0

    def fix(m: re.Match[str]) -> str:
        nonlocal lookalike
        fixed = _fix_word(m.group(0))
        if fixed != m.group(0):
            lookalike += 1
        return fixed

    fixed = _WORD.sub(fix, folded)
    spaced = 0

    def join(m: re.Match[str]) -> str:
        nonlocal spaced
        spaced += 1
        return m.group(0).replace(" ", "").replace("\u3000", "")

    joined = _SPACED_CJK.sub(join, _SPACED.sub(join, fixed))
    return Unmasked(
        text=joined,
        invisible=invisible,
        fullwidth=fullwidth if fullwidth >= 3 else 0,
        lookalike=lookalike,
        spaced=spaced,
        words=len(_WORD.findall(joined)),
    )
