"""The texts an adapter writes itself come in the chat's language, without internal names.

Every action on every platform, carried out for a decision in Chinese and in English:
each text a person reads (a message's ``text`` or ``content``, an app message's
``text.content``) is in that language and names no rule. The requests to admins to do
by hand what the platform lacks are the adapters' own texts
(``firekeeper.adapters.notices``); the rest is the ruleset's text, passed through.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from firekeeper.adapters import CallContext, calls_for
from firekeeper.adapters.notices import PHRASES, admin_notice, language_of
from firekeeper.domain.decisions import Action, ActionType, Decision
from firekeeper.domain.events import EventKind, Platform

HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
RULE_ID = "promo.too_early"
TEXTS = {
    "zh-Hans": "{mention} 大家还不熟，先别发推广，消息已撤回。",
    "en": "{mention} Promotions have to wait until people know you; your message was removed.",
}
CONTEXT = CallContext(
    chat_id="wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
    now=datetime(2026, 5, 1, tzinfo=UTC),
    channel_id="290926798999357250",
    admin_chat_id="-1009999999999",
    admin_user_ids=("zhangsan",),
    agent_id=1000002,
    sender_user_id="zhangsan",
)
# ids the platforms give: in a text they are data, not words of either language
IDS = re.compile(r"wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA|<@\d+>|\d+")


def _decision(language: str) -> Decision:
    actions = tuple(
        Action(
            kind,
            RULE_ID,
            target_user_id="222",
            target_message_id="333",
            text=TEXTS[language]
            if kind
            in (
                ActionType.WARN_USER,
                ActionType.NOTIFY_ADMINS,
                ActionType.POST_MESSAGE,
                ActionType.MESSAGE_USER,
            )
            else "",
            duration_seconds=86400 if kind is not ActionType.SET_SLOW_MODE else 30,
            # a {mention} in a post or notice is filled too, never shown as a placeholder
            mention_user_id="222",
        )
        for kind in ActionType
    )
    return Decision(
        "e1", actions, (), "base", "1", datetime(2026, 5, 1, tzinfo=UTC), language=language
    )


def _people_texts(params: Any) -> list[str]:
    """Every text of a call's parameters that a person reads."""
    out: list[str] = []
    if isinstance(params, dict):
        for key, value in params.items():
            if key in ("text", "content") and isinstance(value, str):
                out.append(value)
            else:
                out += _people_texts(value)
    return out


@pytest.mark.parametrize("platform", [Platform.TELEGRAM, Platform.DISCORD, Platform.WECOM])
@pytest.mark.parametrize("kind", [EventKind.MEMBER_JOINED, EventKind.JOIN_REQUESTED])
def test_a_chinese_decision_is_carried_out_in_chinese(platform: Platform, kind: EventKind) -> None:
    ctx = CallContext(**{**_fields(CONTEXT), "event_kind": kind})
    texts = [
        t
        for call in calls_for(platform, _decision("zh-Hans"), ctx)
        for t in _people_texts(call.params)
    ]
    assert texts
    for text in texts:
        rest = IDS.sub("", text)
        assert HAN.search(rest), text
        assert not LATIN_WORD.search(rest), text  # no English word, no rule id
        assert RULE_ID not in text


@pytest.mark.parametrize("platform", [Platform.TELEGRAM, Platform.DISCORD, Platform.WECOM])
def test_an_english_decision_is_carried_out_in_english(platform: Platform) -> None:
    texts = [
        t
        for call in calls_for(platform, _decision("en"), CONTEXT)
        for t in _people_texts(call.params)
    ]
    assert texts
    for text in texts:
        assert not HAN.search(text), text
        assert RULE_ID not in text and "86400" not in text  # durations in words


def test_a_wecom_request_to_admins_reads_as_a_group_owner_writes() -> None:
    decision = _decision("zh-Hans")
    mute = next(a for a in decision.actions if a.type is ActionType.MUTE)
    titled = CallContext(**{**_fields(CONTEXT), "chat_title": "周末骑行群"})
    mute = replace(mute, text="{mention} 刷屏了，先禁言 1 天。")
    one = Decision("e2", (mute,), (), "base", "1", decision.decided_at, language="zh-Hans")
    warn, notify = calls_for(Platform.WECOM, one, titled)
    assert warn.params["text"] == {"content": "@用户 222 刷屏了，先禁言 1 天。"}
    assert notify.params["text"]["content"] == (  # type: ignore[index]
        "【群管提醒】「周末骑行群」：机器人在这里没法禁言，请把 用户 222 禁言 1 天。"
        "用户 222 刷屏了，先禁言 1 天。"
    )


def test_an_action_alone_is_written_in_the_language_of_its_text() -> None:
    # an outbox item carries no decision: its own text tells the language
    assert language_of("", "群主已经 10 天没说话了") == "zh-Hans"
    assert language_of("", "The owner has been quiet") == "en"
    assert language_of("en", "群主") == "en"  # the decision's, when known
    assert admin_notice("zh-Hans", "群 x", "", "群主已经 10 天没说话了。") == (
        "【群管提醒】群 x：群主已经 10 天没说话了。"
    )


def test_every_phrase_exists_in_every_language() -> None:
    keys = [set(p) for p in PHRASES.values()]
    assert all(k == keys[0] for k in keys)
    for key, text in PHRASES["zh"].items():
        assert HAN.search(text) or key in ("titled",), key


def _fields(ctx: CallContext) -> dict[str, Any]:
    return {name: getattr(ctx, name) for name in ctx.__dataclass_fields__}
