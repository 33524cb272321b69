"""Announcements checked for designed communication. Pure.

The article's sixth death pose: notices "too long to be too lazy to read;
either too short [and] a bunch of questions", which leave members unable to
"obtain the most critical information with the simplest thinking". So a notice
(an announcement, a pinned message, a chat's announcement text) is measured:

- reading time: CJK at 300 characters a minute, other text at 240 words a
  minute (ordinary silent-reading speeds); a notice over a minute is long;
- the first line: what a phone shows in the chat list and notification. It is
  clear when it is short (display width <= 60, about 30 Chinese characters)
  and says something: not only a greeting or a label such as "Notice" / "通知";
- a wall of text: a single line (paragraph) wider than 240 display columns,
  four or more lines on a phone, with no breaks in it;
- too short: under 20 display columns and no time, date or number in it, the
  "bunch of questions" kind ("Meeting moved!").

The owner gets a concrete suggestion built from these measurements, in the
notice's own script (Chinese for a mostly-CJK notice), never a deletion.

A notice is measured on its first ``SCANNED_CHARS`` code points (RE2 patterns,
``firekeeper.rules.linear``); its ``length`` is that of the whole text, and a
notice that long reads in over a minute, so it is ``too_long`` anyway.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from firekeeper.rules import linear
from firekeeper.rules.textmatch import fold

LONG_SECONDS = 60
CLEAR_FIRST_LINE = 60  # display columns
WALL_LINE = 240  # display columns
SHORT = 20  # display columns

_CJK = linear.tokens(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WORDS = linear.tokens(r"[^\W_]+")
_DETAIL = linear.compile(
    r"\d|[一二三四五六七八九十]+[点號号日月]|明天|后天|今晚|周[一二三四五六日天]|星期"
)
_GREETING = linear.compile(
    r"(?i)^[\W_]*(?:(?:hi|hello|hey|dear|good (?:morning|evening|afternoon))"
    r"(?:[\W_]+(?:all|everyone|everybody|friends|folks|members|guys|team|readers))?|"
    r"(?:notice|announcement|important|update|reminder|attention|fyi|pinned)|"
    r"大家好|各位(?:群友|朋友|家人|伙伴|同学|亲)?(?:们)?(?:好)?|亲爱的.{0,6}|"
    r"(?:重要)?(?:通知|公告|提醒|注意)|群公告)[\W_]*$"
)


def width(text: str) -> int:
    """Display columns: wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


@dataclass(frozen=True, slots=True)
class NoticeCheck:
    length: int  # characters, stripped
    line_count: int  # non-empty lines
    reading_seconds: int
    first_line: str
    first_line_width: int
    first_line_clear: bool
    longest_line_width: int
    is_wall: bool
    too_short: bool
    problems: tuple[str, ...]  # too_long, unclear_first_line, wall_of_text, too_short
    suggestion: str  # empty when there is nothing to suggest


def reading_seconds(text: str) -> int:
    cjk = len(_CJK.findall(text))
    words = len(_WORDS.findall(_CJK.sub(" ", text)))
    return round(cjk / 5 + words / 4)


def check(text: str) -> NoticeCheck:
    length = len(text.strip())
    stripped = linear.scanned(text.strip())
    lines = [ln.strip() for ln in stripped.splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    first_width = width(first)
    longest = max((width(ln) for ln in lines), default=0)
    seconds = reading_seconds(stripped)
    clear = bool(first) and first_width <= CLEAR_FIRST_LINE and not _GREETING.match(fold(first))
    wall = longest > WALL_LINE
    short = bool(stripped) and width(stripped) < SHORT and not _DETAIL.search(stripped)
    problems = tuple(
        name
        for name, bad in (
            ("too_long", seconds > LONG_SECONDS),
            ("unclear_first_line", bool(stripped) and not clear),
            ("wall_of_text", wall),
            ("too_short", short),
        )
        if bad
    )
    zh = len(_CJK.findall(stripped)) * 2 > len(_WORDS.findall(_CJK.sub(" ", stripped)))
    return NoticeCheck(
        length=length,
        line_count=len(lines),
        reading_seconds=seconds,
        first_line=first,
        first_line_width=first_width,
        first_line_clear=clear,
        longest_line_width=longest,
        is_wall=wall,
        too_short=short,
        problems=problems,
        suggestion=_suggest(problems, first, seconds, longest, zh),
    )


def suggestion_for(c: NoticeCheck, language: str) -> str:
    """The check's suggestion for a reader of ``language`` (Chinese or English)."""
    zh = language.split("-")[0].lower() == "zh"
    return _suggest(c.problems, c.first_line, c.reading_seconds, c.longest_line_width, zh)


def _quote(line: str, zh: bool) -> str:
    cut = line if len(line) <= 30 else line[:29] + "…"
    return f"「{cut}」" if zh else f'"{cut}"'


def _suggest(problems: tuple[str, ...], first: str, seconds: int, longest: int, zh: bool) -> str:
    if not problems:
        return ""
    parts: list[str] = []
    for p in problems:
        if p == "unclear_first_line":
            parts.append(
                f"第一行{_quote(first, zh)}没有说清是什么事："
                "把最关键的一句（什么事、何时、要大家做什么）放在第一行，"
                "控制在30个字以内，例如「周六15:00 第5章讨论，参加回复1」"
                if zh
                else f"The first line {_quote(first, zh)} does not say what this is about: put the "
                "key point (what, when, what members should do) first, in under 60 characters, "
                'e.g. "Sat 3pm: chapter 5 discussion - reply 1 to join"'
            )
        elif p == "too_long":
            parts.append(
                f"全文约需{seconds}秒读完：只留大家必须知道或必须做的事，细节放到链接或文档里"
                if zh
                else f"It takes about {seconds} seconds to read: keep what members must know or "
                "do, and move the details to a link or document"
            )
        elif p == "wall_of_text":
            parts.append(
                f"有一段长达{longest // 2}个字没有换行：拆成几条要点，每条一行"
                if zh
                else f"One paragraph runs {longest} characters without a break: split it into "
                "short points, one per line"
            )
        elif p == "too_short":
            parts.append(
                "内容太短，大家会追问：补上时间、地点和需要大家做什么"
                if zh
                else "It is so short members will have to ask: add when, where and what they "
                "should do"
            )
    return ("；".join(parts) + "。") if zh else ("; ".join(parts) + ".")
