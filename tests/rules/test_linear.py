"""The built-in patterns on RE2 read exactly like the ``re`` patterns they replaced.

Each pattern is written in Python's syntax and translated for RE2
(``firekeeper.rules.linear``); here every one of them is run both ways on real
chat text and on hand-made edge cases, and must agree: found or not, and where
a pattern has no ``\\b`` (so RE2 consumes no boundary character) the same
matches at the same places.

Data (read from ``<repo>/../shared/fixtures/datasets``, see SOURCES.md there):
``umputun_tg_spam/{spam,ham}-samples.txt`` (umputun/tg-spam, MIT; Russian and
English Telegram chat), ``siuank_qq_group/mc_qq_group.txt`` (siuank/ADDetector4J,
MIT; a Chinese QQ group) and ``kdconv_zh_dialogues/dialogues.jsonl``
(thu-coai/KdConv, Apache-2.0; Chinese dialogues).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import re2
from hypothesis import given, settings
from hypothesis import strategies as st

# Importing the checks compiles (and registers) every built-in pattern.
from firekeeper.areas.lifecycle.pure import announcements, topic
from firekeeper.rules import features, house_rules, linear, promo, unmask, value
from firekeeper.rules.linear import PatternSyntax

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "datasets"

EDGES = [
    "",
    "free money",
    "Пишите мне в лс",
    "пиши в лс!",
    "в лс",
    "взлс",
    "курсы по python",
    "курсах",
    "DM me for details",
    "xdm me",
    "dm me_",
    "3100 € for the M3",
    "$5",
    "5$",
    "1,000.50 usdt",
    "100 rmb",
    "100 rmbx",
    "rmb 100",
    "加我微信 abc123",
    "私聊",
    "详情请私",
    "see bit.ly/x or https://t.me/+abc, www.example.org",
    "e.g. 3.5 or a.b",
    "x.com/path?ref=1",
    "a.b.c.d.e.f.com",
    "ｆｒｅｅ ①",
    "f r e e money",
    "加 微 信",
    "hello everyone",
    "Good morning, all!",
    "通知",
    "周六 15:00 第5章",
    "how do I join?",
    "Как записаться",
    "怎么报名",
    "let's start a new club",
    "报名参加线下活动",
    "hahaha",
    "233333",
    "٣ ٤ ٥ digits",
    "tab\tand\u00a0nbsp\u3000ideographic",
    "under_score words_",
    "10% off today",
    "earn $500 daily",
    "🤑💰👉 click",
    "line one\nline two\n",
]


def _corpus() -> list[str]:
    texts = list(EDGES)
    tg = DATASETS / "umputun_tg_spam"
    for name in ("spam-samples.txt", "ham-samples.txt"):
        path = tg / name
        if path.is_file():
            texts += [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    qq = DATASETS / "siuank_qq_group" / "mc_qq_group.txt"
    if qq.is_file():
        texts += [ln.rsplit("==", 1)[0] for ln in qq.read_text(encoding="utf-8").splitlines()]
    kd = DATASETS / "kdconv_zh_dialogues" / "dialogues.jsonl"
    if kd.is_file():
        for line in kd.read_text(encoding="utf-8").splitlines()[:20]:
            texts += json.loads(line)["messages"]
    return texts


@pytest.fixture(scope="module")
def corpus() -> list[str]:
    texts = _corpus()
    if len(texts) == len(EDGES):
        pytest.skip(f"shared fixtures not found at {DATASETS}: clone shared/ beside the repository")
    return texts


def _python(source: str, ignore_case: bool) -> re.Pattern[str]:
    return re.compile(source, re.IGNORECASE if ignore_case else 0)


def test_every_check_module_registered_its_patterns() -> None:
    sources = {c.source for c in linear.compiled()}
    # one known pattern of each module that runs on user text
    for module, name in (
        (features, "_URL"),
        (promo, "_PRICE"),
        (unmask, "_SPACED_CJK"),
        (topic, "_ACTIVITY_EN"),
        (announcements, "_GREETING"),
        (announcements, "_WHEN"),
        (house_rules, "_PROHIBITION"),
        (value, "_QUESTION_WORDS"),
    ):
        pattern = getattr(module, name)
        assert any(c.pattern is pattern for c in linear.compiled()), (module, name)
    assert len(sources) >= 25


def test_re2_finds_what_python_re_found(corpus: list[str]) -> None:
    disagree: list[tuple[str, str]] = []
    for c in linear.compiled():
        source, ignore_case, pattern = c.source, c.ignore_case, c.pattern
        reference = _python(source, ignore_case)
        exact = r"\b" not in source
        for text in corpus:
            want = reference.search(text) is not None
            if (pattern.search(text) is not None) != want:
                disagree.append((source[:60], text[:80]))
            elif exact and want:
                got = [m.span() for m in pattern.finditer(text)]
                if got != [m.span() for m in reference.finditer(text)]:
                    disagree.append((source[:60], text[:80]))
    assert not disagree, disagree[:10]


def test_links_are_the_same_as_the_python_link_finder_found(corpus: list[str]) -> None:
    source = next(c.source for c in linear.compiled() if c.pattern is features._URL)
    reference = _python(source, True)
    for text in corpus:
        want = [m.group(1) for m in reference.finditer(text)]
        assert [m.group(1) for m in features._URL.finditer(text)] == want, text


_OLD_SPACED = re.compile(r"(?<![^\W_])(?:[^\W\d_][ \u3000]){3,}[^\W\d_](?![^\W_])")


def _old_join(text: str) -> tuple[str, int]:
    return _OLD_SPACED.subn(lambda m: m.group(0).replace(" ", "").replace("\u3000", ""), text)


def _new_join(text: str) -> tuple[str, int]:
    count = [0]
    out = unmask._join_spaced(text, lambda: count.__setitem__(0, count[0] + 1))
    return out, count[0]


@pytest.mark.parametrize(
    "text",
    [
        "f r e e",
        "f r e e money",
        "a b c",
        "a b c d",
        "a b c de",
        "a b c d ef",
        "xa b c d e",
        "a b c d e1",
        "1 a b c d",
        "В Л С пишите",
        "加 微 信 号",
        "a\u3000b\u3000c\u3000d",
        "a b c d e f g h i j",
        "a  b c d e",
        "a b c d _",
        "_a b c d",
        "",
    ],
)
def test_the_spaced_out_scan_joins_what_the_look_around_pattern_joined(text: str) -> None:
    assert _new_join(text) == _old_join(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab1_ \u3000.加", max_size=40))
def test_the_spaced_out_scan_agrees_with_the_pattern_on_any_text(text: str) -> None:
    assert _new_join(text) == _old_join(text)


def test_the_spaced_out_scan_on_real_chat(corpus: list[str]) -> None:
    for text in corpus:
        assert _new_join(text) == _old_join(text), text


def test_invisible_characters_count_only_between_letters() -> None:
    assert unmask._strip_invisible("fr\u200bee") == ("free", 1)
    assert unmask._strip_invisible("fr\u200b\u200cee") == ("free", 2)
    assert unmask._strip_invisible("\u200bfree\u200b") == ("free", 0)
    assert unmask._strip_invisible("a \u200bb") == ("a b", 0)
    assert unmask._strip_invisible("👍\u200d👍") == ("👍👍", 0)


@pytest.mark.parametrize(
    "source",
    [r"(?<=a)b", r"a(?=b)", r"a(?!b)", r"(?<!a)b", r"(a)\1", r"[\W]", r"a\B"],
)
def test_patterns_that_cannot_run_in_linear_time_are_refused(source: str) -> None:
    with pytest.raises(PatternSyntax):
        linear.compile(source)


def test_scanned_bounds_a_text_and_keeps_a_short_one() -> None:
    assert linear.scanned("short") == "short"
    long = "x" * (linear.SCANNED_CHARS + 10)
    assert len(linear.scanned(long)) == linear.SCANNED_CHARS


@pytest.mark.parametrize("source", [r"[a]+b", r"(a)+", r"(?:a+)+", r"[a]*", r"a|b+c"])
def test_a_tokenizer_must_be_one_character_class_repeated(source: str) -> None:
    with pytest.raises(PatternSyntax):
        linear.tokens(source)


def test_the_no_match_shortcut_answers_as_the_binding_does(corpus: list[str]) -> None:
    """``linear.compile``'s patterns answer search/finditer/findall/sub with one RE2 call
    when nothing matches; on every text they give what the RE2 binding itself gives."""
    for c in linear.compiled():
        if c.engine != "re2":
            continue
        binding = re2.compile(c.rewritten, linear._options(ignore_case=c.ignore_case))
        for text in corpus[:150]:
            got, want = c.pattern.search(text), binding.search(text)
            assert (got and got.span()) == (want and want.span()), (c.source[:60], text[:60])
            assert [m.span() for m in c.pattern.finditer(text)] == [
                m.span() for m in binding.finditer(text)
            ]
            assert c.pattern.findall(text) == binding.findall(text)
            assert c.pattern.sub("#", text) == binding.sub("#", text)


def test_a_pattern_set_finds_what_each_of_its_members_finds(corpus: list[str]) -> None:
    """``linear.PatternSet`` answers for its members in one pass: on real chat (and on
    the digits-joined view the promotion signals read) the same as each member alone."""
    sets = linear.pattern_sets()
    assert promo._SIGNAL_SET in sets
    texts = [*corpus, *(promo.handle_view(t) for t in corpus[:2000])]
    for made in sets:
        for text in texts:
            want = {i for i, m in enumerate(made.members) if m.search(text) is not None}
            assert made.found(text) == want, text[:80]


def test_a_pattern_set_out_of_memory_is_refused_when_it_is_made() -> None:
    """RE2 runs a set on its DFA alone and its search cannot tell "out of memory" from
    "nothing found"; a set that cannot run in its memory is refused when it compiles."""
    members = promo._SIGNAL_SET.members
    with pytest.raises(PatternSyntax, match="cannot run a set"):
        linear.PatternSet(members, max_mem=1 << 12)
    assert linear.PatternSet(members).found("add me on WeChat, only ¥99") == {
        i for i, m in enumerate(members) if m.search("add me on WeChat, only ¥99")
    }
