"""Topic boundaries: how far a message is from the chat's declared theme. Pure.

The theme (the group's "soul") is keywords, phrases and example messages in the
languages the group speaks. Text on both sides is folded (NFKC, case fold) and
split in two ways at once, because Chinese has no spaces to split on:

- runs of letters and digits become word tokens, lightly stemmed (``books`` ->
  ``book``, ``reading`` -> ``read``) and without English stop words;
- runs of CJK characters become overlapping character bigrams (a single
  character stays a unigram), so ``读书会`` is ``{读书, 书会}`` and matches a
  message saying ``这周读书`` in part, whatever the segmentation would be.

Two scores, the higher counts:

- keywords: a term matches fully when its word tokens appear in order and all
  of its bigrams appear; a CJK term matches partly by the share of its bigrams
  present. ``1 - prod(1 - strength * weight)`` over the terms (a keyword weighs
  0.7, a phrase 0.9), so one keyword scores 0.7 and two score 0.91;
- coverage (a theme declared with examples): the share of the message's
  informative features that the theme's vocabulary knows, its keywords',
  phrases' and examples' and the group's own recent on-topic talk
  (``firekeeper.areas.lifecycle.pure.theme_vocab``), scaled so that :data:`COVER_ON` of it is
  :data:`ON_TOPIC`. "Who directed it? The lead was superb" is on a film
  group's theme without the word "film".

A message is then one of:

- ``unscored``: no theme applies (none declared, a free-talk channel, a bot);
- ``neutral``: social (greetings, thanks, laughter, emoji, stickers), too short
  to tell, in a script the theme has no terms for, partly related, or about
  nothing the service can place;
- ``on_topic``: score >= ON_TOPIC;
- ``off_topic``: long enough to have shown the theme, nothing of it, and
  plainly about something else: one of the subjects every group drifts into
  (meals, weather, the commute, the office, money, health, family, pets,
  sports, gadgets, news, holidays, screen, music, the home; the theme's own
  subject left out) covers at least :data:`DRIFT_AT` of it. Positive evidence,
  because a healthy group must not be nudged: "he was born in 1977" in a film
  group's conversation is neutral, not off topic.

So one stray remark is never off-topic by accident, and a "哈哈" or a "thanks!"
is never held against a group.

A message is read up to ``SCANNED_CHARS`` code points, with RE2 patterns
(``firekeeper.rules.linear``): linear time on any text.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from firekeeper.areas.lifecycle.pure import theme_vocab
from firekeeper.domain.chats import Theme
from firekeeper.rules import features, linear
from firekeeper.rules.textmatch import fold

ON_TOPIC = 0.3  # a partial CJK match of half a term (0.35) already counts
MIN_CONTENT = 3  # content units (words; two CJK characters count as one) to judge a message
COVER_ON = 0.35  # coverage of a message by the theme's vocabulary that is on topic
OFF_TOPIC_UNDER = 0.1  # a score under which a message long enough may be off topic
DRIFT_AT = 0.1  # share of a message a drift subject must cover for it to be off topic
KEYWORD_WEIGHT = 0.7
PHRASE_WEIGHT = 0.9

_CJK_RUN = theme_vocab.CJK_RUN
_WORD = theme_vocab.WORD
_URL = linear.compile(r"(?i)\b(?:https?://|www\.)\S+")
_MENTION = linear.compile(r"@\S+")
_LAUGH = linear.compile(r"^(?:(?:ha)+h?|(?:he)+h?|(?:hi){2,}|l+o+l+|x+d+|233+|6+)$")
_words = theme_vocab.words
_CJK_STOP = theme_vocab.CJK_STOP
STOP_EN = theme_vocab.STOP_EN


def _cleaned(text: str) -> str:
    """The first ``SCANNED_CHARS`` code points of ``text``, links and mentions blanked,
    folded: what the topic checks read."""
    return fold(_MENTION.sub(" ", _URL.sub(" ", linear.scanned(text))))


def _scanned_folded(text: str) -> str:
    return fold(linear.scanned(text))


def cleaned(text: str) -> str:
    """:func:`_cleaned`, computed once per message (``features.of``) whichever of the
    topic checks asks first."""
    return features.of(text).once(_cleaned)


def _listed(words: str) -> tuple[str, ...]:
    return tuple(words.split())


SOCIAL_EN = frozenset(
    _listed(
        """hi hello hey hiya yo morning evening night gm gn good thanks thank thx ty tysm cheers
    welcome congrats congratulations bye cya ok okay k kk sure yes yep yeah yup no nope lol
    lmao rofl haha hahaha hehe xd nice great cool wow awesome agreed same true indeed np
    please pls plz all everyone guys folks much lot so very you too"""
    )
)
_SOCIAL_ZH = tuple(
    sorted(
        _listed(
            """谢谢 谢谢大家 感谢 多谢 早上好 早安 早 午安 晚安 晚上好 你好 你们好 大家好
        哈哈 嘿嘿 呵呵
        嘻嘻 收到 好的 好滴 欢迎 欢迎欢迎 赞 点赞 牛 厉害 辛苦了 辛苦 加油 恭喜 同意 对 是的 嗯
        哦 好 谢 了 啊 呀 啦 哇 呢 吧 新人 报到 打扰了 拜拜 再见 棒 可以 没问题 请多关照 请多指教
        多多关照 多多指教 初来乍到 各位"""
        ),
        key=len,
        reverse=True,
    )
)


def _grams(folded: str) -> set[str]:
    out: set[str] = set()
    for run in _CJK_RUN.findall(folded):
        if len(run) == 1:
            out.add(run)
        out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def _cjk_content(folded: str) -> int:
    return sum(1 for run in _CJK_RUN.findall(folded) for c in run if c not in _CJK_STOP)


@dataclass(frozen=True, slots=True)
class _Term:
    label: str
    words: tuple[str, ...]
    grams: frozenset[str]
    weight: float


@dataclass(frozen=True, slots=True)
class CompiledTheme:
    """A theme prepared for scoring; build once per theme with :func:`compile_theme`."""

    terms: tuple[_Term, ...]
    has_words: bool
    has_cjk: bool
    vocabulary: frozenset[str] = frozenset()  # features of terms and examples (theme_vocab)
    has_examples: bool = False
    drift: tuple[frozenset[str], ...] = ()  # the drift subjects that are not this theme's

    @property
    def empty(self) -> bool:
        return not self.terms and not self.has_examples


def compile_theme(
    keywords: Sequence[str], phrases: Sequence[str] = (), examples: Sequence[str] = ()
) -> CompiledTheme:
    return _compile(tuple(keywords), tuple(phrases), tuple(examples))


@functools.lru_cache(maxsize=512)
def _compile(
    keywords: tuple[str, ...], phrases: tuple[str, ...], examples: tuple[str, ...]
) -> CompiledTheme:
    terms: list[_Term] = []
    seen: set[tuple[tuple[str, ...], frozenset[str]]] = set()
    for items, weight in ((keywords, KEYWORD_WEIGHT), (phrases, PHRASE_WEIGHT)):
        for label in items:
            folded = fold(_URL.sub(" ", label)).strip()
            words, grams = tuple(_words(folded)), frozenset(_grams(folded))
            if not words and not grams:
                continue
            if (words, grams) in seen:
                continue
            seen.add((words, grams))
            several = len(words) > 1 or (words and grams)
            terms.append(_Term(label.strip(), words, grams, PHRASE_WEIGHT if several else weight))
    texts = [fold(_URL.sub(" ", linear.scanned(t))) for t in (*keywords, *phrases, *examples)]
    vocab = theme_vocab.vocabulary(texts).known
    has_words = any(t.words for t in terms) or any(
        _WORD.search(_CJK_RUN.sub(" ", t)) for t in texts
    )
    has_cjk = any(t.grams for t in terms) or any(_CJK_RUN.search(t) for t in texts)
    return CompiledTheme(
        tuple(terms),
        has_words,
        has_cjk,
        vocab,
        any(e.strip() for e in examples),
        theme_vocab.drift_for(vocab),
    )


def theme_for(theme: Theme, channel_id: str = "", thread_id: str = "") -> CompiledTheme:
    """The theme that applies where a message was posted: a thread's or channel's own
    theme replaces the chat's (an empty one means free talk)."""
    for where in (thread_id, channel_id):
        if where:
            for channel in theme.channels:
                if channel.channel_id == where:
                    return compile_theme(channel.keywords, channel.phrases, channel.examples)
    return compile_theme(theme.keywords, theme.phrases, theme.examples)


