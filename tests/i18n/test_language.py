"""Choosing a chat's language, and detecting it from real messages.

Real data (../shared/fixtures, SOURCES.md):
- datasets/siuank_qq_group/mc_qq_group.txt, from siuank/ADDetector4J (MIT): a real
  QQ group chat of a Minecraft community, one message a line as ``text==label``;
- datasets/kdconv_zh_dialogues/dialogues.jsonl, from thu-coai/KdConv (Apache-2.0):
  450 crowdsourced Chinese dialogues about films, music and travel;
- datasets/umputun_tg_spam/ham-samples.txt, from umputun/tg-spam (MIT): real
  Russian Telegram messages (a language the shipped rulesets do not carry).

Measured with this detector (``firekeeper.rules.language``): over the whole QQ
chat, message by message, the chat's detected language after its fifth message
is zh-Hans at 2,385 of 2,389 messages (the other 4: zh-Hant, while a member
writing traditional characters had the floor); every KdConv dialogue reads
zh-Hans after its first 3 messages (450 of 450); a single short message often
cannot tell (1,228 of 2,394 QQ messages alone: ""), which is why the evidence is
kept per chat.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from firekeeper.rules.language import Evidence, canonical, choose, detect, match, valid_tag
from tests.adapters.conftest import SHARED_FIXTURES

DATASETS = SHARED_FIXTURES / "datasets"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared fixture {path} not found: clone shared/ beside the repository")
    return path


def qq_messages() -> list[str]:
    text = _need(DATASETS / "siuank_qq_group" / "mc_qq_group.txt").read_text(encoding="utf-8")
    return [line.rsplit("==", 1)[0] for line in text.splitlines() if "==" in line]


def kdconv_dialogues() -> list[list[str]]:
    path = _need(DATASETS / "kdconv_zh_dialogues" / "dialogues.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["messages"] for line in lines if line.strip()]


def test_tags_are_matched_the_bcp47_way() -> None:
    shipped = ["en", "zh-Hans"]
    assert match("zh-Hans", shipped) == "zh-Hans"
    assert match("zh-hans-cn", shipped) == "zh-Hans"
    assert match("zh-CN", shipped) == "zh-Hans"  # mainland: simplified script
    assert match("zh", shipped) == "zh-Hans"
    assert match("zh-TW", shipped) is None  # traditional: not shipped, never simplified
    assert match("zh-Hant", shipped) is None
    assert match("en-GB", shipped) == "en"
    assert match("fr", shipped) is None
    assert canonical("ZH-hant-tw") == "zh-Hant-TW"
    assert valid_tag("zh-Hans") and valid_tag("en") and not valid_tag("中文") and not valid_tag("")


def test_declared_beats_detected_beats_the_default() -> None:
    shipped = ("en", "zh-Hans")
    assert choose("zh-Hans", "en", shipped).source == "declared"
    assert choose("", "zh-Hans", shipped) == choose("fr", "zh-Hans", shipped)
    assert choose("", "zh-Hans", shipped).source == "detected"
    assert choose("", "", shipped).language == "en"
    assert choose("zh-TW", "ru", shipped).source == "default"  # neither is shipped


def test_a_real_qq_group_reads_chinese_once_it_has_said_a_few_things() -> None:
    messages = qq_messages()
    assert len(messages) > 2000
    evidence, seen = Evidence(), Counter[str]()
    for i, text in enumerate(messages):
        evidence = evidence.add(text)
        if i >= 5:
            seen[evidence.language()] += 1
    total = sum(seen.values())
    assert seen["zh-Hans"] / total >= 0.99, seen
    assert set(seen) <= {"zh-Hans", "zh-Hant"}, seen  # never English, never "cannot tell"


def test_every_kdconv_dialogue_reads_chinese_after_three_messages() -> None:
    dialogues = kdconv_dialogues()
    assert len(dialogues) == 450
    assert Counter(detect(d[:3]) for d in dialogues) == {"zh-Hans": 450}


def test_one_short_message_does_not_decide() -> None:
    assert detect(["ok"]) == ""
    assert detect(["哈哈"]) == ""
    assert detect(["[表情]", "👍"]) == ""
    assert detect(["https://example.com/a-very-long-english-looking-path"]) == ""


def test_other_scripts_are_not_taken_for_chinese_or_english() -> None:
    path = _need(DATASETS / "umputun_tg_spam" / "ham-samples.txt")
    lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    windows = [lines[i : i + 5] for i in range(0, len(lines) - 5, 5)]
    assert Counter(detect(w) for w in windows) == {"ru": len(windows)}
    assert detect(["今日はいい天気ですね。みんなで散歩に行きましょう"]) == "ja"
    assert detect(["這個問題我們明天再討論，請大家準備資料"]) == "zh-Hant"


def test_old_messages_weigh_less_so_a_chat_that_switches_language_follows() -> None:
    evidence = Evidence()
    for _ in range(20):
        evidence = evidence.add("The meetup is on Saturday, bring your notes")
    assert evidence.language() == "en"
    for _ in range(20):
        evidence = evidence.add("周六的聚会改到下午三点，大家记得带笔记")
    assert evidence.language() == "zh-Hans"
    assert Evidence.of(evidence.pairs()) == evidence  # as the store keeps it
