"""Languages of the texts people read: tags, choosing a chat's language, detecting it. Pure.

A ruleset ships its texts per language (``languages: [en, zh-Hans]``, the first
its default; every ``text:`` and ``reason:`` then a mapping with each). A chat's
language is, in order: the one declared at registration, the one detected from
what its members write, the ruleset's default. Whichever wins is matched to the
ruleset's languages by BCP 47 lookup (``zh-Hans-CN`` -> ``zh-Hans``; ``zh-CN`` and
``zh-SG`` are written in simplified script, ``zh-TW``, ``zh-HK`` and ``zh-MO`` in
traditional); a language the ruleset does not ship falls through to the next
source, never to a half-translated text.

Detection (:class:`Evidence`) is by script and honest about it: it counts the
letters of a chat's recent messages (Han, kana, Hangul, Latin, Cyrillic), with
older messages weighing less, and tells simplified from traditional Chinese by a
list of common characters that differ. It names a language only once a chat has
written enough letters to tell (:data:`MIN_LETTERS`); Latin script is taken as
English (the only Latin-script language the shipped rulesets carry).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

TAG = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
MAX_TAG = 35  # RFC 5646 advises tags of at most 35 characters


def valid_tag(tag: str) -> bool:
    return len(tag) <= MAX_TAG and TAG.match(tag) is not None


def canonical(tag: str) -> str:
    """The tag with BCP 47's case conventions: ``zh-hans-cn`` -> ``zh-Hans-CN``."""
    parts = tag.strip().split("-")
    out = [parts[0].lower()]
    for part in parts[1:]:
        if len(part) == 4 and part.isalpha():
            out.append(part.title())
        elif len(part) == 2 and part.isalpha():
            out.append(part.upper())
        else:
            out.append(part.lower())
    return "-".join(out)


_SCRIPT_OF_REGION = {"zh-CN": "zh-Hans", "zh-SG": "zh-Hans", "zh-MY": "zh-Hans"}
_SCRIPT_OF_REGION.update({"zh-TW": "zh-Hant", "zh-HK": "zh-Hant", "zh-MO": "zh-Hant"})


def _candidates(tag: str) -> list[str]:
    """``tag`` and its truncations, most specific first (RFC 4647 lookup)."""
    tag = canonical(tag)
    parts = tag.split("-")
    out = ["-".join(parts[:n]) for n in range(len(parts), 0, -1)]
    if len(parts) >= 2:
        scripted = _SCRIPT_OF_REGION.get(f"{parts[0]}-{parts[-1]}")
        if scripted:
            out.insert(1, scripted)
    if parts[0] == "zh" and len(parts) == 1:
        out.insert(0, "zh-Hans")  # plain `zh` is written in simplified script by most groups
    return out


def match(wanted: str, available: Sequence[str]) -> str | None:
    """The language of ``available`` that serves a reader of ``wanted``, or None."""
    if not wanted:
        return None
    shipped = {canonical(a): a for a in available}
    for candidate in _candidates(wanted):
        if candidate in shipped:
            return shipped[candidate]
    # `zh-Hans` asked, the ruleset ships plain `zh`: take it
    base = canonical(wanted).split("-")[0]
    for tag, original in shipped.items():
        if tag == base:
            return original
    return None


@dataclass(frozen=True, slots=True)
class Choice:
    language: str  # one of the ruleset's languages
    source: str  # "declared", "detected" or "default"


def choose(declared: str, detected: str, available: Sequence[str]) -> Choice:
    """The chat's language among the ruleset's (``available``, the first its default)."""
    if isinstance(available, tuple):  # a ruleset's languages: the few answers are kept
        return _choose(declared, detected, available)
    return _chosen(declared, detected, available)


@functools.lru_cache(maxsize=1024)
def _choose(declared: str, detected: str, available: tuple[str, ...]) -> Choice:
    return _chosen(declared, detected, available)


def _chosen(declared: str, detected: str, available: Sequence[str]) -> Choice:
    for source, wanted in (("declared", declared), ("detected", detected)):
        found = match(wanted, available)
        if found is not None:
            return Choice(found, source)
    return Choice(available[0] if available else "en", "default")


