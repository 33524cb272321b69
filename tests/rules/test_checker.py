"""Type checking of conditions against the vocabulary and the declared params."""

from __future__ import annotations

import pytest

from firekeeper.domain.events import EventKind
from firekeeper.rules.checker import check, check_all
from firekeeper.rules.conditions import ConditionError, parse

MSG = EventKind.MESSAGE_POSTED
JOIN = EventKind.MEMBER_JOINED
PARAMS = {"hard_cap": "int", "window": "duration", "label": "string", "flag": "bool"}


def ok(text: str, on: EventKind = MSG) -> tuple[str, ...]:
    return check(parse(text), on, PARAMS).fields


def error(text: str, on: EventKind = MSG) -> ConditionError:
    with pytest.raises(ConditionError) as info:
        check(parse(text), on, PARAMS)
    return info.value


@pytest.mark.parametrize(
    "text",
    [
        "chat.member_count >= params.hard_cap",
        "chat.member_count > 10 and chat.age > 14d",
        "actor.tenure < params.window or actor.account_age < 2.5",
        "chat.member_count >= 1d",
        'chat.kind == "work" and actor.role != params.label',
        "actor.is_bot and actor.is_bot == params.flag",
        "actor.is_bot == false",
        'chat.kind in ["work", "goal"] and message.length not in [0, 1]',
        'message.domains contains "t.me" or message.domains contains any ["a", "b"]',
        'message.text contains any ["buy", "sell"] and message.text matches "(?i)buy\\s+now"',
        "known(actor.account_age) and not known(message.text)",
        "actor.id == member.id",
    ],
)
def test_well_typed(text: str) -> None:
    on = JOIN if "member.id" in text else MSG
    ok(text, on)


def test_fields_in_order_of_appearance() -> None:
    assert ok("chat.age > 1d and (chat.member_count > params.hard_cap or chat.age < 2d)") == (
        "chat.age",
        "chat.member_count",
        "params.hard_cap",
    )


@pytest.mark.parametrize(
    ("text", "pos", "message", "hint"),
    [
        (
            "chat.membercount > 1",
            0,
            "unknown field 'chat.membercount'",
            "did you mean chat.member_count?",
        ),
        ("params.hardcap > 1", 0, "unknown parameter 'hardcap'", "did you mean params.hard_cap?"),
        ("params.other > 1", 0, "unknown parameter 'other'", "declare it under `params:`"),
        ('message.text == "hi"', 0, "text is never compared exactly; use contains or matches", ""),
        ('"hi" != message.text', 8, "text is never compared exactly", ""),
        ('message.domains == "t.me"', 0, "message.domains is a list", ""),
        ('chat.kind < "b"', 0, "string values compare only with == and !=", ""),
        ("chat.member_count == true", 21, "cannot compare int with bool", ""),
        ('chat.member_count > "5"', 20, "cannot compare int with string", "remove the quotes"),
        ("actor.is_bot == params.label", 16, "cannot compare bool with string", ""),
        ("actor.is_bot > false", 0, "bool values compare only with == and !=", ""),
        ("1 < 2", 0, "this compares two constants", ""),
        ('message.length contains "x"', 0, "contains works on text and list fields", ""),
        ('chat.kind contains "x"', 0, "contains works on text and list fields", "use == or in"),
        ('chat.kind matches "x"', 0, "matches works on text fields", ""),
        ('message.text matches "(ab"', 21, "invalid regular expression", ""),
        ('message.text matches "(?<=a)b"', 21, "invalid regular expression", ""),
        ('message.text contains ""', 22, "empty string", ""),
        ("chat.member_count", 0, "chat.member_count is int, not a condition by itself", "> 0"),
        ("message.text", 0, "message.text is text, not a condition", "contains"),
        ('chat.member_count in ["a"]', 22, "string value in a list for a int field", ""),
        ('message.domains in ["a"]', 0, "message.domains is a list", "contains any"),
        (
            "join.resulting_count > 1",
            0,
            "join.resulting_count is not available on message.posted",
            "member.joined",
        ),
    ],
)
def test_type_errors(text: str, pos: int, message: str, hint: str) -> None:
    found = error(text)
    assert message in found.message
    assert found.pos == pos
    assert hint in found.hint


def test_every_type_error_is_reported() -> None:
    errors, _ = check_all(parse("chat.nope > 1 and message.text == 'x' and params.zz"), MSG, PARAMS)
    assert [e.pos for e in errors] == [0, 18, 42]
