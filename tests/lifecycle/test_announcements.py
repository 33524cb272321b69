"""Announcements checked for designed communication: length, first line, walls of text."""

from __future__ import annotations

from firekeeper.rules.announcements import check, width

GOOD = "Sat 3pm: chapter 5 discussion\n- where: room 2\n- reply 1 to join"
GOOD_ZH = "周六下午3点 第五章讨论\n地点：二号会议室\n参加请回复1"


def test_a_short_notice_with_a_clear_first_line_has_no_problems() -> None:
    for text in (GOOD, GOOD_ZH):
        c = check(text)
        assert c.problems == () and c.suggestion == "" and c.first_line_clear


def test_a_greeting_first_line_is_not_clear_and_the_suggestion_quotes_it() -> None:
    c = check("Hello everyone!\nThe discussion moves to Sunday at 4pm.")
    assert not c.first_line_clear and c.problems == ("unclear_first_line",)
    assert '"Hello everyone!"' in c.suggestion and "first line" in c.suggestion


def test_a_label_alone_is_not_a_clear_first_line() -> None:
    for first in ("通知", "重要通知！", "Reminder", "各位群友："):
        assert not check(f"{first}\n周日下午4点改到线上").first_line_clear
    assert check("Hello, the meeting moves to 3pm Friday").first_line_clear


def test_a_wall_of_text_and_a_long_notice_get_concrete_numbers() -> None:
    wall = "This week we read chapter 5. " + "There are many things to say about it. " * 20
    c = check(wall)
    assert c.is_wall and "wall_of_text" in c.problems
    assert f"runs {c.longest_line_width} characters" in c.suggestion
    long = "\n".join(["Here is one more point about the plan for the month ahead."] * 40)
    c = check(long)
    assert c.reading_seconds > 60 and "too_long" in c.problems
    assert f"about {c.reading_seconds} seconds to read" in c.suggestion


def test_a_chinese_notice_gets_a_chinese_suggestion() -> None:
    c = check("大家好\n" + "本周我们将继续阅读第五章，请大家提前准备好问题，" * 12)
    assert set(c.problems) == {"unclear_first_line", "wall_of_text"}
    assert c.suggestion.startswith("第一行「大家好」") and c.suggestion.endswith("。")


def test_too_short_means_members_will_have_to_ask() -> None:
    assert check("Meeting moved!").too_short
    assert not check("Meeting moved to Fri 3pm").too_short  # a time is a detail
    assert not check("明天下午开会").too_short


def test_wide_characters_count_two_columns() -> None:
    assert width("读书") == 4 and width("ab") == 2