@dataclass(frozen=True, slots=True)
class Localized:
    """A value for people in several languages (a ruleset's text, a generated suggestion)."""

    texts: tuple[tuple[str, str], ...]  # (language, text), the default language first

    @staticmethod
    def of(mapping: Mapping[str, str]) -> Localized:
        return Localized(tuple(mapping.items()))

    def get(self, language: str) -> str:
        for lang, text in self.texts:
            if lang == language:
                return text
        found = match(language, [lang for lang, _ in self.texts])
        if found is not None:
            return dict(self.texts)[found]
        return self.texts[0][1] if self.texts else ""

    @staticmethod
    def none() -> Localized:
        return Localized(())

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(lang for lang, _ in self.texts)


# --- detection ---------------------------------------------------------------

MIN_LETTERS = 12.0  # weighted letters a chat must have written before a language is named
DECAY = 0.9  # each message's weight falls by this much per later message
MESSAGE_CAP = 200  # letters counted from one message at most (one long paste does not decide)

_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


def _without_links(text: str) -> str:
    """The text without links and addresses (they are Latin whatever the chat speaks).
    Split on whitespace, no regex: linear on any input (user text; see textmatch)."""
    return " ".join(
        w
        for w in text.split()
        if "://" not in w and not w.startswith("www.") and not ("@" in w and w.isascii())
    )


# Common characters whose simplified and traditional forms differ (pairs).
_PAIRS = " ".join(
    (
        "这這 们們 说說 个個 来來 时時 会會 为為 对對 没沒 还還 过過 后後 发發 问問 里裡 么麼",
        "样樣 开開 国國 学學 东東 见見 车車 长長 门門 间間 边邊 点點 话話 让讓 给給 进進",
        "经經 动動 实實 现現 关關 应應 电電 头頭 钱錢 买買 卖賣 书書 觉覺 谢謝 请請 吗嗎",
        "听聽 写寫 题題 体體 区區 场場 号號 从從 认認 识識 满滿 线線 网網 乐樂 欢歡",
    )
).split()
_SIMPLIFIED = frozenset(p[0] for p in _PAIRS)
_TRADITIONAL = frozenset(p[1] for p in _PAIRS)
_SCRIPTS = ("han", "kana", "hangul", "latin", "cyrillic", "simplified", "traditional")
_SORTED_SCRIPTS = tuple(sorted(_SCRIPTS))


