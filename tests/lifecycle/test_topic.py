"""Topic scoring: English words and Chinese bigrams against a theme; social messages neutral."""

from __future__ import annotations

import pytest

from firekeeper.areas.lifecycle.pure import theme_vocab
from firekeeper.areas.lifecycle.pure.topic import (
    announces_activity,
    compile_theme,
    expands_theme,
    is_social,
    opens_section,
    score,
    theme_for,
)
from firekeeper.domain.chats import ChannelTheme, Theme
from firekeeper.rules.textmatch import fold

READING = compile_theme(
    ["book", "reading", "chapter", "author", "novel", "读书", "阅读", "章节", "作者", "小说"],
    ["book club", "读书会"],
)


@pytest.mark.parametrize(
    "text",
    [
        "Just finished chapter 3, the author argues it well",
        "Has anyone read the new novels from that list?",  # novels -> novel
        "Reading group tonight: bring your books",
        "We should start a BOOK CLUB thread",  # case folded, phrase
        "这本小说的第三章写得真好",
        "我们这周读书会讨论什么",
        "ｃｈａｐｔｅｒ five was long",  # full-width letters are folded (NFKC)
    ],
)
def test_theme_words_make_a_message_on_topic(text: str) -> None:
    result = score(text, READING)
    assert result.topic == "on_topic" and result.score is not None and result.score >= 0.3
    assert result.hits


@pytest.mark.parametrize(
    "text",
    [
        "What did everyone eat for lunch today? I had beef noodles downstairs",
        "My boss is so annoying again this week, complaining all the time",
        "今天中午吃了什么？我吃了牛肉面",
        "我们老板这周又在抱怨加班的事情",
    ],
)
def test_long_enough_messages_without_the_theme_are_off_topic(text: str) -> None:
    result = score(text, READING)
    assert result.topic == "off_topic" and result.off_topic and result.score == 0.0


@pytest.mark.parametrize(
    "text",
    [
        "thanks!!",
        "Thank you so much",
        "good morning everyone",
        "lol same",
        "hahaha",
        "👍👍",
        "谢谢大家",
        "哈哈哈哈",
        "早上好",
        "收到",
        "大家好，我是新人，请多关照",
        "+1",
    ],
)
def test_social_messages_are_neutral_never_off_topic(text: str) -> None:
    result = score(text, READING)
    assert result.topic == "neutral"
    assert not result.off_topic


def test_greetings_and_emoji_are_social_and_content_is_not() -> None:
    assert is_social("hi all 👋") and is_social("晚安") and is_social("🎉🎉🎉")
    assert is_social("", sticker_only=True)
    assert not is_social("", sticker_only=False)  # a bare photo: nothing to judge
    assert not is_social("thanks for the recommendation, the plot is great")
    assert not is_social("谢谢分享，这个方法我明天就试试")


def test_chinese_is_matched_by_bigrams_not_whitespace() -> None:
    # no spaces anywhere: the keyword 阅读 is found inside a run of characters
    result = score("最近每天睡前阅读半小时", READING)
    assert result.topic == "on_topic" and "阅读" in result.hits
    # a partial match (half of 读书会's bigrams) is related but not a full hit
    partial = score("读书", compile_theme([], ["读书会"]))
    assert partial.hits == () and partial.score == pytest.approx(0.45)


def test_short_or_other_script_messages_are_neutral() -> None:
    assert score("ok see you", READING).topic == "neutral"  # too short to tell
    english_only = compile_theme(["book", "chapter"])
    assert score("我们老板这周又在抱怨加班的事情", english_only).topic == "neutral"


def test_no_theme_means_unscored() -> None:
    result = score("anything at all goes here today", compile_theme([]))
    assert result.topic == "unscored" and result.score is None


def test_a_channel_theme_replaces_the_chat_theme_and_an_empty_one_is_free_talk() -> None:
    theme = Theme(
        keywords=("book",),
        channels=(ChannelTheme("poems", keywords=("poem", "verse")), ChannelTheme("lounge")),
    )
    assert score("I wrote a new poem about autumn leaves", theme_for(theme, "poems")).topic == (
        "on_topic"
    )
    assert score("I wrote a new poem about autumn leaves", theme_for(theme)).topic == "neutral"
    lunch = "What did everyone have for lunch? The noodles downstairs were great"
    assert score(lunch, theme_for(theme)).topic == "off_topic"
    assert score(lunch, theme_for(theme, "lounge")).topic == "unscored"
    assert theme_for(theme, "lounge").empty
    # a thread's own theme wins over its channel's
    assert theme_for(theme, "other", thread_id="poems").terms[0].label == "poem"


