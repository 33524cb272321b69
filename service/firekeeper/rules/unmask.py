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
   CJK characters (single Latin letters among them too: ``加 V 信``); CJK
   characters split by dots, stars, dashes, bars, slashes or tildes
   (``加.微.信``, ``威*信``) are joined when the run stands alone (no letter
   right before or after it, so ``男/女/不限`` is left as it is).
5. ``digit_signs``: circled, negative-circled, dingbat and keycap digits
   (``❸❶❾``, ``3️⃣1️⃣9️⃣``, ``🔟``) become digits (NFKC already folds ``①``,
   ``⒈`` and ``𝟏``). Counted when three or more such signs stand together:
   a numbered list (``① ... ② ...``) is no trick.
6. ``numerals``: a run of six or more Chinese numerals used as digits
   (``三一九四七零四八七七``, ``叁壹玖``, ``幺``; ``十``/``百`` are not digits,
   so ``一九四九年`` and amounts stay words) becomes digits.

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
_FOLDABLE = linear.tokens("[\uff10-\uff5a\U0001d400-\U0001d7ff]")  # see _folded_letters
_MIXABLE = linear.tokens("[\u0370-\u04ff]")  # Greek and Cyrillic (see _script)
_SPACED_HINT = linear.compile(r"\S[ \u3000]\S[ \u3000]\S[ \u3000]\S")
_SPACED_CJK = linear.compile(
    r"(?:[\u3400-\u9fff\uf900-\ufaff][ \u3000]){2,}[\u3400-\u9fff\uf900-\ufaff]"
)


# Digit signs NFKC leaves alone: negative circled, dingbat circled, double circled, keycap ten.
_DIGIT_SIGNS: dict[str, str] = {"\u24ff": "0", "\U0001f51f": "10"}
for _base, _count in ((0x2776, 10), (0x2780, 10), (0x278A, 10), (0x24F5, 10)):
    for _k in range(_count):
        _DIGIT_SIGNS[chr(_base + _k)] = str(_k + 1)
for _k in range(10):
    _DIGIT_SIGNS[chr(0x24EB + _k)] = str(_k + 11)  # negative circled 11..20
_CIRCLED = frozenset(chr(c) for c in (*range(0x2460, 0x2474), 0x24EA))  # ①..⑳, ⓪ (NFKC folds them)
_KEYCAP = "\u20e3"
# Characters whose absence lets a step be skipped (a set test runs in C: most texts skip).
_SIGN_CHARS = frozenset(_DIGIT_SIGNS) | _CIRCLED | {"\ufe0f", _KEYCAP}
_NUMERAL_CHARS = frozenset("零〇一二三四五六七八九壹贰貳叁參肆伍陆陸柒捌玖幺")
_PUNCTUATION_SEPARATORS = frozenset(".·•*_-|/~")
_NUMERALS = str.maketrans(
    {
        "零": "0", "〇": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6",
        "七": "7", "八": "8", "九": "9", "壹": "1", "贰": "2", "貳": "2", "叁": "3", "參": "3",
        "肆": "4", "伍": "5", "陆": "6", "陸": "6", "柒": "7", "捌": "8", "玖": "9", "幺": "1",
    }
)  # fmt: skip
_NUMERAL_RUN = linear.compile("[0-9零〇一二三四五六七八九壹贰貳叁參肆伍陆陸柒捌玖幺]{6,}")
_MIN_NUMERALS = 2  # a run with fewer Chinese numerals is a number with a word beside it
_CJK = "\u3400-\u9fff\uf900-\ufaff"
_SPACED_MIXED = linear.compile(rf"(?:[{_CJK}A-Za-z][ \u3000]){{2,}}[{_CJK}A-Za-z]")
_PUNCTUATED_CJK = linear.compile(rf"(?:^|[\W_])((?:[{_CJK}][.·•*_\-|/~]){{2,}}[{_CJK}])(?:$|[\W_])")


@dataclass(frozen=True, slots=True)
class Unmasked:
    text: str
    invisible: int = 0  # invisible characters found inside words
    fullwidth: int = 0  # full-width or mathematical letters and digits folded
    lookalike: int = 0  # words whose look-alike letters were rewritten
    words: int = 0  # words in the text
    spaced: int = 0  # runs of spaced-out letters joined
    digit_signs: int = 0  # runs of three or more circled / keycap digits read as digits
    numerals: int = 0  # runs of Chinese numerals read as digits

    @property
    def tricks(self) -> tuple[str, ...]:
        names = ("invisible", "fullwidth", "lookalike", "spaced", "digit_signs", "numerals")
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
    if _INVISIBLE.isdisjoint(text):
        return text, 0
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


