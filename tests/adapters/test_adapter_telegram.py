"""Telegram translator on real and documented payloads.

Real payloads (``shared/fixtures/payloads/telegram``, see ``SOURCES.md``):
- ``teloxide_update_rs_real_updates.json`` and ``teloxide_message_rs_real_messages.json``,
  from teloxide/teloxide ``crates/teloxide-core/src/types/{update,message}.rs`` at
  3c46b96e0dc0cabc75d6430c4566d7e2e12fd233, MIT license.
Documented samples: ``samples/telegram_updates.json`` (Bot API reference; see
``samples/README.md``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from firekeeper.adapters import (
    MembershipSource,
    PayloadError,
    TelegramContext,
    Translation,
    translate_telegram,
)
from firekeeper.adapters.telegram_content import message_posted
from firekeeper.domain.events import (
    Attachment,
    ChatUpdated,
    JoinMethod,
    JoinRequested,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    Mention,
    MessagePosted,
    Platform,
    Role,
    RoleChanged,
)

CTX = TelegramContext(tenant="acme")
CHAT_MEMBER_CTX = TelegramContext(tenant="acme", membership_source=MembershipSource.CHAT_MEMBER)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def updates(payloads_dir: Path) -> dict[str, Any]:
    return _load(payloads_dir / "telegram" / "teloxide_update_rs_real_updates.json")


@pytest.fixture(scope="module")
def messages(payloads_dir: Path) -> dict[str, Any]:
    return _load(payloads_dir / "telegram" / "teloxide_message_rs_real_messages.json")


@pytest.fixture(scope="module")
def samples(samples_dir: Path) -> dict[str, Any]:
    return _load(samples_dir / "telegram_updates.json")


def _only(translation: Translation) -> Any:
    assert not translation.skipped, translation.skipped
    assert len(translation.events) == 1
    return translation.events[0]


# ------------------------------------------------------------------ real payloads


def test_every_real_payload_is_covered(updates: dict[str, Any], messages: dict[str, Any]) -> None:
    # A new payload in the fixtures must get its own test below.
    assert set(updates) == {
        "issue_1107_story_spam_then_report_in_supergroup",
        "de_private_chat_text_message",
        "pinned_message_works",
    }
    assert set(messages) == {"parse_caption_entities_photo_with_url_entity", "topic_message"}


def test_story_only_message_is_a_message_with_a_story(updates: dict[str, Any]) -> None:
    story, _ = updates["issue_1107_story_spam_then_report_in_supergroup"]
    event = _only(translate_telegram(story, CTX))
    env = event.envelope
    assert env.event_id == "tg:439432599"
    assert env.platform is Platform.TELEGRAM
    assert (env.tenant, env.chat_id) == ("acme", "-1001293752024")
    assert env.occurred_at == datetime.fromtimestamp(1721592028, tz=UTC)
    assert env.actor.id == "6962620676"
    assert env.actor.display_name == "Wert"
    assert env.actor.account_created_at is None  # Telegram never tells
    assert event.payload == MessagePosted(
        message_id="134545",
        attachments=(Attachment("story", url="https://t.me/TONSpinChannel/s/2", title="TON Spin"),),
    )


def test_reply_in_a_plain_supergroup_is_a_reply_thread(updates: dict[str, Any]) -> None:
    _, report = updates["issue_1107_story_spam_then_report_in_supergroup"]
    event = _only(translate_telegram(report, CTX))
    assert event.envelope.event_id == "tg:439432600"
    # message_thread_id without is_topic_message: a reply thread, not a forum topic.
    assert (event.envelope.channel_id, event.envelope.thread_id) == ("", "134545")
    assert event.envelope.actor.language_code == "en"
    payload = event.payload
    assert payload.text == "/report"
    assert (payload.reply_to_message_id, payload.reply_to_user_id) == ("134545", "6962620676")
    assert payload.links == () and payload.mentions == ()  # bot_command entities are neither


def test_private_chat_is_skipped(updates: dict[str, Any]) -> None:
    (update,) = updates["de_private_chat_text_message"]
    result = translate_telegram(update, CTX)
    assert result.events == ()
    assert [s.native_type for s in result.skipped] == ["message/private"]
    assert "only groups" in result.skipped[0].reason


def test_pinned_message_is_a_pinned_notice_by_the_pinner(updates: dict[str, Any]) -> None:
    (update,) = updates["pinned_message_works"]
    event = _only(translate_telegram(update, CTX))
    assert event.envelope.event_id == "tg:845402291"
    assert event.envelope.actor.id == "408258968"  # who pinned
    assert event.envelope.occurred_at == datetime.fromtimestamp(1582134655, tz=UTC)  # pin time
    assert event.payload == MessagePosted(
        message_id="20224", text="Faster than a bullet", is_pinned_notice=True
    )


def test_photo_with_url_caption_entity(messages: dict[str, Any]) -> None:
    (msg,) = messages["parse_caption_entities_photo_with_url_entity"]
    # A private chat: skipped as an update...
    skipped = translate_telegram({"update_id": 1, "message": msg}, CTX)
    assert skipped.events == () and skipped.skipped[0].native_type == "message/private"
    # ...but its content still reads right.
    payload = message_posted(msg, "message")
    assert payload.text == "www.example.com"
    assert payload.links == ("www.example.com",)
    assert payload.attachments == (Attachment("image"),)


def test_forum_topic_created_is_a_skipped_service_message(messages: dict[str, Any]) -> None:
    (msg,) = messages["topic_message"]
    result = translate_telegram({"update_id": 7, "message": msg}, CTX)
    assert result.events == ()
    assert result.skipped[0].native_type == "message/forum_topic_created"


# ------------------------------------------------------------------ documented samples


def test_new_members_added_by_a_member_give_one_event_each(samples: dict[str, Any]) -> None:
    result = translate_telegram(samples["new_chat_members_added_by_member"], CTX)
    assert [e.envelope.event_id for e in result.events] == ["tg:900000001:222", "tg:900000001:333"]
    for event in result.events:
        assert event.envelope.actor.id == "111"
        assert event.envelope.actor.display_name == "Alice Admin"
        assert event.payload.method is JoinMethod.ADDED_BY_MEMBER
        assert event.payload.inviter.id == "111"
        assert event.payload.invite_link == ""
    carol = result.events[1].payload.member
    assert (carol.language_code, carol.is_premium) == ("de", True)


def test_self_join_is_self_in_a_public_group_and_unknown_in_a_private_one(
    samples: dict[str, Any],
) -> None:
    public = _only(translate_telegram(samples["new_chat_members_self_join_public"], CTX))
    assert public.envelope.event_id == "tg:900000002:444"
    assert public.payload == MemberJoined(public.payload.member, method=JoinMethod.SELF)
    private = _only(translate_telegram(samples["new_chat_members_self_join_private"], CTX))
    assert private.payload.method is JoinMethod.UNKNOWN  # some link Telegram does not name
    assert private.payload.inviter is None
    assert private.envelope.actor.id == "555"


def test_left_chat_member(samples: dict[str, Any]) -> None:
    left = _only(translate_telegram(samples["left_chat_member_self"], CTX))
    assert left.payload == MemberLeft(left.payload.member, LeaveReason.LEFT)
    assert left.envelope.actor.id == "222"
    removed = _only(translate_telegram(samples["left_chat_member_removed"], CTX))
    assert removed.payload.reason is LeaveReason.REMOVED
    assert removed.payload.member.id == "333"
    assert removed.payload.removed_by.id == "111"
    assert removed.envelope.actor.id == "111"


def test_service_messages_are_skipped_when_chat_member_is_the_source(
    samples: dict[str, Any],
) -> None:
    for key in ("new_chat_members_added_by_member", "left_chat_member_removed"):
        result = translate_telegram(samples[key], CHAT_MEMBER_CTX)
        assert result.events == () and "chat_member" in result.skipped[0].reason


def test_chat_member_join_via_invite_link_names_the_link_and_its_creator(
    samples: dict[str, Any],
) -> None:
    event = _only(
        translate_telegram(samples["chat_member_joined_via_invite_link"], CHAT_MEMBER_CTX)
    )
    assert event.envelope.event_id == "tg:900000006"
    assert event.payload.method is JoinMethod.INVITE_LINK
    assert event.payload.invite_link == "https://t.me/+AbCdEf..."
    assert event.payload.inviter.id == "111"
    assert event.payload.member.id == "666"


def test_chat_member_join_via_request_and_added_by_member(samples: dict[str, Any]) -> None:
    request = _only(
        translate_telegram(samples["chat_member_joined_via_join_request"], CHAT_MEMBER_CTX)
    )
    assert request.payload.method is JoinMethod.JOIN_REQUEST
    assert request.payload.inviter is None  # the approving admin is not an inviter
    assert request.envelope.actor.id == "111"
    added = _only(translate_telegram(samples["chat_member_added_by_member"], CHAT_MEMBER_CTX))
    assert added.payload.method is JoinMethod.ADDED_BY_MEMBER
    assert added.payload.inviter.id == "111"
    assert added.payload.member.is_bot


def test_chat_member_leaves_and_bans(samples: dict[str, Any]) -> None:
    left = _only(translate_telegram(samples["chat_member_left"], CHAT_MEMBER_CTX))
    assert left.payload == MemberLeft(left.payload.member, LeaveReason.LEFT)
    banned = _only(translate_telegram(samples["chat_member_banned"], CHAT_MEMBER_CTX))
    assert banned.payload.reason is LeaveReason.BANNED
    assert banned.payload.removed_by.id == "111"


def test_chat_member_joins_and_leaves_are_skipped_when_service_messages_are_the_source(
    samples: dict[str, Any],
) -> None:
    for key in ("chat_member_joined_via_invite_link", "chat_member_banned"):
        result = translate_telegram(samples[key], CTX)
        assert result.events == () and "service messages" in result.skipped[0].reason


def test_promotion_is_a_role_change_whatever_the_source(samples: dict[str, Any]) -> None:
    for ctx in (CTX, CHAT_MEMBER_CTX):
        event = _only(translate_telegram(samples["chat_member_promoted"], ctx))
        assert isinstance(event.payload, RoleChanged)
        assert (event.payload.old_role, event.payload.new_role) == (Role.MEMBER, Role.ADMIN)
        assert event.payload.member.role is Role.ADMIN


def test_edited_restriction_is_no_change(samples: dict[str, Any]) -> None:
    result = translate_telegram(samples["chat_member_restricted_still_member"], CHAT_MEMBER_CTX)
    assert result.events == () and result.skipped[0].native_type == "chat_member"


def test_join_request_carries_bio_link_and_link_creator(samples: dict[str, Any]) -> None:
    event = _only(translate_telegram(samples["chat_join_request"], CTX))
    assert event.envelope.event_id == "tg:900000013"
    assert isinstance(event.payload, JoinRequested)
    assert event.payload.bio == "Crypto signals 100x, DM me"
    assert event.payload.invite_link == "https://t.me/+XyZ..."
    assert event.payload.inviter.id == "111"
    assert event.envelope.actor.id == "999"


def test_entities_use_utf16_offsets_and_topics_are_channels(samples: dict[str, Any]) -> None:
    event = _only(translate_telegram(samples["group_message_entities_topic_forward"], CTX))
    assert (event.envelope.channel_id, event.envelope.thread_id) == ("600", "")
    payload = event.payload
    # The 👍 before the URL is two UTF-16 units: a code-point slice would cut it wrong.
    assert payload.links == ("https://spam.example/x", "https://doc.rust-lang.org/book/")
    assert payload.mentions == (Mention(user_id="@bob_b"), Mention(user_id="333"))
    # In a topic every message points at the topic's creation: that is not a reply.
    assert payload.reply_to_message_id == ""
    assert (payload.is_forward, payload.forwarded_from) == (True, "-1002000000009")


def test_edited_reply_with_document(samples: dict[str, Any]) -> None:
    event = _only(translate_telegram(samples["edited_group_reply_with_document"], CTX))
    payload = event.payload
    assert payload.is_edit
    assert payload.text == "here: https://slides.example.org"
    assert payload.links == ("https://slides.example.org",)
    assert payload.attachments == (Attachment("file", file_name="slides.pdf"),)
    assert (payload.reply_to_message_id, payload.reply_to_user_id) == ("504", "111")


def test_anonymous_admin_is_the_group_as_an_admin(samples: dict[str, Any]) -> None:
    event = _only(translate_telegram(samples["anonymous_admin_poll"], CTX))
    actor = event.envelope.actor
    assert (actor.id, actor.role, actor.display_name) == (
        "-1001000000001",
        Role.ADMIN,
        "Rust learners",
    )
    assert event.payload.attachments == (Attachment("poll", title="Next meetup topic?"),)


def test_new_title_and_the_bots_own_membership(samples: dict[str, Any]) -> None:
    event = _only(translate_telegram(samples["new_chat_title"], CTX))
    assert event.payload == ChatUpdated(title="Rust learners 2024", title_changed=True)
    result = translate_telegram(samples["my_chat_member"], CTX)
    assert result.events == () and result.skipped[0].native_type == "my_chat_member"


# ------------------------------------------------------------------ ids and bad input


def test_every_sample_translates_the_same_twice(samples: dict[str, Any]) -> None:
    for key, update in samples.items():
        if key.startswith("_"):
            continue
        for ctx in (CTX, CHAT_MEMBER_CTX):
            assert translate_telegram(update, ctx) == translate_telegram(update, ctx), key


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({}, "update.update_id"),
        ({"update_id": 1, "message": {"chat": {"id": 1, "type": "group"}}}, "update.message.date"),
        (
            {"update_id": 1, "message": {"chat": {"type": "group"}, "date": 1, "text": "x"}},
            "chat.id",
        ),
        ({"update_id": 1, "message": "not an object"}, "update.message"),
    ],
)
def test_malformed_updates_name_the_field(update: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadError) as err:
        translate_telegram(update, CTX)
    assert err.value.field == field


def test_unknown_update_types_are_skipped() -> None:
    result = translate_telegram({"update_id": 5, "message_reaction": {}}, CTX)
    assert result.skipped[0].native_type == "message_reaction"