def test_activity_announcements_and_theme_sprawl() -> None:
    assert announces_activity("Let's add a fitness check-in area!")
    assert announces_activity("明天组织线下活动，想参加的报名")
    assert not announces_activity("Chapter 5 was the best so far")
    finance = score("Let's add a finance corner: share your stock picks every Friday", READING)
    assert expands_theme(finance)
    reading = score("Sign up for the chapter 5 discussion of our book on Friday", READING)
    assert not expands_theme(reading)
    assert not expands_theme(score("thanks all!", READING))


FILM = compile_theme(
    ["film", "movie", "director", "电影", "导演"],
    examples=[
        "Saw the new Villeneuve last night, the sound design alone is worth the ticket",
        "Who played the lead in that one? The performance carried the whole story",
        "The sequel is out Friday, anyone up for the IMAX showing?",
        "这部片的剧情后半段有点拖，但结尾反转很精彩",
        "男主的演技太好了，哭戏那段看得我也跟着哭",
    ],
)


@pytest.mark.parametrize(
    "text",
    [
        "The lead's performance in the last scene was incredible",  # no keyword at all
        "Is the sequel worth seeing in IMAX or is a normal showing fine?",
        "女主的演技比男主还好，哭戏看得人心疼",  # 演技, 哭戏 as in the examples
        "结尾的反转完全没猜到，后半段一点也不拖",
    ],
)
def test_a_theme_with_examples_recognises_talk_without_its_keywords(text: str) -> None:
    keywords_only = compile_theme(["film", "movie", "director", "电影", "导演"])
    assert score(text, keywords_only).topic != "on_topic"
    assert score(text, FILM).topic == "on_topic"


def test_the_groups_recent_vocabulary_extends_the_theme() -> None:
    text = "Denis knows how to shoot a desert, every frame could hang in a gallery"
    assert score(text, FILM).topic != "on_topic"
    said = "Denis shot the desert scenes on location, every frame looks like a gallery painting"
    recent = frozenset(theme_vocab.features(fold(said)))
    assert score(text, FILM, recent=recent).topic == "on_topic"


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        # another subject, plainly: off topic
        (
            "Traffic on the bridge was terrible again this morning, an hour to the office",
            "off_topic",
        ),
        ("今天中午吃什么？楼下那家牛肉面还不错", "off_topic"),
        # nothing of the theme but nothing the service can place either: neutral, not nudged
        ("She was born in 1977 and grew up near Glasgow, then studied in London", "neutral"),
        ("他出生于苏格兰格拉斯哥，今年四十多岁了", "neutral"),
    ],
)
def test_off_topic_needs_evidence_of_another_subject(text: str, topic: str) -> None:
    assert score(text, FILM).topic == topic


def test_an_on_theme_announcement_vote_or_challenge_is_never_sprawl() -> None:
    book = compile_theme(
        ["book", "reading", "读书"],
        examples=["Which translation are you reading?", "这周读到第三章了，结尾太意外"],
    )
    for text in (
        "Vote for next month's pick: the Ishiguro or the Le Guin? Poll closes Friday",
        "Weekly challenge: finish the first three chapters before Sunday",
        "Check-in: post the page you reached today",
        "本周打卡：晒一下你读到第几页了",
    ):
        result = score(text, book)
        assert announces_activity(text) and not expands_theme(result), text
    hiking = score("We will organise an offline hiking event on Saturday, register below", book)
    assert expands_theme(hiking)


def test_a_new_section_on_another_subject_is_sprawl_even_when_it_names_the_theme() -> None:
    # the article's self-improvement group (scenarios/dying_expansion_selfimprove_zh.yaml)
    reading = compile_theme(["读书", "书单", "阅读", "作者", "读后感", "书摘", "章节"], ["读书会"])
    fitness = "光读书还不够！从明天起群里开一个健身打卡区，每天发运动截图，坚持一个月"
    assert score(fitness, reading).topic == "on_topic"  # it says 读书 ...
    assert opens_section(fitness)
    assert expands_theme(score(fitness, reading), opens=True)  # ... and opens a fitness area
    side = "再开一个副业交流专栏，每周分享一个赚钱项目，欢迎大家参加"
    assert expands_theme(score(side, reading), opens=opens_section(side))
    # a section on the theme itself, and a one-off outing, are not new themes
    excerpts = "从下周开始开一个书摘打卡区，每天发一段书摘"
    assert opens_section(excerpts) and not expands_theme(score(excerpts, reading), opens=True)
    dinner = "为了活跃气氛，周六组织一次线下聚餐唱歌，想参加的接龙报名"
    assert not opens_section(dinner)
    english = score(
        "Let's add a new corner for sharing recipes and dinner ideas every week", READING
    )
    assert expands_theme(english, opens=True)
    assert not opens_section("Chapter 5 was the best so far")