def own_theme(theme: Theme, channel_id: str = "", thread_id: str = "") -> bool:
    """The chat's own theme applies where the message was posted (no channel's replaces it):
    only there does the group's recent vocabulary count, and grow."""
    ids = {c.channel_id for c in theme.channels}
    return not ((thread_id and thread_id in ids) or (channel_id and channel_id in ids))


def remember(
    remembered: theme_vocab.Remembered, text: str, theme: CompiledTheme
) -> theme_vocab.Remembered:
    """The group's recent vocabulary after an on-topic message ``text`` judged against
    ``theme``; unchanged for a theme without examples (its judgment reads no vocabulary)."""
    if not theme.has_examples:
        return remembered
    folded = cleaned(text)
    return theme_vocab.remember(remembered, theme_vocab.features(folded), theme.vocabulary)


def is_social(text: str, *, sticker_only: bool = False) -> bool:
    """Greetings, thanks, laughter, acknowledgements, emoji and stickers."""
    folded = cleaned(text)
    text = linear.scanned(text)
    raw_words = _WORD.findall(_CJK_RUN.sub(" ", folded))
    runs = _CJK_RUN.findall(folded)
    if not raw_words and not runs:
        # only emoji, punctuation or nothing at all: social unless it is an empty
        # message carrying something other than a sticker (a photo, a file)
        return bool(text.strip()) or sticker_only
    if len(raw_words) > 6 or any(w not in SOCIAL_EN and not _LAUGH.match(w) for w in raw_words):
        return False
    rest = "".join(runs)
    for phrase in _SOCIAL_ZH:
        rest = rest.replace(phrase, "")
    return len(rest) <= 2  # a name or a particle left over


