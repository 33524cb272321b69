"""House rules: clauses that forbid something ("No ads", "禁止发广告"). Pure.

A rules notice names what it forbids: "no ads, no DM-me offers, no referral
codes", "禁止发广告、二维码、私加好友". Read for promotion signals, those words
look like an ad; read as people read them, they are the opposite. So
:func:`outside_prohibitions` blanks every clause that opens with (or carries) a
prohibition and holds nothing concrete, and the promotion signals read what is
left (``firekeeper.areas.screening.pure.features``).

A clause is the text between two of ``。！？；，：`` or line breaks, or of
``.;!?,:`` followed by a space (not in ``1,000`` or ``https://``); a
list of things forbidden in Chinese ("禁止广告、二维码、拉人") is one clause. A
prohibition covers only its own clause: "No spam here, DM me for signals" keeps
its second half. "Don't miss", "不要错过" and the like exhort, they do not
forbid. A clause is never blanked when it holds something
only an ad holds: a link, a contact id or phone number (five digits or more), a
price, or an @handle. "严禁广告 加v:abc123" keeps its handle, so an ad wearing a
rule's words is still read whole, and so is one that disguises its letters or
carries an ad's own disclaimer ("群发勿踢"): ``firekeeper.areas.screening.pure.features`` reads
those whole.

The patterns run on RE2 (``firekeeper.rules.linear``); one pass over the first
``SCANNED_CHARS`` code points.
"""

from __future__ import annotations

from firekeeper.rules import linear

_PROHIBITION = linear.any_of(
    r"\bno\s+(?:more\s+)?[a-z]",
    r"\b(?:don'?t|do\s+not|never|please\s+don'?t|please\s+do\s+not|avoid|stop)\b",
    r"\b(?:not\s+(?:allowed|permitted|welcome|ok)|forbidden|prohibited|banned|won'?t\s+be\s+tolerated)\b",
    r"\b(?:will\s+be|are|get|gets)\s+(?:removed|deleted|banned|kicked|muted)\b",
    r"\bzero\s+tolerance\b",
    r"禁止|严禁|不要|不许|不准|不得|不可以|不能|请勿|切勿|杜绝|拒绝|违者|违规|一律|谢绝",
)
# "Don't miss", "不要错过": an ad's urgency, or a reminder; "no scam, no delay": an
# ad's assurances. Not rules.
_EXHORTATION = linear.any_of(
    r"\b(?:don'?t|do\s+not|never)\s+(?:miss|forget|hesitate|wait|worry|be\s+late)\b",
    r"\bno\s+(?:scams?|delays?|risks?|fees?|deposits?|upfront|experience|investment|stress|limits?|hidden)\b",
    r"(?:不要|别|切勿|不能)(?:错过|忘了|忘记|犹豫|再等|迟到)",
)
_CONCRETE = linear.any_of(
    r"https?://|www\.",
    r"\b[a-z0-9-]+\.(?:com|net|org|io|me|cn|ly|gg|cc|co|shop|store|top|xyz|link)\b",
    r"\d{5,}",
    r"[$¥€£₽￥]\s?\d|\d\s?(?:元|块|rmb|usd|usdt)",
    r"@[a-z0-9_]{3,}",
    r"(?:v|vx|wx|微信|qq)\s?[:：]\s?[a-z0-9_-]{5,}",
)
_CLAUSE_END = frozenset("。！？；，：\n")  # wide punctuation ends a clause wherever it is
_ASCII_END = frozenset(".;!?,:")  # ASCII ends one before a space: not in 1,000 or https://


def _clauses(text: str) -> list[tuple[int, int]]:
    """(start, end) of each clause: a sentence, or a comma-separated part of one."""
    out: list[tuple[int, int]] = []
    start = 0
    n = len(text)
    for i, ch in enumerate(text):
        if ch in _CLAUSE_END or (ch in _ASCII_END and (i + 1 == n or text[i + 1].isspace())):
            out.append((start, i))
            start = i + 1
    out.append((start, len(text)))
    return out


def outside_prohibitions(text: str) -> str:
    """``text`` with every clause that forbids something (and holds nothing concrete)
    replaced by spaces, so what a rule names is not read as what it offers."""
    text = linear.scanned(text)
    if _PROHIBITION.search(text) is None:
        return text
    out = list(text)
    for start, end in _clauses(text):
        clause = text[start:end]
        if _forbids(clause) and _CONCRETE.search(clause) is None:
            out[start:end] = " " * (end - start)
    return "".join(out)


def _forbids(clause: str) -> bool:
    return _PROHIBITION.search(clause) is not None and _EXHORTATION.search(clause) is None


def states_rules(text: str) -> bool:
    """The text forbids something (one prohibition is enough: "No selling here"); "don't
    miss" and "不要错过" are urgency or reminders, not rules."""
    text = linear.scanned(text)
    if _PROHIBITION.search(text) is None:
        return False
    return any(_forbids(text[start:end]) for start, end in _clauses(text))