def _read_digit_signs(text: str) -> tuple[str, int]:
    """Circled and keycap digits as digits, and how many runs of three or more such
    signs there were (one pass, so linear)."""
    out: list[str] = []
    runs = signs = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        sign = None
        if ch in _DIGIT_SIGNS:
            sign, step = _DIGIT_SIGNS[ch], 1
        elif ch in _CIRCLED:
            sign, step = ch, 1  # NFKC folds it later
        elif "0" <= ch <= "9" and i + 1 < n and text[i + 1] in ("\ufe0f", _KEYCAP):
            step = 2 if text[i + 1] == _KEYCAP else 3 if i + 2 < n and text[i + 2] == _KEYCAP else 0
            if step:
                sign = ch
        if sign is None:
            if ch.strip() and ch not in _INVISIBLE:
                runs += signs >= 3
                signs = 0
            out.append(ch)
            i += 1
            continue
        signs += 1
        out.append(sign)
        i += step
    runs += signs >= 3
    return "".join(out), runs


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
    if not _FOLDABLE.search(text):
        return 0
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


def _join_mixed(text: str) -> tuple[str, int]:
    """Join runs of single CJK characters and Latin letters spaced out (``加 V 信``) that
    hold at least two CJK characters; a Latin letter at either end that belongs to a
    longer word (``I am 加 V 信``) stays out of the run."""
    out: list[str] = []
    done = runs = 0
    for m in _SPACED_MIXED.finditer(text):
        start, end = m.span()
        if (
            text[start].isascii()
            and start > 0
            and text[start - 1].isascii()
            and text[start - 1].isalnum()
        ):
            start += 2
        if (
            text[end - 1].isascii()
            and end < len(text)
            and text[end].isascii()
            and text[end].isalnum()
        ):
            end -= 2
        run = text[start:end]
        letters = run[::2]
        if len(letters) < 3 or sum(1 for ch in letters if not ch.isascii()) < 2:
            continue
        runs += 1
        out.append(text[done:start])
        out.append(letters)
        done = end
    out.append(text[done:])
    return "".join(out), runs


def unmask(text: str) -> Unmasked:
    """``text`` (its first ``SCANNED_CHARS`` code points) as a reader sees it."""
    text = linear.scanned(text)
    if not text:
        return Unmasked("")
    signed, digit_signs = (text, 0) if _SIGN_CHARS.isdisjoint(text) else _read_digit_signs(text)
    stripped, invisible = _strip_invisible(signed)
    fullwidth = _folded_letters(stripped)
    folded = unicodedata.normalize("NFKC", stripped).translate(_SMALL_CAPS)
    lookalike = 0

    def fix(m: linear.Match) -> str:
        nonlocal lookalike
        fixed = _fix_word(m.group(0))
        if fixed != m.group(0):
            lookalike += 1
        return fixed

    # words mixing scripts need a Cyrillic or Greek letter: most texts have none
    fixed = _WORD.sub(fix, folded) if _MIXABLE.search(folded) else folded
    spaced = 0

    def count() -> None:
        nonlocal spaced
        spaced += 1

    def join(m: linear.Match) -> str:
        count()
        return str(m.group(0)).replace(" ", "").replace("\u3000", "")

    def join_punctuated(m: linear.Match) -> str:
        count()
        whole, run = str(m.group(0)), str(m.group(1))
        return whole.replace(run, "".join(ch for ch in run if ch.isalnum()))

    # a spaced-out run holds four non-spaces each but the last followed by one space
    joined = _join_spaced(fixed, count) if _SPACED_HINT.search(fixed) else fixed
    joined = _SPACED_CJK.sub(join, joined)
    if " " in joined or "\u3000" in joined:
        joined, mixed = _join_mixed(joined)
        spaced += mixed
    if not _PUNCTUATION_SEPARATORS.isdisjoint(joined):
        joined = _PUNCTUATED_CJK.sub(join_punctuated, joined)
    numerals = 0

    def read_numerals(m: linear.Match) -> str:
        nonlocal numerals
        run = str(m.group(0))
        if sum(1 for ch in run if not ch.isascii()) < _MIN_NUMERALS:
            return run
        numerals += 1
        return run.translate(_NUMERALS)

    if not _NUMERAL_CHARS.isdisjoint(joined):
        joined = _NUMERAL_RUN.sub(read_numerals, joined)
    return Unmasked(
        text=joined,
        invisible=invisible,
        fullwidth=fullwidth if fullwidth >= 3 else 0,
        lookalike=lookalike,
        spaced=spaced,
        words=len(_WORD.findall(joined)),
        digit_signs=digit_signs,
        numerals=numerals,
    )