@dataclass(frozen=True, slots=True)
class TopicResult:
    topic: str  # on_topic | off_topic | neutral | unscored
    score: float | None  # None when unscored
    is_social: bool
    hits: tuple[str, ...]  # theme terms that matched fully, as the theme wrote them
    content: int  # content units: words, plus CJK characters / 2
    drift: float = 0.0  # the share of the message the likeliest other subject covers

    @property
    def off_topic(self) -> bool:
        return self.topic == "off_topic"

    @property
    def scored(self) -> bool:
        """On or off topic: the message counts in the chat's topic window."""
        return self.topic in ("on_topic", "off_topic")


UNSCORED = TopicResult("unscored", None, False, (), 0)


def _strength(term: _Term, words: Sequence[str], word_set: set[str], grams: set[str]) -> float:
    if term.words:
        if len(term.words) == 1:
            if term.words[0] not in word_set:
                return 0.0
        else:
            n = len(term.words)
            if not any(tuple(words[i : i + n]) == term.words for i in range(len(words) - n + 1)):
                return 0.0
    if not term.grams:
        return 1.0
    present = len(term.grams & grams) / len(term.grams)
    if present == 1.0:
        return 1.0
    return present if present >= 0.5 else 0.0


def score(
    text: str,
    theme: CompiledTheme,
    *,
    sticker_only: bool = False,
    recent: frozenset[str] = frozenset(),
) -> TopicResult:
    """Classify one message (its first ``SCANNED_CHARS`` code points) against a theme.

    ``recent``: the vocabulary of the group's own recent on-topic messages
    (``theme_vocab``); it counts only for a theme declared with examples."""
    social = is_social(text, sticker_only=sticker_only)
    if theme.empty:
        return TopicResult("unscored", None, social, (), 0)
    folded = cleaned(text)
    words = _words(folded)
    grams = _grams(folded)
    word_set = set(words)
    cjk = _cjk_content(folded)
    content = len(words) + math.ceil(cjk / 2)
    miss = 1.0
    hits: list[str] = []
    for term in theme.terms:
        s = _strength(term, words, word_set, grams)
        if s > 0:
            miss *= 1 - s * term.weight
            if s == 1.0:
                hits.append(term.label)
    value = round(1 - miss, 2)
    found = theme_vocab.features(folded)
    cover = theme_vocab.coverage(found, theme.vocabulary, recent) if theme.has_examples else 0.0
    value = round(max(value, cover * ON_TOPIC / COVER_ON), 2)
    drifted = theme_vocab.drift(found, theme.drift)
    if value >= ON_TOPIC:
        topic = "on_topic"
    elif social or content < MIN_CONTENT or value >= OFF_TOPIC_UNDER:
        topic = "neutral"
    elif drifted < DRIFT_AT or drifted <= cover:
        topic = "neutral"  # nothing of the theme, but nothing of another subject either
    elif (cjk and not words and not theme.has_cjk) or (words and not cjk and not theme.has_words):
        topic = "neutral"  # the theme has no terms in this message's script: cannot tell
    else:
        topic = "off_topic"
    return TopicResult(topic, min(value, 1.0), social, tuple(hits), content, drifted)