@dataclass(frozen=True, slots=True)
class Evidence:
    """Weighted letter counts of a chat's recent messages, by script."""

    han: float = 0.0
    kana: float = 0.0
    hangul: float = 0.0
    latin: float = 0.0
    cyrillic: float = 0.0
    simplified: float = 0.0
    traditional: float = 0.0

    def add(self, text: str) -> Evidence:
        """The evidence after one more message (older ones weigh ``DECAY`` times less)."""
        text = _without_links(text[:4000])
        if text.isascii():  # Latin letters only: the other scripts' counts are 0
            counts = dict.fromkeys(_SCRIPTS, 0)
            counts["latin"] = len(_LATIN.findall(text))
        else:
            han = len(_HAN.findall(text))
            counts = {
                "han": han,
                "kana": len(_KANA.findall(text)),
                "hangul": len(_HANGUL.findall(text)),
                "latin": len(_LATIN.findall(text)),
                "cyrillic": len(_CYRILLIC.findall(text)),
                # both sets are Han characters: none to count without Han
                "simplified": sum(1 for c in text if c in _SIMPLIFIED) if han else 0,
                "traditional": sum(1 for c in text if c in _TRADITIONAL) if han else 0,
            }
        total = counts["han"] + counts["kana"] + counts["hangul"] + counts["latin"]
        total += counts["cyrillic"]
        if total == 0:
            return self  # stickers, emoji, links: no evidence either way
        scale = min(1.0, MESSAGE_CAP / total)
        # Latin letters come roughly 4 to a word, Han characters 1 to 2: weigh a Latin
        # letter as a quarter so a Chinese sentence with one English word stays Chinese.
        counts["latin"] = counts["latin"] / 4  # type: ignore[assignment]
        counts["cyrillic"] = counts["cyrillic"] / 4  # type: ignore[assignment]
        return Evidence(
            **{s: round(getattr(self, s) * DECAY + counts[s] * scale, 3) for s in _SCRIPTS}
        )

    def pairs(self) -> tuple[tuple[str, float], ...]:
        """As the store keeps it (ChatRecord.language_evidence)."""
        return tuple((s, getattr(self, s)) for s in _SORTED_SCRIPTS if getattr(self, s))

    @staticmethod
    def of(pairs: Sequence[tuple[str, float]]) -> Evidence:
        return Evidence(**{s: float(v) for s, v in pairs if s in _SCRIPTS})

    def language(self) -> str:
        """The chat's language by this evidence, or "" while it cannot tell."""
        # Japanese writes kana in nearly every sentence (usually more kana than kanji);
        # a stray katakana in a Chinese chat (an emoticon, a loanword) is not Japanese.
        japanese = self.kana * 2 >= self.han and self.kana > 0
        scores = {
            "ja": self.kana + self.han if japanese else 0.0,
            "ko": self.hangul,
            "zh": 0.0 if japanese else self.han,
            "en": self.latin,
            "ru": self.cyrillic,
        }
        best = max(scores, key=lambda k: scores[k])
        total = self.han + self.kana + self.hangul + self.latin + self.cyrillic
        if total < MIN_LETTERS / 4 or scores[best] < MIN_LETTERS / 2:
            return ""
        if scores[best] * 2 <= total:  # no script has the majority: cannot tell
            return ""
        if best == "zh":
            return "zh-Hant" if self.traditional > self.simplified else "zh-Hans"
        return best


def detect(texts: Sequence[str]) -> str:
    """The language of a sequence of messages, oldest first ("" when it cannot tell)."""
    evidence = Evidence()
    for text in texts:
        evidence = evidence.add(text)
    return evidence.language()


# --- rendering values for people ------------------------------------------------

_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
_WORDS = {
    "en": {"w": ("week", "weeks"), "d": ("day", "days"), "h": ("hour", "hours")},
    "zh": {"w": ("周", "周"), "d": ("天", "天"), "h": ("小时", "小时")},
}
_WORDS["en"].update({"m": ("minute", "minutes"), "s": ("second", "seconds")})
_WORDS["zh"].update({"m": ("分钟", "分钟"), "s": ("秒", "秒")})


def as_written(seconds: int) -> str:
    """A duration the way a ruleset author writes it: 1209600 -> ``2w``, 90 -> ``90s``."""
    if seconds == 0:
        return "0s"
    for unit, size in _UNITS:
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _family(language: str) -> str:
    return "zh" if canonical(language).split("-")[0] == "zh" else "en"


def duration(seconds: int, language: str) -> str:
    """``1209600`` -> "14 days" / "14 天"; mixed units keep the two largest ("1 day 6 hours").
    Weeks only past 8 of them (people count "14 天", not "2 周")."""
    words = _WORDS[_family(language)]
    parts: list[str] = []
    rest = max(0, int(seconds))
    units = _UNITS if rest >= 8 * 604800 else _UNITS[1:]
    for unit, size in units:
        if rest >= size and len(parts) < 2:
            n, rest = divmod(rest, size)
            singular, plural = words[unit]
            parts.append(f"{n} {singular if n == 1 else plural}")
        elif parts:
            break
    if not parts:
        return "0 秒" if _family(language) == "zh" else "0 seconds"
    return ("" if _family(language) == "zh" else " ").join(parts)


def number(value: float, language: str, *, share: bool = False) -> str:
    if share:
        return f"{round(value * 100)}%"
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return f"{value:.2f}".rstrip("0").rstrip(".")


def yes_no(value: bool, language: str) -> str:
    if _family(language) == "zh":
        return "是" if value else "否"
    return "yes" if value else "no"


def join(items: Sequence[str], language: str) -> str:
    return ("、" if _family(language) == "zh" else ", ").join(items)
