"""Each example adapter, fed recorded payloads, prints the calls for the service's decisions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from .conftest import PAYLOADS, SAMPLES, RunExample

ADMIN_CHAT = "-1009999999"
DISCORD_ADMIN = "555000000000000001"
AT_CAP = ("--register", "goal", "--member-count", "49")  # the goal profile caps at 49


def calls(records: list[dict[str, Any]], payload_suffix: str) -> list[tuple[str, str]]:
    return [
        (r["method"], r["route"])
        for r in records
        if r["type"] == "call" and r["payload"].endswith(payload_suffix)
    ]


def test_telegram_joins_into_a_full_chat_are_refused_and_admins_told(
    service: str, run_example: RunExample
) -> None:
    source = str(PAYLOADS / "telegram_updates.jsonl")
    run = run_example(
        "telegram", source, "--target", service, *AT_CAP, "--admin-chat", ADMIN_CHAT, "--json"
    )
    assert run.returncode == 0, run.stderr
    records = run.records()
    decisions = [r for r in records if r["type"] == "decision"]
    assert [(d["event_id"], d["actions"]) for d in decisions[:3]] == [
        ("tg:900000001:222", ["deny_join", "notify_admins"]),
        ("tg:900000001:333", ["deny_join", "notify_admins"]),
        ("tg:900000013", ["deny_join", "notify_admins"]),
    ]
    # new_chat_members: already in, so the deny is a removal (ban + unban) and a notice
    joined = [r for r in records if r["type"] == "call" and r["payload"].endswith(":1")]
    assert [(c["method"], c["params"]["user_id"]) for c in joined[:2]] == [
        ("banChatMember", 222),
        ("unbanChatMember", 222),
    ]
    assert joined[0]["fallback"] and joined[0]["rule_id"] == "size.hard_cap"
    notice = joined[2]
    assert notice["method"] == "sendMessage" and notice["params"]["chat_id"] == int(ADMIN_CHAT)
    assert "stops at 49" in notice["params"]["text"]
    # chat_join_request: declined, and the admins told
    assert calls(records, ":2") == [("declineChatJoinRequest", ""), ("sendMessage", "")]
    request = next(r for r in records if r["type"] == "call" and r["payload"].endswith(":2"))
    assert request["params"] == {"chat_id": -1001000000001, "user_id": 999}
    # the supergroup story forward is decided (no action); the rest are skipped with reasons
    assert decisions[3]["event_id"] == "tg:900000020" and decisions[3]["actions"] == []
    skipped = {r["payload"]: r["reason"] for r in records if r["type"] == "skipped"}
    assert skipped == {
        "telegram_updates.jsonl:4": "private chat: only groups are governed",
        "telegram_updates.jsonl:5": "the bot's own membership changed; no member event",
    }


def test_telegram_text_output_and_a_replay(service: str, run_example: RunExample) -> None:
    args = ("--target", service, *AT_CAP, "--admin-chat", ADMIN_CHAT, "--only", "chat_join_request")
    source = str(SAMPLES / "telegram_updates.json")
    first = run_example("telegram", source, *args)
    again = run_example("telegram", source, *args)
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert first.stdout.splitlines()[:3] == [
        "telegram_updates.json:chat_join_request: tg:900000013 join.requested in chat"
        " -1001000000001 -> deny_join, notify_admins [rules: size.hard_cap_request]",
        '    declineChatJoinRequest {"chat_id": -1001000000001, "user_id": 999}',
        f'    sendMessage {{"chat_id": {ADMIN_CHAT}, "text": "[Firekeeper] chat'
        " -1001000000001: Declined the join request from Heidi:"
        ' the group is full (49 of 49 members)."}',
    ]
    assert "deny_join, notify_admins (replayed)" in again.stdout.splitlines()[0]


def test_telegram_reads_stdin(service: str, run_example: RunExample) -> None:
    update = (PAYLOADS / "telegram_updates.jsonl").read_text(encoding="utf-8").splitlines()[1]
    run = run_example("telegram", "-", "--target", service, "--json", stdin=update)
    assert run.returncode == 0, run.stderr
    (decision,) = run.records()
    assert decision["event_id"] == "tg:900000013" and decision["actions"] == []  # not full


def test_a_missing_admin_chat_is_reported_not_crashed_on(
    service: str, run_example: RunExample
) -> None:
    source = str(PAYLOADS / "telegram_updates.jsonl")
    run = run_example("telegram", source, "--target", service, *AT_CAP, "--only", "x")
    assert run.returncode != 0 and "no payload named x" in run.stderr
    run = run_example("telegram", source, "--target", service, *AT_CAP)
    assert run.returncode == 1
    assert "cannot map notify_admins: telling admins on telegram needs" in run.stdout
    assert "declineChatJoinRequest" in run.stdout


def test_discord_join_into_a_full_guild_is_kicked_and_admins_told(
    service: str, run_example: RunExample
) -> None:
    source = str(PAYLOADS / "discord_dispatches.jsonl")
    args = ("--target", service, *AT_CAP, "--admin-channel", DISCORD_ADMIN, "--json")
    run = run_example("discord", source, *args)
    assert run.returncode == 0, run.stderr
    records = run.records()
    guild, user = "197038439483310086", "1234567890123456789"
    assert calls(records, ":1") == [
        ("DELETE", f"/guilds/{guild}/members/{user}"),
        ("POST", f"/channels/{DISCORD_ADMIN}/messages"),
    ]
    kick = next(r for r in records if r["type"] == "call")
    assert kick["fallback"] and kick["action"] == "deny_join"
    skipped = [r["native_type"] for r in records if r["type"] == "skipped"]
    assert skipped == ["MESSAGE_CREATE", "op11"]  # a direct message, a heartbeat ACK


def test_wecom_callback_members_over_the_cap_go_to_admins(
    service: str, run_example: RunExample
) -> None:
    source = str(PAYLOADS / "wecom_add_member.xml")
    admin = ("--admin-user", "zhangsan", "--agent-id", "1000002")
    run = run_example("wecom", source, "--target", service, *AT_CAP, *admin, "--json")
    assert run.returncode == 0, run.stderr
    records = run.records()
    assert records[0]["type"] == "sequence" and records[0]["order"] == "in order"
    decisions = [r for r in records if r["type"] == "decision"]
    assert [d["event_id"].rsplit(":", 1)[1] for d in decisions] == ["Jack", "Rose"]
    sent = [r for r in records if r["type"] == "call"]
    assert [(c["route"], c["action"]) for c in sent] == [
        ("/cgi-bin/message/send", "deny_join"),
        ("/cgi-bin/message/send", "notify_admins"),
    ] * 2
    assert all(c["params"]["touser"] == "zhangsan" for c in sent)
    assert "please remove them" in sent[0]["params"]["text"]["content"]


def test_wecom_archive_records(service: str, run_example: RunExample) -> None:
    run = run_example("wecom", str(PAYLOADS / "wecom_archive.jsonl"), "--target", service)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].startswith(
        "wecom_archive.jsonl:1: wecom:1000000001_1717236000 message.posted in chat wrOgQhDg"
    )
    assert lines[3] == (
        "wecom_archive.jsonl:4: skipped (text): a 1:1 conversation (empty roomid):"
        " only groups are governed"
    )
    assert lines[4].startswith("wecom_archive.jsonl:5: skipped (recall): recall of message")


def test_no_service_exits_3_and_says_so(run_example: RunExample, tmp_path: Path) -> None:
    source = str(PAYLOADS / "telegram_updates.jsonl")
    run = run_example("telegram", source, "--target", "127.0.0.1:1", "--retries", "0")
    assert run.returncode == 3
    assert "did not answer" in run.stderr and "firekeeper serve" in run.stderr


@pytest.mark.parametrize(
    ("platform", "name", "options"),
    [
        ("telegram", "telegram/teloxide_update_rs_real_updates.json", ()),
        ("wecom", "wecom/senparc_change_external_chat_update.xml", ("--chat-title", "新名字")),
        ("wecom", "wecom/docs_format_change_external_chat_update_add_member_thirdparty.xml", ()),
        ("wecom", "wecom/wxjava_msgaudit_official_samples.jsonl", ()),
        (
            "discord",
            "discord/discord_api_docs_resource_examples.json",
            ("--event-type", "MESSAGE_CREATE", "--guild-id", "42", "--only", "Example Message"),
        ),
    ],
)
def test_every_real_fixture_payload_is_decided_or_skipped_with_a_reason(
    service: str,
    run_example: RunExample,
    shared_payloads: Path,
    platform: str,
    name: str,
    options: tuple[str, ...],
) -> None:
    source = str(shared_payloads / name)
    run = run_example(platform, source, "--target", service, "--json", *options)
    assert run.returncode == 0, run.stdout + run.stderr
    records = run.records()
    assert records and {r["type"] for r in records} <= {"decision", "skipped", "call", "sequence"}
    assert all(r["reason"] for r in records if r["type"] == "skipped")
    assert any(r["type"] == "decision" for r in records)


def test_a_change_the_callback_cannot_describe_is_skipped_with_what_to_pass(
    service: str, run_example: RunExample, shared_payloads: Path
) -> None:
    source = str(shared_payloads / "wecom/senparc_change_external_chat_update.xml")
    run = run_example("wecom", source, "--target", service)
    assert run.returncode == 0, run.stderr
    assert "skipped (change_name)" in run.stdout and "WeComContext.chat_title" in run.stdout
