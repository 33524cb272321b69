"""Action mapping per platform: the exact calls for each action type."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from firekeeper.adapters import CallContext, calls_for_action
from firekeeper.domain.decisions import Action, ActionType
from firekeeper.domain.events import EventKind, Platform

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
TG = CallContext(
    chat_id="-1001000000001",
    now=NOW,
    admin_chat_id="-1009999999999",
    invite_links=("https://t.me/+AbC",),
    display_names={"222": "Bob"},
)
DC = CallContext(
    chat_id="197038439483310086",
    now=NOW,
    channel_id="290926798999357250",
    admin_chat_id="290926798999357000",
)
WC = CallContext(
    chat_id="wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
    now=NOW,
    admin_user_ids=("zhangsan", "lisi"),
    agent_id=1000002,
    sender_user_id="zhangsan",
    join_way_config_ids=("9ad7fa5cdaa6511298498f979c472aaa",),
)
CHAT = -1001000000001
NOW_UNIX = int(NOW.timestamp())


def action(kind: ActionType, **values: object) -> Action:
    fields: dict[str, object] = {
        "target_user_id": "222",
        "target_message_id": "610",
        "text": "please keep to the topic",
        "duration_seconds": 600,
        **values,
    }
    return Action(type=kind, rule_id="r1", **fields)  # type: ignore[arg-type]


def tg(kind: ActionType, ctx: object = TG, **values: object) -> list[tuple[str, dict[str, object]]]:
    calls = calls_for_action(Platform.TELEGRAM, action(kind, **values), ctx)  # type: ignore[arg-type]
    return [(c.method, dict(c.params)) for c in calls]


def dc(kind: ActionType, **values: object) -> list[tuple[str, str, dict[str, object]]]:
    calls = calls_for_action(Platform.DISCORD, action(kind, **values), DC)
    return [(c.method, c.route, dict(c.params)) for c in calls]


# ------------------------------------------------------------------ Telegram


def test_telegram_delete_warn_post() -> None:
    assert tg(ActionType.DELETE_MESSAGE) == [
        ("deleteMessage", {"chat_id": CHAT, "message_id": 610})
    ]
    ((method, params),) = tg(ActionType.WARN_USER)
    assert method == "sendMessage"
    assert params["text"] == "Bob, please keep to the topic"
    assert params["entities"] == [
        {"type": "text_link", "offset": 0, "length": 3, "url": "tg://user?id=222"}
    ]
    assert params["reply_parameters"] == {"message_id": 610, "allow_sending_without_reply": True}
    post = tg(ActionType.POST_MESSAGE, channel_id="600")
    assert post == [
        (
            "sendMessage",
            {"chat_id": CHAT, "text": "please keep to the topic", "message_thread_id": 600},
        )
    ]


def test_telegram_warn_mentions_by_utf16_length() -> None:
    ctx = replace(TG, display_names={"222": "Bob 👍"})
    ((_, params),) = tg(ActionType.WARN_USER, ctx)
    assert params["entities"][0]["length"] == 6  # type: ignore[index]


def test_telegram_mute_restricts_sending_until_a_date() -> None:
    ((method, params),) = tg(ActionType.MUTE)
    assert method == "restrictChatMember"
    assert params["until_date"] == NOW_UNIX + 600
    assert params["user_id"] == 222
    assert params["use_independent_chat_permissions"] is True
    assert set(params["permissions"].values()) == {False}  # type: ignore[attr-defined]
    calls = calls_for_action(Platform.TELEGRAM, action(ActionType.MUTE, duration_seconds=5), TG)
    assert calls[0].params["until_date"] == NOW_UNIX + 30 and "30 s" in calls[0].note
    forever = calls_for_action(Platform.TELEGRAM, action(ActionType.MUTE, duration_seconds=0), TG)
    assert "until_date" not in forever[0].params


def test_telegram_remove_is_ban_then_unban_and_ban_is_ban() -> None:
    assert tg(ActionType.REMOVE) == [
        ("banChatMember", {"chat_id": CHAT, "user_id": 222}),
        ("unbanChatMember", {"chat_id": CHAT, "user_id": 222, "only_if_banned": True}),
    ]
    assert tg(ActionType.BAN, duration_seconds=0) == [
        ("banChatMember", {"chat_id": CHAT, "user_id": 222})
    ]
    ((_, timed),) = tg(ActionType.BAN, duration_seconds=86400)
    assert timed["until_date"] == NOW_UNIX + 86400


def test_telegram_joins() -> None:
    assert tg(ActionType.APPROVE_JOIN) == [
        ("approveChatJoinRequest", {"chat_id": CHAT, "user_id": 222})
    ]
    assert tg(ActionType.DENY_JOIN) == [
        ("declineChatJoinRequest", {"chat_id": CHAT, "user_id": 222})
    ]
    joined = replace(TG, event_kind=EventKind.MEMBER_JOINED)
    assert [m for m, _ in tg(ActionType.DENY_JOIN, joined)] == ["banChatMember", "unbanChatMember"]


def test_telegram_hold_leaves_the_request_pending_and_tells_admins() -> None:
    (call,) = calls_for_action(Platform.TELEGRAM, action(ActionType.HOLD_FOR_REVIEW), TG)
    assert (call.method, call.params["chat_id"]) == ("sendMessage", -1009999999999)
    assert "asked to join" in str(call.params["text"]) and "pending" in call.note
    assert not call.fallback
    joined = replace(TG, event_kind=EventKind.MEMBER_JOINED)
    (call,) = calls_for_action(Platform.TELEGRAM, action(ActionType.HOLD_FOR_REVIEW), joined)
    assert call.fallback


def test_telegram_notify_admins() -> None:
    ((method, params),) = tg(ActionType.NOTIFY_ADMINS)
    assert (method, params["chat_id"]) == ("sendMessage", -1009999999999)
    # no rule id: admins read what happened, not the ruleset's internals
    assert params["text"] == "[Firekeeper] chat -1001000000001: please keep to the topic"


def test_telegram_slow_mode_falls_back_to_asking_admins() -> None:
    (call,) = calls_for_action(
        Platform.TELEGRAM, action(ActionType.SET_SLOW_MODE, duration_seconds=45), TG
    )
    assert call.method == "sendMessage" and call.fallback
    # rounded up to an app step, in words
    assert "slow mode: one message every 1 minute" in str(call.params["text"])
    assert "read-only" in call.note


def test_telegram_pause_invites_turns_links_into_requests() -> None:
    (call,) = calls_for_action(
        Platform.TELEGRAM, action(ActionType.PAUSE_INVITES, duration_seconds=7200), TG
    )
    assert call.method == "editChatInviteLink" and call.fallback
    assert call.params == {
        "chat_id": CHAT,
        "invite_link": "https://t.me/+AbC",
        "creates_join_request": True,
    }
    assert "after 2 h" in call.note
    no_links = replace(TG, invite_links=())
    (call,) = calls_for_action(Platform.TELEGRAM, action(ActionType.PAUSE_INVITES), no_links)
    assert call.method == "sendMessage" and call.fallback


# ------------------------------------------------------------------ Discord


def test_discord_delete_warn_post() -> None:
    channel = "290926798999357250"
    assert dc(ActionType.DELETE_MESSAGE) == [("DELETE", f"/channels/{channel}/messages/610", {})]
    ((verb, route, body),) = dc(ActionType.WARN_USER)
    assert (verb, route) == ("POST", f"/channels/{channel}/messages")
    assert body == {
        "content": "<@222> please keep to the topic",
        "allowed_mentions": {"parse": [], "users": ["222"]},
        "message_reference": {"message_id": "610", "fail_if_not_exists": False},
    }
    ((_, _, post),) = dc(ActionType.POST_MESSAGE)
    assert post == {"content": "please keep to the topic", "allowed_mentions": {"parse": []}}


def test_discord_moderation_calls_name_the_rule_in_the_audit_log() -> None:
    (call,) = calls_for_action(Platform.DISCORD, action(ActionType.BAN), DC)
    assert call.headers == {"X-Audit-Log-Reason": "firekeeper rule r1"}


def test_discord_mute_is_a_timeout_of_at_most_28_days() -> None:
    guild = "197038439483310086"
    assert dc(ActionType.MUTE) == [
        (
            "PATCH",
            f"/guilds/{guild}/members/222",
            {"communication_disabled_until": "2024-06-01T12:10:00+00:00"},
        )
    ]
    (call,) = calls_for_action(
        Platform.DISCORD, action(ActionType.MUTE, duration_seconds=90 * 86400), DC
    )
    assert call.params == {"communication_disabled_until": "2024-06-29T12:00:00+00:00"}
    assert call.fallback


def test_discord_remove_ban_and_joins() -> None:
    guild = "197038439483310086"
    assert dc(ActionType.REMOVE) == [("DELETE", f"/guilds/{guild}/members/222", {})]
    assert dc(ActionType.BAN, duration_seconds=0) == [("PUT", f"/guilds/{guild}/bans/222", {})]
    (timed,) = calls_for_action(Platform.DISCORD, action(ActionType.BAN), DC)
    assert timed.fallback and "do not expire" in timed.note
    assert dc(ActionType.APPROVE_JOIN) == [("none", "", {})]
    (deny,) = calls_for_action(Platform.DISCORD, action(ActionType.DENY_JOIN), DC)
    assert (deny.method, deny.route, deny.fallback) == (
        "DELETE",
        f"/guilds/{guild}/members/222",
        True,
    )


def test_discord_hold_and_notify_post_in_the_admin_channel() -> None:
    for kind in (ActionType.HOLD_FOR_REVIEW, ActionType.NOTIFY_ADMINS):
        ((verb, route, body),) = dc(kind)
        assert (verb, route) == ("POST", "/channels/290926798999357000/messages")
        assert body["allowed_mentions"] == {"parse": []}


def test_discord_slow_mode_per_channel() -> None:
    assert dc(ActionType.SET_SLOW_MODE) == [
        ("PATCH", "/channels/290926798999357250", {"rate_limit_per_user": 600})
    ]
    (call,) = calls_for_action(
        Platform.DISCORD, action(ActionType.SET_SLOW_MODE, duration_seconds=86400), DC
    )
    assert call.params == {"rate_limit_per_user": 21600} and call.fallback


def test_discord_pause_invites_for_at_most_a_day() -> None:
    guild = "197038439483310086"
    assert dc(ActionType.PAUSE_INVITES, duration_seconds=3600) == [
        (
            "PUT",
            f"/guilds/{guild}/incident-actions",
            {"invites_disabled_until": "2024-06-01T13:00:00+00:00"},
        )
    ]
    (call,) = calls_for_action(
        Platform.DISCORD, action(ActionType.PAUSE_INVITES, duration_seconds=0), DC
    )
    assert call.params == {"invites_disabled_until": "2024-06-02T12:00:00+00:00"} and call.fallback


# ------------------------------------------------------------------ WeCom


def test_wecom_group_message_needs_confirmation() -> None:
    for kind in (ActionType.WARN_USER, ActionType.POST_MESSAGE):
        (call,) = calls_for_action(Platform.WECOM, action(kind), WC)
        assert (call.method, call.route) == ("POST", "/cgi-bin/externalcontact/add_msg_template")
        assert call.params["chat_type"] == "group"
        assert call.params["chat_id_list"] == ["wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"]
        assert call.params["sender"] == "zhangsan"
        assert call.fallback and "confirm" in call.note
    (warn,) = calls_for_action(Platform.WECOM, action(ActionType.WARN_USER), WC)
    assert warn.params["text"] == {"content": "@user 222 please keep to the topic"}


def test_wecom_cannot_mute_so_it_warns_and_tells_admins() -> None:
    warn, notify = calls_for_action(Platform.WECOM, action(ActionType.MUTE), WC)
    assert warn.route == "/cgi-bin/externalcontact/add_msg_template"
    assert (notify.route, notify.params["touser"], notify.params["agentid"]) == (
        "/cgi-bin/message/send",
        "zhangsan|lisi",
        1000002,
    )
    assert warn.fallback and notify.fallback and "cannot mute" in notify.note


def test_wecom_actions_without_an_api_tell_admins() -> None:
    for kind in (
        ActionType.DELETE_MESSAGE,
        ActionType.REMOVE,
        ActionType.BAN,
        ActionType.DENY_JOIN,
        ActionType.HOLD_FOR_REVIEW,
        ActionType.SET_SLOW_MODE,
    ):
        (call,) = calls_for_action(Platform.WECOM, action(kind), WC)
        assert call.route == "/cgi-bin/message/send" and call.fallback, kind
        assert call.params["msgtype"] == "text"
    (notify,) = calls_for_action(Platform.WECOM, action(ActionType.NOTIFY_ADMINS), WC)
    assert notify.route == "/cgi-bin/message/send" and not notify.fallback
    (approve,) = calls_for_action(Platform.WECOM, action(ActionType.APPROVE_JOIN), WC)
    assert approve.is_noop


def test_wecom_pause_invites_deletes_join_ways() -> None:
    (call,) = calls_for_action(Platform.WECOM, action(ActionType.PAUSE_INVITES), WC)
    assert (call.route, call.params) == (
        "/cgi-bin/externalcontact/groupchat/del_join_way",
        {"config_id": "9ad7fa5cdaa6511298498f979c472aaa"},
    )
    no_ways = replace(WC, join_way_config_ids=())
    (call,) = calls_for_action(Platform.WECOM, action(ActionType.PAUSE_INVITES), no_ways)
    assert call.route == "/cgi-bin/message/send" and call.fallback


def test_wecom_app_text_is_cut_at_2048_bytes() -> None:
    (call,) = calls_for_action(
        Platform.WECOM, action(ActionType.NOTIFY_ADMINS, text="长" * 1000), WC
    )
    content = call.params["text"]["content"]  # type: ignore[index]
    assert len(content.encode("utf-8")) <= 2048


# ------------------------------------------------------------------ the {mention} placeholder


def test_each_adapter_puts_its_mention_where_the_placeholder_stands() -> None:
    text = "{mention} 同样的内容发一次大家就能看到，请不要刷屏。"
    values = {"text": text, "mention_user_id": "222"}
    ((_, tg_params),) = tg(ActionType.WARN_USER, **values)
    assert tg_params["text"] == "Bob 同样的内容发一次大家就能看到，请不要刷屏。"
    assert tg_params["entities"] == [
        {"type": "text_link", "offset": 0, "length": 3, "url": "tg://user?id=222"}
    ]
    ((_, _, dc_body),) = dc(ActionType.WARN_USER, **values)
    assert dc_body["content"] == "<@222> 同样的内容发一次大家就能看到，请不要刷屏。"
    assert dc_body["allowed_mentions"] == {"parse": [], "users": ["222"]}
    (wc,) = calls_for_action(Platform.WECOM, action(ActionType.WARN_USER, **values), WC)
    # a Chinese text names a member without a display name in Chinese
    assert wc.params["text"] == {"content": "@用户 222 同样的内容发一次大家就能看到，请不要刷屏。"}


def test_a_mention_inside_the_text_is_linked_where_it_is() -> None:
    # 😀 is two UTF-16 units: Telegram's offsets count those
    values = {"text": "😀 Thanks {mention}, once is enough.", "mention_user_id": "222"}
    ((_, params),) = tg(ActionType.WARN_USER, **values)
    assert params["text"] == "😀 Thanks Bob, once is enough."
    assert params["entities"] == [
        {"type": "text_link", "offset": 10, "length": 3, "url": "tg://user?id=222"}
    ]


def test_a_second_placeholder_pings_nobody_twice_and_none_is_left_without_a_member() -> None:
    values = {"text": "{mention} stop {mention}", "mention_user_id": "222"}
    ((_, _, body),) = dc(ActionType.WARN_USER, **values)
    assert body["content"] == "<@222> stop "
    alone = {"text": "{mention} Nobody to mention.", "target_user_id": "", "mention_user_id": ""}
    ((_, params),) = tg(ActionType.WARN_USER, **alone)
    assert params["text"] == "Nobody to mention."


def test_the_placeholder_is_the_one_the_rules_write() -> None:
    from firekeeper.adapters.calls import MENTION
    from firekeeper.rules.templates import MENTION_TOKEN

    assert MENTION == MENTION_TOKEN
