"""De-obfuscation: what spammers do to dodge filters is undone before any signal is read."""

from __future__ import annotations

import pytest

from firekeeper.rules.unmask import unmask


@pytest.mark.parametrize(
    ("text", "plain", "trick"),
    [
        ("ｆｒｅｅ ｍｏｎｅｙ ￥９９", "free money ¥99", "fullwidth"),
        ("𝐟𝐫𝐞𝐞 𝐜𝐨𝐮𝐫𝐬𝐞", "free course", "fullwidth"),
        ("fr\u200bee mo\u200cney", "free money", "invisible"),
        ("Пpивeт, дpyг! Coздaй ceбe дoxoд", "Привет, друг! Создай себе доход", "lookalike"),
        ("frее mоney", "free money", "lookalike"),  # Cyrillic е and о in English words
        ("pa6oтa", "работа", "lookalike"),  # a digit standing for б
        ("Пᴏддᴇᴧьнᴀя", "Поддельная", "lookalike"),  # small capitals
        ("f r e e  m o n e y", "free  money", "spaced"),
        ("加 微 信 详聊", "加微信详聊", "spaced"),
        ("напишите Л И Ч К У", "напишите ЛИЧКУ", "spaced"),
    ],
)
def test_tricks_are_undone_and_named(text: str, plain: str, trick: str) -> None:
    result = unmask(text)
    assert result.text == plain
    assert trick in result.tricks


@pytest.mark.parametrize(
    "text",
    [
        "Господа, посоветуйте где рисовать красивые диаграммы?",
        "我们周六下午三点在图书馆讨论第五章，参加的回复1",
        "Meet at 10, bring the M3 laptop and the USB-C cable.",
        "I am a big fan",
        "и в 2 и в 3 раза быстрее",  # one-letter Russian words with numbers are not spacing
        "Congrats 👩\u200d❤\ufe0f\u200d👨 so happy",  # a ZWJ emoji sequence is not a trick
        "",
    ],
)
def test_ordinary_text_is_not_taken_for_tricks(text: str) -> None:
    result = unmask(text)
    assert result.tricks == ()
    assert result.lookalike == 0


def test_counts_words_and_lookalike_words() -> None:
    result = unmask("Hoвoe нaпpaвлeниe в cфepe кpиптo")
    assert result.lookalike == 4 and result.words == 5
