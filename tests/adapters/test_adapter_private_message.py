"""message_user: a private message to one person where the platform allows, else the
admins are asked to pass it on; never a post to the group (docs/adapters.md)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from firekeeper.adapters import CallContext, calls_for_action
from firekeeper.domain.decisions import Action, ActionType
from firekeeper.domain.events import Platform

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
TEXT = "About the notice you just posted: say when and where."
FEEDBACK = Action(
    type=ActionType.MESSAGE_USER,
    rule_id="notice.unclear",
    target_user_id="222",
    text=TEXT,
    chat_id="-1001000000001",
)
GROUP_CHAT = "-1001000000001"


def test_telegram_writes_to_a_user_who_started_the_bot_and_asks_admins_otherwise() -> None:
    ctx = CallContext(chat_id=GROUP_CHAT, now=NOW, admin_chat_id="-1009999999999")
    started = replace(ctx, private_chats={"222": "222"})
    (call,) = calls_for_action(Platform.TELEGRAM, FEEDBACK, started)
    assert call.method == "sendMessage" and call.params == {"chat_id": 222, "text": TEXT}
    assert not call.fallback and call.rule_id == "notice.unclear"
    (fallback,) = calls_for_action(Platform.TELEGRAM, FEEDBACK, ctx)
    assert fallback.fallback and fallback.note.startswith("fallback: a bot can write privately")
    assert fallback.params["chat_id"] == -1009999999999  # the admins' chat, not the group
    assert "pass on to user 222 privately" in str(fallback.params["text"])
    assert TEXT in str(fallback.params["text"])


def test_discord_posts_in_the_dm_channel_and_asks_admins_without_one() -> None:
    ctx = CallContext(
        chat_id="197038439483310086", now=NOW, channel_id="290926798999357250",
        admin_chat_id="290926798999357000", display_names={"222": "Bob"},
    )  # fmt: skip
    (call,) = calls_for_action(
        Platform.DISCORD, FEEDBACK, replace(ctx, private_chats={"222": "555000111"})
    )
    assert (call.method, call.route) == ("POST", "/channels/555000111/messages")
    assert call.params["content"] == TEXT and call.params["allowed_mentions"] == {"parse": []}
    (fallback,) = calls_for_action(Platform.DISCORD, FEEDBACK, ctx)
    assert fallback.fallback and fallback.route == "/channels/290926798999357000/messages"
    assert "pass on to Bob privately" in str(fallback.params["content"])


def test_wecom_writes_to_a_staff_member_through_the_app_and_asks_admins_for_a_customer() -> None:
    ctx = CallContext(
        chat_id="wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA", now=NOW,
        admin_user_ids=("zhangsan", "lisi"), agent_id=1000002,
    )  # fmt: skip
    staff = replace(FEEDBACK, target_user_id="zhangsan")
    (call,) = calls_for_action(Platform.WECOM, staff, ctx)
    assert call.route == "/cgi-bin/message/send" and call.params["touser"] == "zhangsan"
    assert call.params["text"] == {"content": TEXT} and not call.fallback
    known = replace(ctx, private_chats={"222": "wangwu"})
    (listed,) = calls_for_action(Platform.WECOM, FEEDBACK, known)
    assert listed.params["touser"] == "wangwu"
    (fallback,) = calls_for_action(Platform.WECOM, replace(FEEDBACK, target_user_id="wmEXT1"), ctx)
    assert fallback.fallback and fallback.params["touser"] == "zhangsan|lisi"
    assert "pass on to user wmEXT1 privately" in str(fallback.params["text"])


@pytest.mark.parametrize("platform", [Platform.TELEGRAM, Platform.DISCORD, Platform.WECOM])
def test_a_private_message_never_goes_to_the_group(platform: Platform) -> None:
    ctx = CallContext(
        chat_id=GROUP_CHAT, now=NOW, channel_id="290926798999357250",
        admin_chat_id="-1009999999999", admin_user_ids=("zhangsan",), agent_id=1,
        sender_user_id="zhangsan",
    )  # fmt: skip
    for call in calls_for_action(platform, FEEDBACK, ctx):  # the destination, not the text
        assert str(call.params.get("chat_id", "")) != GROUP_CHAT
        assert "290926798999357250" not in call.route and "add_msg_template" not in call.route
