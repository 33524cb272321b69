"""WeCom translators (customer-group callbacks, message archive) on real and documented payloads.

Real payloads (``shared/fixtures/payloads/wecom``, see ``SOURCES.md``):
- ``senparc_change_external_chat_update.xml``, from JeffreySu/WeiXinMPSDK
  ``src/Senparc.Weixin.Work/Senparc.Weixin.Work.Test/MessageHandlers/WorkMessageHandlerTest.Change_Contact.cs``
  at d1d8f74b9594e41e69c08ddca2c472b4c72c098e, BSD-3-Clause (marked 官方提供 there).
- ``docs_format_change_external_chat_update_add_member_thirdparty.xml``, the WeCom docs
  format (third-party 指令回调, document/path/92277 §客户群变更事件); docs text, reference.
- ``wxjava_msgaudit_official_samples.jsonl``, from binarywang/WxJava
  ``weixin-java-cp/src/test/java/me/chanjar/weixin/cp/api/WxCpMsgAuditTest.java`` at
  1ec1af0a6034f07eb67e45048a6f063c0547d83a, Apache-2.0 (the official 会话存档 samples).
Documented samples: ``samples/wecom_callbacks.json`` and
``samples/wecom_archive_group_records.jsonl`` (see ``samples/README.md``).
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from firekeeper.adapters import (
    PayloadError,
    SequenceHint,
    Translation,
    WeComContext,
    translate_wecom_archive,
    translate_wecom_callback,
)
from firekeeper.adapters.wecom_archive import archive_message
from firekeeper.domain.events import (
    Attachment,
    ChatUpdated,
    JoinMethod,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    Platform,
)

CTX = WeComContext(tenant="acme")
ROOM = "wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA"


def _jsonl(path: Path) -> list[dict[str, Any]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def wecom_dir(payloads_dir: Path) -> Path:
    return payloads_dir / "wecom"


@pytest.fixture(scope="module")
def callbacks(samples_dir: Path) -> dict[str, str]:
    data: dict[str, str] = json.loads((samples_dir / "wecom_callbacks.json").read_text("utf-8"))
    return data


@pytest.fixture(scope="module")
def official_records(wecom_dir: Path) -> dict[str, dict[str, Any]]:
    records = _jsonl(wecom_dir / "wxjava_msgaudit_official_samples.jsonl")
    return {r.get("msgtype") or r["action"]: r for r in records}


def test_every_real_payload_is_covered(wecom_dir: Path, official_records: dict[str, Any]) -> None:
    assert sorted(p.name for p in wecom_dir.iterdir()) == [
        "docs_format_change_external_chat_update_add_member_thirdparty.xml",
        "senparc_change_external_chat_update.xml",
        "wxjava_msgaudit_official_samples.jsonl",
    ]
    assert set(official_records) == {
        "text", "revoke", "agree", "card", "link", "weapp", "collect", "redpacket",
        "meeting", "switch", "docmsg", "markdown",
    }  # fmt: skip


# ------------------------------------------------------------------ callbacks, real


def test_third_party_add_member_gives_one_join_per_member(wecom_dir: Path) -> None:
    xml = (
        wecom_dir / "docs_format_change_external_chat_update_add_member_thirdparty.xml"
    ).read_text()
    result = translate_wecom_callback(xml, CTX)
    assert [e.payload.member.id for e in result.events] == ["Jack", "Rose"]
    base = result.events[0].envelope.event_id.rsplit(":", 1)[0]
    assert base.startswith("wecom:cb:")
    assert [e.envelope.event_id for e in result.events] == [f"{base}:Jack", f"{base}:Rose"]
    for event in result.events:
        env = event.envelope
        assert (env.platform, env.tenant, env.chat_id) == (Platform.WECOM, "acme", "CHAT_ID")
        assert env.occurred_at == datetime.fromtimestamp(1403610513, tz=UTC)
        # JoinScene 1: invited directly by a member, who the callback does not name.
        assert event.payload == MemberJoined(
            event.payload.member, method=JoinMethod.ADDED_BY_MEMBER
        )
        assert env.actor.id == event.payload.member.id
    assert result.sequence_hint == SequenceHint(
        "CHAT_ID", "9c3f97c2ada667dfb5f6d03308d963e1", "71217227bbd112ecfe3a49c482195cb4"
    )


def test_inviters_from_groupchat_get_fill_the_gap(wecom_dir: Path) -> None:
    xml = (
        wecom_dir / "docs_format_change_external_chat_update_add_member_thirdparty.xml"
    ).read_text()
    ctx = WeComContext("acme", inviters={"Rose": "zhangsan"})
    jack, rose = translate_wecom_callback(xml, ctx).events
    assert jack.payload.inviter is None
    assert rose.payload.inviter.id == "zhangsan"
    assert rose.envelope.actor.id == "zhangsan"


def test_self_built_change_name(wecom_dir: Path) -> None:
    xml = (wecom_dir / "senparc_change_external_chat_update.xml").read_bytes()
    # The callback lacks the new name: an event would blank the stored title.
    bare = translate_wecom_callback(xml, CTX)
    assert bare.events == ()
    assert "WeComContext.chat_title" in bare.skipped[0].reason
    assert bare.sequence_hint is not None
    assert bare.sequence_hint.current == "15722766561cf8bce92480a3d1457654"
    named = translate_wecom_callback(xml, WeComContext("acme", chat_title="售后群", member_count=2))
    (event,) = named.events
    assert named.skipped == ()
    assert event.envelope.event_id.startswith("wecom:cb:")
    assert event.envelope.chat_id == "wree9uDgAAfxkLu5-lEbsmQBjsb7V8Cg"
    assert event.envelope.actor is None  # a change reported by the platform itself
    assert event.envelope.occurred_at == datetime.fromtimestamp(1700642907, tz=UTC)
    assert event.payload == ChatUpdated(title="售后群", title_changed=True, platform_member_count=2)
    assert named.sequence_hint == bare.sequence_hint


# ------------------------------------------------------------------ callbacks, documented


def test_del_member_removed_and_left(callbacks: dict[str, str]) -> None:
    (removed,) = translate_wecom_callback(callbacks["del_member_removed"], CTX).events
    assert removed.payload == MemberLeft(removed.payload.member, LeaveReason.REMOVED)
    assert removed.payload.removed_by is None  # WeCom does not say who
    assert removed.payload.member.id == "wmEAlECwAAHmz6b9lP0wFCdzfIX0YVnw"
    left = translate_wecom_callback(callbacks["del_member_left_thirdparty"], CTX)
    assert [e.payload.member.id for e in left.events] == [
        "wmEAlECwAAHmz6b9lP0wFCdzfIX0YVnx",
        "zhangsan",
    ]
    assert {e.payload.reason for e in left.events} == {LeaveReason.LEFT}
    assert left.sequence_hint is not None
    assert left.sequence_hint.previous == "a7e1f2c0c93b4f2f8d5e6a1b2c3d4e5f"


def test_versions_chain_so_an_adapter_can_reorder(callbacks: dict[str, str]) -> None:
    order = ["del_member_removed", "del_member_left_thirdparty", "add_member_qr_code"]
    hints = [translate_wecom_callback(callbacks[k], CTX).sequence_hint for k in order]
    assert all(h is not None for h in hints)
    for before, after in itertools.pairwise(hints):
        assert before is not None and after is not None
        assert after.previous == before.current


def test_add_member_by_qr_code(callbacks: dict[str, str]) -> None:
    (event,) = translate_wecom_callback(callbacks["add_member_qr_code"], CTX).events
    assert event.payload.method is JoinMethod.QR_CODE


def test_add_member_without_list_is_skipped_with_the_count(callbacks: dict[str, str]) -> None:
    result = translate_wecom_callback(callbacks["add_member_without_list"], CTX)
    assert result.events == ()
    assert "3 member(s)" in result.skipped[0].reason
    assert "groupchat/get" in result.skipped[0].reason
    assert result.sequence_hint is None


def test_create_dismiss_notice_owner_and_other_events(callbacks: dict[str, str]) -> None:
    (created,) = translate_wecom_callback(callbacks["create"], WeComContext("acme", "新群")).events
    assert created.payload == ChatUpdated(title="新群", title_changed=True)
    dismissed = translate_wecom_callback(callbacks["dismiss"], CTX)
    assert dismissed.events == () and dismissed.skipped[0].native_type == "dismiss"
    no_text = translate_wecom_callback(callbacks["change_notice"], CTX)
    assert no_text.events == () and "chat_notice" in no_text.skipped[0].reason
    notice_ctx = WeComContext("acme", chat_notice="群规：禁止广告")
    (notice,) = translate_wecom_callback(callbacks["change_notice"], notice_ctx).events
    assert notice.payload == ChatUpdated(
        announcement_text="群规：禁止广告", announcement_changed=True
    )
    owner = translate_wecom_callback(callbacks["change_owner"], CTX)
    assert owner.events == () and "new owner" in owner.skipped[0].reason
    other = translate_wecom_callback(callbacks["other_event"], CTX)
    assert other.events == () and other.skipped[0].native_type == "change_external_contact"


def test_callback_ids_are_stable_and_distinct(callbacks: dict[str, str]) -> None:
    ids = []
    for key, xml in callbacks.items():
        if key.startswith("_"):
            continue
        first, again = translate_wecom_callback(xml, CTX), translate_wecom_callback(xml, CTX)
        assert first == again, key
        ids += [e.envelope.event_id for e in first.events]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize(
    ("xml", "field"),
    [
        ("<xml><MsgType>event", "xml"),
        ('<!DOCTYPE x [<!ENTITY a "b">]><xml/>', "xml"),
        (
            "<xml><InfoType>change_external_chat</InfoType><TimeStamp>1</TimeStamp></xml>",
            "xml.ChatId",
        ),
        (
            "<xml><InfoType>change_external_chat</InfoType><ChatId>c</ChatId></xml>",
            "xml.CreateTime",
        ),
    ],
)
def test_malformed_callbacks_name_the_field(xml: str, field: str) -> None:
    with pytest.raises(PayloadError) as err:
        translate_wecom_callback(xml, CTX)
    assert err.value.field == field


# ------------------------------------------------------------------ archive, real


def test_real_archive_records(official_records: dict[str, dict[str, Any]]) -> None:
    reasons = {
        key: translate_wecom_archive(record, CTX).skipped[0].reason
        for key, record in official_records.items()
        if not translate_wecom_archive(record, CTX).events
    }
    # Every official sample outside a group is a 1:1 record, a recall, a consent or a switch.
    assert set(reasons) == {
        "text",
        "revoke",
        "agree",
        "card",
        "link",
        "weapp",
        "redpacket",
        "switch",
    }
    assert "recall of message 14822339130656386894_1603875600" in reasons["revoke"]
    assert "consent" in reasons["agree"]
    assert "device-switch" in reasons["switch"]
    assert all("1:1" in reasons[k] for k in ("text", "card", "link", "weapp", "redpacket"))


def test_real_archive_group_records(official_records: dict[str, dict[str, Any]]) -> None:
    (docmsg,) = translate_wecom_archive(official_records["docmsg"], CTX).events
    assert docmsg.envelope.event_id == "wecom:9732089160923053207_1603877765"
    assert docmsg.envelope.chat_id == "wrJawBCQAAStr3jxVxEH"
    assert docmsg.envelope.actor.id == "ken"
    assert docmsg.envelope.occurred_at == datetime(2020, 10, 28, 9, 36, 5, 291000, tzinfo=UTC)
    assert docmsg.payload.attachments == (
        Attachment(
            "link_card",
            url="https://doc.weixin.qq.com/txdoc/excel?docid=xxx",
            title="测试&演示客户",
        ),
    )
    assert docmsg.payload.links == ("https://doc.weixin.qq.com/txdoc/excel?docid=xxx",)
    (markdown,) = translate_wecom_archive(official_records["markdown"], CTX).events
    assert markdown.payload.text == "请前往系统查看，谢谢。"
    (meeting,) = translate_wecom_archive(official_records["meeting"], CTX).events
    assert meeting.payload.attachments == (
        Attachment("other", title="meeting", description="夕会"),
    )
    (collect,) = translate_wecom_archive(official_records["collect"], CTX).events
    assert collect.payload.attachments == (
        Attachment("other", title="collect", description="这是填表title"),
    )


def test_real_one_to_one_records_still_read(official_records: dict[str, dict[str, Any]]) -> None:
    # Skipped as events (no room), their content maps as it would in a group.
    assert archive_message(official_records["text"]).text == "test"
    link = archive_message(official_records["link"])
    assert link.attachments[0].kind == "link_card"
    assert link.attachments[0].title == "邀请你加入群聊"
    assert link.links == (
        "https://work.weixin.qq.com/wework_admin/external_room/join/exceed?vcode=xxx",
    )
    assert archive_message(official_records["weapp"]).attachments == (
        Attachment(
            "mini_program",
            title="开始聊天前请仔细阅读服务须知事项",
            description="客户需同意存档聊天记录",
        ),
    )
    assert archive_message(official_records["card"]).attachments == (
        Attachment(
            "contact_card", title="wmGAgeDQAAGjFmfnP7A3j2JxQDdLNhSw", description="微信联系人"
        ),
    )
    assert archive_message(official_records["redpacket"]).attachments == (
        Attachment("other", title="redpacket", description="恭喜发财，大吉大利"),
    )


# ------------------------------------------------------------------ archive, documented


def test_documented_group_records(samples_dir: Path) -> None:
    records = _jsonl(samples_dir / "wecom_archive_group_records.jsonl")
    results: list[Translation] = [translate_wecom_archive(r, CTX) for r in records]
    assert all(len(t.events) == 1 and not t.skipped for t in results)
    by_type = {r["msgtype"]: t.events[0].payload for r, t in zip(records, results, strict=True)}
    assert by_type["text"].text == "加我微信领红包 https://promo.example.cn"
    kinds = {k: [a.kind for a in p.attachments] for k, p in by_type.items()}
    assert kinds == {
        "text": [], "image": ["image"], "file": ["file"], "emotion": ["sticker"],
        "location": ["location"], "link": ["link_card"], "weapp": ["mini_program"],
        "card": ["contact_card"], "vote": ["poll"], "chatrecord": [], "mixed": ["image"],
        "news": ["link_card"],
    }  # fmt: skip
    assert by_type["file"].attachments[0].file_name == "资料.docx"
    assert by_type["location"].attachments[0].title == "xxx管理中心"
    assert by_type["chatrecord"].is_forward
    assert by_type["mixed"].text == "看这张图"
    assert by_type["news"].links == ("https://news.example.cn/a",)
    assert all(t.events[0].envelope.chat_id == ROOM for t in results)


def test_archive_bad_records() -> None:
    with pytest.raises(PayloadError) as err:
        translate_wecom_archive({"action": "send"}, CTX)
    assert err.value.field == "record.msgid"
    mixed = {
        "msgid": "1", "action": "send", "from": "a", "roomid": "r", "msgtime": 1,
        "msgtype": "mixed", "mixed": {"item": [{"type": "text", "content": "{not json"}]},
    }  # fmt: skip
    with pytest.raises(PayloadError) as err:
        translate_wecom_archive(mixed, CTX)
    assert err.value.field == "record.mixed.item[0].content"
