"""The lifecycle area's pure stage: topic windows, streaks, one nudge per streak, flood counts."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from firekeeper.areas.lifecycle.pure.features import (
    NUDGE_GUARD,
    ChatActivity,
    LifecycleLoad,
    RecentActivity,
    enrich,
    fired_reading,
)
from firekeeper.domain.chats import ChatContext, ChatRecord
from firekeeper.domain.decisions import Action, ActionType, Decision, RuleMatch, RuleMode
from firekeeper.domain.events import Actor
from tests.lifecycle.builders import KEY, OFF_TOPIC, ON_TOPIC, READING, T0, message

CHAT = ChatRecord(key=KEY, kind="growth", theme=READING, owner_id="olga")


def _run(text: str, activity: ChatActivity, recent: RecentActivity | None = None, **kw: Any) -> Any:
    load = LifecycleLoad(activity=activity, theme=READING, recent=recent or RecentActivity())
    return enrich(message(text, T0, **kw), ChatContext(CHAT, {}), load)


def test_an_off_topic_message_extends_the_streak_and_enters_the_window() -> None:
    out = _run(OFF_TOPIC[0], ChatActivity(topic_window="ooxx", off_topic_streak=2))
    assert out["message"]["off_topic"] and out["chat"]["off_topic_streak"] == 3
    assert out["chat"]["topic_window_size"] == 5 and out["chat"]["off_topic_share"] == 0.6


def test_neutral_messages_neither_break_nor_extend_a_streak() -> None:
    state = ChatActivity(topic_window="xxx", off_topic_streak=3, nudged_this_streak=True)
    out = _run("haha thanks 👍", state)
    assert out["message"]["topic"] == "neutral" and out["message"]["is_social"]
    assert out["chat"]["off_topic_streak"] == 3 and out["chat"]["nudged_this_streak"]
    assert out["chat"]["topic_window_size"] == 3


def test_an_on_topic_message_ends_the_streak_and_its_nudge() -> None:
    out = _run(
        ON_TOPIC, ChatActivity(topic_window="xxxxx", off_topic_streak=5, nudged_this_streak=True)
    )
    assert out["chat"]["off_topic_streak"] == 0 and not out["chat"]["nudged_this_streak"]
    out = _run(
        OFF_TOPIC[1],
        ChatActivity(topic_window="xxxxxo", off_topic_streak=0, nudged_this_streak=True),
    )
    assert out["chat"]["off_topic_streak"] == 1 and not out["chat"]["nudged_this_streak"]


def test_the_window_keeps_the_last_twenty() -> None:
    out = _run(OFF_TOPIC[2], ChatActivity(topic_window="o" * 20))
    assert out["chat"]["topic_window_size"] == 20 and out["chat"]["off_topic_share"] == 0.05


def test_flood_counts_include_this_message_but_not_edits_or_bots() -> None:
    recent = RecentActivity(
        actor_last_minute=4, actor_mentions_last_minute=3, same_text_recent=2, chat_last_minute=9
    )
    out = _run("spam spam", ChatActivity(), recent, mentions=("a", "b"))
    assert out["actor"] == {"messages_last_minute": 5, "mentions_last_minute": 5}
    assert out["message"]["repeat_count"] == 3 and out["chat"]["messages_last_minute"] == 10
    bot = _run("spam spam", ChatActivity(), recent, who=Actor(id="bot", is_bot=True))
    assert bot["actor"]["messages_last_minute"] == 4 and bot["message"]["topic"] == "unscored"


def test_a_bot_never_counts_as_off_topic() -> None:
    out = _run(OFF_TOPIC[0], ChatActivity(), who=Actor(id="b", is_bot=True))
    assert out["message"]["off_topic"] is False


def test_theme_sprawl_is_an_admins_activity_outside_the_theme() -> None:
    owner = Actor(id="olga")
    text = "Let's add a fitness check-in area: post your workout every morning"
    out = _run(text, ChatActivity(), who=owner)
    assert out["message"]["expands_theme"] and out["chat"]["new_themes_30d"] == 1
    member = _run(text, ChatActivity(), who="u2")
    assert member["message"]["announces_activity"] and not member["message"]["expands_theme"]


def test_a_rule_reading_the_guard_marks_the_streak_nudged_only_when_it_acted() -> None:
    match = RuleMatch("topic.drift_nudge", RuleMode.ENFORCE, "", ((NUDGE_GUARD, "false"),))
    act = Action(ActionType.POST_MESSAGE, "topic.drift_nudge", text="back to books")
    decision = Decision("e", (act,), (match,), "growth", "1", T0)
    assert fired_reading(decision, NUDGE_GUARD)
    assert not fired_reading(replace(decision, actions=()), NUDGE_GUARD)
    shadow = replace(match, mode=RuleMode.SHADOW)
    assert not fired_reading(replace(decision, trace=(shadow,)), NUDGE_GUARD)