# -- theme sprawl: announcements of new activities ---------------------------------------------

_ACTIVITY_EN = linear.compile(
    r"(?i)\b(sign[\s-]?up|register|registration|join us|enrol+|event|meet[\s-]?up|offline|"
    r"vote|poll|check[\s-]?in|challenge|workshop|webinar|session|course|class|camp|bootcamp|"
    r"new (?:section|channel|group|topic|area|series|club)|let'?s (?:add|start|try|organi[sz]e)|"
    r"we(?:'ll| will) (?:add|start|launch|organi[sz]e)|launch(?:ing)?|starting (?:a|our))\b"
)
_ACTIVITY_ZH = (
    "报名",
    "投票",
    "活动",
    "打卡",
    "线下",
    "聚会",
    "新增",
    "开设",
    "开通",
    "专区",
    "板块",
    "分享会",
    "讲座",
    "课程",
    "训练营",
    "挑战",
    "接龙",
    "组织",
    "参加",
    "启动",
    "开启",
    "新栏目",
)


def announces_activity(text: str) -> bool:
    """The text announces an activity, a new section or a new series (EN and ZH cues)."""
    folded = features.of(text).once(_scanned_folded)
    if _ACTIVITY_EN.search(folded):
        return True
    # the cues are Chinese: none is in a text of ASCII alone
    return not folded.isascii() and any(cue in folded for cue in _ACTIVITY_ZH)


_SECTION_EN = linear.compile(
    r"(?i)\b(new (?:section|channel|corner|series|column|area|space|thread)|"
    r"(?:let'?s|we(?:'ll| will)|going to) (?:add|open|start|set up) (?:a|an|our)|"
    r"from now on|starting (?:next|this|tomorrow)|every (?:night|evening|morning|week|day))\b"
)
_SECTION_ZH = (
    "开一个",
    "开个",
    "再开",
    "新开",
    "加一个",
    "增加一个",
    "新增",
    "开设",
    "专栏",
    "专区",
    "板块",
    "新栏目",
    "打卡区",
    "从明天起",
    "从明天开始",
    "下周开始",
    "以后每",
    "每晚分享",
    "每周分享",
)


def opens_section(text: str) -> bool:
    """The text opens a standing new section or series (a corner, a column, something
    every week from now on), not a one-off event (EN and ZH cues)."""
    folded = features.of(text).once(_scanned_folded)
    if _SECTION_EN.search(folded):
        return True
    return not folded.isascii() and any(cue in folded for cue in _SECTION_ZH)


def expands_theme(result: TopicResult, *, opens: bool = False) -> bool:
    """An announcement (the caller checks the cue and the author's role) that brings
    another subject:

    - it is off topic: it shows nothing of the theme and plainly one of the drift
      subjects (a finance talk every night in a reading club);
    - or it opens a standing section or series (``opens``: :func:`opens_section`) about
      another subject: one of the drift subjects covers :data:`DRIFT_AT` of it even when
      it names the theme too ("reading is not enough: a fitness check-in area from
      tomorrow"), or it names nothing of the theme and some other subject
      ("another column: a side-business project every week").

    An announcement on the theme never counts, whatever it announces: a vote on the next
    book, a fishing check-in, a weekly Rust challenge (no other subject in them); nor one
    the service cannot place."""
    if result.off_topic:
        return True
    if not opens or result.topic == "unscored":
        return False
    if result.drift >= DRIFT_AT:
        return True
    return result.drift > 0 and not result.hits and result.topic == "neutral"
