"""Value delivered: substantive posts and questions, in English, Chinese and Russian."""

from __future__ import annotations

import pytest

from firekeeper.rules import value


def test_words_count_cjk_characters_as_half_words() -> None:
    assert value.words("one two three") == 3
    assert value.words("读书会讨论第五章") == 4
    assert value.words("a b c") == 0  # single letters are not words


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("How do I set up the bike fit?", True),
        ("Does anyone know a good reading list", True),
        ("怎么办才好", True),
        ("请问周六几点开始", True),
        ("Подскажите, где купить розетки", True),
        ("ok?", False),
        ("Thanks, that worked.", False),
    ],
)
def test_questions(text: str, question: bool) -> None:
    assert value.is_question(text) is question


def test_substantive_needs_twenty_words_and_no_promotion_forward_or_edit() -> None:
    long = " ".join(f"word{i}" for i in range(20))
    assert value.substantive(long, promotion=False, is_forward=False, is_edit=False)
    assert not value.substantive(long, promotion=True, is_forward=False, is_edit=False)
    assert not value.substantive(long, promotion=False, is_forward=True, is_edit=False)
    assert not value.substantive(long, promotion=False, is_forward=False, is_edit=True)
    assert not value.substantive("too short", promotion=False, is_forward=False, is_edit=False)
    chinese = (
        "今天分享一下我读这本书的笔记：第一部分讲复利，"
        "第二部分讲习惯如何养成，最后讲怎么坚持，欢迎大家补充"
    )
    assert value.substantive(chinese, promotion=False, is_forward=False, is_edit=False)


def test_an_answer_needs_three_words() -> None:
    assert value.answers("Try the blue one", promotion=False)
    assert not value.answers("yes", promotion=False)
    assert not value.answers("Buy mine instead, DM me", promotion=True)
