"""Type checking of conditions against the vocabulary and the declared params."""

from __future__ import annotations

import pytest

from firekeeper.area_registry import VOCABULARY
from firekeeper.domain.events import EventKind
from firekeeper.rules.checker import check, check_all
from firekeeper.rules.conditions import ConditionError, parse

MSG = EventKind.MESSAGE_POSTED
JOIN = EventKind.MEMBER_JOINED
PARAMS = {"hard_cap": "int", "window": "duration", "label": "string", "flag": "bool"}


def ok(text: str, on: EventKind = MSG) -> tuple[str, ...]:
    return check(parse(text), on, PARAMS, VOCABULARY).fields


def error(text: str, on: EventKind = MSG) -> ConditionError:
    with pytest.raises(ConditionError) as info:
        check(parse(text), on, PARAMS, VOCABULARY)
    return info.value


@pytest.mark.parametrize(
    "text",
    [
        "chat.member_count >= params.hard_cap",
        "chat.member_count > 10 and chat.age > 14d",
        "actor.tenure < params.window or actor.account_age < 2d",
        "chat.member_count >= params.hard_cap and params.hard_cap > 0.5",
        "actor.tenure in [1d, 2w] and chat.member_count not in [1, 2]",
        "inviter.invitees_removed_ratio > 0.5 and inviter.invites_7d > 1",
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
    on = JOIN if "member.id" in text or "inviter." in text else MSG
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


# Units: a duration (seconds, written 14d) compares only with a duration; counts (int),
# ratios and scores (number) and bare numbers with each other. Types from the vocabulary
# (actor.tenure: duration, actor.message_count: int, inviter.invitees_removed_ratio:
# number, tick.period: duration) and the params' declared types (PARAMS above).
@pytest.mark.parametrize(
    ("text", "on", "pos", "message", "hint"),
    [
        (
            "actor.tenure < 14",
            MSG,
            15,
            "actor.tenure is a duration: the bare number 14 has no unit",
            "did you mean 14d?",
        ),
        ("14 > actor.tenure", MSG, 0, "the bare number 14 has no unit", "did you mean 14d?"),
        ("actor.account_age <= 2.5", MSG, 21, "the bare number 2.5 has no unit", "36h"),
        ("params.window > 3", MSG, 16, "params.window is a duration", "did you mean 3d?"),
        (
            "actor.message_count > 14d",
            MSG,
            22,
            "actor.message_count is a count (int), not a duration: 14d cannot be compared",
            "write a bare number: did you mean 14?",
        ),
        (
            "inviter.invitees_removed_ratio >= 1d",
            JOIN,
            34,
            "inviter.invitees_removed_ratio is a number, not a duration",
            "did you mean 1?",
        ),
        ("chat.member_count < 2w", MSG, 20, "not a duration: 14d", "did you mean 14?"),
        (
            "actor.tenure > actor.message_count",
            MSG,
            15,
            "cannot compare actor.tenure (duration) with actor.message_count (int): a duration"
            " compares only with a duration",
            "compare it with a field or parameter of the same unit",
        ),
        (
            "actor.tenure < params.hard_cap",
            MSG,
            15,
            "cannot compare actor.tenure (duration) with params.hard_cap (int)",
            "declare params.hard_cap as duration, e.g. `hard_cap: 14d`",
        ),
        (
            "params.window < chat.member_count",
            MSG,
            0,
            "cannot compare params.window (duration) with chat.member_count (int)",
            "declare params.window as int, e.g. `window: 14`",
        ),
        ("actor.tenure in [1d, 7]", MSG, 21, "the bare number 7 has no unit", "did you mean 7d?"),
        ("chat.member_count in [1, 1h]", MSG, 25, "not a duration: 1h", "did you mean 1?"),
    ],
)
def test_unit_mismatches(text: str, on: EventKind, pos: int, message: str, hint: str) -> None:
    found = error(text, on)
    assert message in found.message
    assert found.pos == pos
    assert hint in found.hint


def test_every_type_error_is_reported() -> None:
    errors, _ = check_all(
        parse("chat.nope > 1 and message.text == 'x' and params.zz"), MSG, PARAMS, VOCABULARY
    )
    assert [e.pos for e in errors] == [0, 18, 42]
