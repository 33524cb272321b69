"""Discord translator on real and documented payloads.

Real payloads (``shared/fixtures/payloads/discord``, see ``SOURCES.md``):
- ``discord_api_docs_resource_examples.json``, the "Example …" JSON blocks of
  discord/discord-api-docs ``developers/resources/{message,guild,invite,auto-moderation}.mdx``
  at c98d64bc233833839cf0d8d369e81b77f21ade60; docs CC BY-SA 4.0, code MIT.
  These are REST resource objects, not gateway envelopes: they are passed as
  dispatch bodies with the event type they would arrive as.
Documented samples: ``samples/discord_gateway_dispatches.json`` (see ``samples/README.md``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from firekeeper.adapters import (
    DiscordContext,
    InviteUse,
    MissingContext,
    PayloadError,
    Translation,
    discord_invite,
    snowflake_time,
    translate_discord,
)
from firekeeper.domain.events import (
    Attachment,
    JoinMethod,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    Mention,
    MessagePosted,
    Platform,
)

GUILD = "197038439483310086"
CTX = DiscordContext(tenant="acme")
RECEIVED = datetime(2024, 6, 1, 11, 0, tzinfo=UTC)


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def examples(payloads_dir: Path) -> dict[str, Any]:
    return _load(payloads_dir / "discord" / "discord_api_docs_resource_examples.json")


@pytest.fixture(scope="module")
def samples(samples_dir: Path) -> dict[str, Any]:
    return _load(samples_dir / "discord_gateway_dispatches.json")


def _only(translation: Translation) -> Any:
    assert not translation.skipped, translation.skipped
    assert len(translation.events) == 1
    return translation.events[0]


def test_snowflake_gives_the_creation_time() -> None:
    # (id >> 22) + 1420070400000 ms: the Discord epoch is 2015-01-01.
    assert snowflake_time("53908099506183680") == datetime(
        2015, 5, 29, 18, 11, 32, 486000, tzinfo=UTC
    )
    assert snowflake_time("0") == datetime(2015, 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------ real payloads


def test_every_real_payload_is_covered(examples: dict[str, Any]) -> None:
    assert set(examples) == {
        "Example Message",
        "Example Crossposted Message",
        "Example Guild Member",
        "Example Ban",
        "Example Invite Object",
        "Example Invite Metadata",
        "Example Auto Moderation Rule",
    }


def test_example_message_needs_the_guild_from_the_caller(examples: dict[str, Any]) -> None:
    message = examples["Example Message"]
    without = translate_discord(message, CTX, "MESSAGE_CREATE")
    assert without.events == () and "direct message" in without.skipped[0].reason
    event = _only(
        translate_discord(message, DiscordContext("acme", guild_id=GUILD), "MESSAGE_CREATE")
    )
    env = event.envelope
    assert env.event_id == "dc:334385199974967042"
    assert env.platform is Platform.DISCORD
    assert (env.chat_id, env.channel_id) == (GUILD, "290926798999357250")
    assert env.occurred_at == datetime(2017, 7, 11, 17, 27, 7, 299000, tzinfo=UTC)
    assert env.actor.id == "53908099506183680"
    assert env.actor.display_name == "Mason"
    assert env.actor.account_created_at == snowflake_time("53908099506183680")
    assert event.payload == MessagePosted(message_id="334385199974967042", text="Supa Hot")


def test_crossposted_message_is_a_forward_not_a_reply(examples: dict[str, Any]) -> None:
    ctx = DiscordContext("acme", guild_id=GUILD)
    event = _only(translate_discord(examples["Example Crossposted Message"], ctx, "MESSAGE_CREATE"))
    payload = event.payload
    assert payload.text == "Big news! In this <#278325129692446722> channel!"
    assert (payload.is_forward, payload.forwarded_from) == (True, "278325129692446722")
    assert payload.reply_to_message_id == ""


def test_example_guild_member_without_user_id_is_rejected(examples: dict[str, Any]) -> None:
    member = examples["Example Guild Member"]  # a guild member object, without guild_id
    with pytest.raises(MissingContext, match="guild_id"):
        translate_discord(member, CTX, "GUILD_MEMBER_ADD")
    # The docs example leaves "user" empty; a real GUILD_MEMBER_ADD always has it.
    with pytest.raises(PayloadError) as err:
        translate_discord(member, DiscordContext("acme", guild_id=GUILD), "GUILD_MEMBER_ADD")
    assert err.value.field == "d.user.id"


def test_ban_and_automod_rule_have_no_event(examples: dict[str, Any]) -> None:
    ban = translate_discord(examples["Example Ban"], CTX, "GUILD_BAN_ADD")
    assert ban.events == () and "GUILD_MEMBER_REMOVE" in ban.skipped[0].reason
    rule = translate_discord(
        examples["Example Auto Moderation Rule"], CTX, "AUTO_MODERATION_RULE_CREATE"
    )
    assert rule.events == () and rule.skipped[0].native_type == "AUTO_MODERATION_RULE_CREATE"


def test_invite_is_skipped_but_readable(examples: dict[str, Any]) -> None:
    invite_object = examples["Example Invite Object"]
    skipped = translate_discord(invite_object, CTX, "INVITE_CREATE")
    assert skipped.events == () and skipped.skipped[0].native_type == "INVITE_CREATE"
    invite = discord_invite({**invite_object, **examples["Example Invite Metadata"]})
    assert invite.code == "0vCdhLbwjZZTWZLD"
    assert invite.url == "https://discord.gg/0vCdhLbwjZZTWZLD"
    assert (invite.guild_id, invite.channel_id) == ("165176875973476352", "165176875973476352")
    assert (invite.inviter_id, invite.inviter_name) == ("115590097100865541", "speed")
    assert invite.created_at == datetime(2016, 3, 31, 19, 15, 39, 954000, tzinfo=UTC)
    assert (invite.uses, invite.max_uses, invite.max_age_seconds) == (0, 0, 0)


# ------------------------------------------------------------------ documented samples


def test_member_add_has_no_inviter_and_an_account_age(samples: dict[str, Any]) -> None:
    event = _only(translate_discord(samples["guild_member_add"], CTX))
    env = event.envelope
    assert env.event_id == f"dc:{GUILD}:1234567890123456789:2024-06-01T10:00:00.123000+00:00"
    assert env.chat_id == GUILD
    assert env.occurred_at == datetime(2024, 6, 1, 10, 0, 0, 123000, tzinfo=UTC)
    member = event.payload.member
    assert member.display_name == "New Bie"
    assert member.account_created_at == snowflake_time("1234567890123456789")
    assert event.payload == MemberJoined(member)  # method UNKNOWN, no inviter
    assert event.payload.method is JoinMethod.UNKNOWN
    bot = _only(translate_discord(samples["guild_member_add_bot"], CTX))
    assert bot.payload.member.is_bot


def test_member_add_with_a_tracked_invite(samples: dict[str, Any]) -> None:
    tracked = DiscordContext("acme", invite=InviteUse("fkInv1te", "53908099506183680", "Mason"))
    event = _only(translate_discord(samples["guild_member_add"], tracked))
    assert event.payload.method is JoinMethod.INVITE_LINK
    assert event.payload.invite_link == "https://discord.gg/fkInv1te"
    assert event.payload.inviter.id == "53908099506183680"
    assert event.payload.inviter.account_created_at == snowflake_time("53908099506183680")


def test_member_remove_cannot_tell_a_leave_from_a_kick(samples: dict[str, Any]) -> None:
    joined = "2024-06-01T10:00:00.123000+00:00"
    ctx = DiscordContext("acme", received_at=RECEIVED, member_joined_at=joined)
    event = _only(translate_discord(samples["guild_member_remove"], ctx))
    assert event.envelope.event_id == f"dc:{GUILD}:1234567890123456789:left:{joined}"
    assert event.envelope.occurred_at == RECEIVED
    assert event.payload == MemberLeft(event.payload.member, LeaveReason.UNKNOWN)
    by_session = DiscordContext("acme", received_at=RECEIVED, session_id="abc")
    event = _only(translate_discord(samples["guild_member_remove"], by_session))
    assert event.envelope.event_id == f"dc:{GUILD}:1234567890123456789:left:abc:103"


def test_member_remove_says_what_context_it_needs(samples: dict[str, Any]) -> None:
    with pytest.raises(MissingContext, match="member_joined_at"):
        translate_discord(
            samples["guild_member_remove"], DiscordContext("acme", received_at=RECEIVED)
        )
    with pytest.raises(MissingContext, match="received_at"):
        translate_discord(samples["guild_member_remove"], DiscordContext("acme", session_id="s"))


def test_reply_with_files_embeds_stickers_and_mentions(samples: dict[str, Any]) -> None:
    event = _only(translate_discord(samples["message_create_reply_with_files"], CTX))
    env = event.envelope
    assert env.event_id == "dc:1246000000000000001"
    assert env.actor.display_name == "Bie the New"  # the guild nick first
    payload = event.payload
    assert payload.mentions == (
        Mention(user_id="53908099506183680"),
        Mention(role_id="41771983423143936"),
        Mention(everyone=True),
    )
    assert [a.kind for a in payload.attachments] == ["image", "file", "link_card", "sticker"]
    assert payload.attachments[0].file_name == "gift.png"
    assert payload.attachments[2] == Attachment(
        "link_card",
        url="https://disc0rd-gift.example/claim",
        title="Claim your Nitro",
        description="Free for 3 months",
    )
    assert payload.links == ("https://disc0rd-gift.example/claim",)
    assert (payload.reply_to_message_id, payload.reply_to_user_id) == (
        "1245999999999999999",
        "53908099506183680",
    )
    assert not payload.is_forward


def test_forward_takes_its_content_from_the_snapshot(samples: dict[str, Any]) -> None:
    payload = _only(translate_discord(samples["message_create_forward"], CTX)).payload
    assert payload.text == "Buy now at https://shop.example"
    assert (payload.is_forward, payload.forwarded_from) == (True, "1100000000000000000")
    assert payload.reply_to_message_id == ""


def test_webhook_voice_message(samples: dict[str, Any]) -> None:
    event = _only(translate_discord(samples["message_create_voice_message_by_webhook"], CTX))
    assert event.envelope.actor.is_bot
    assert [a.kind for a in event.payload.attachments] == ["voice"]


def test_edits_and_embed_resolution(samples: dict[str, Any]) -> None:
    edit = _only(translate_discord(samples["message_update_edit"], CTX))
    assert edit.envelope.event_id == "dc:1246000000000000001:edit:2024-06-01T10:04:00.500000+00:00"
    assert edit.envelope.occurred_at == datetime(2024, 6, 1, 10, 4, 0, 500000, tzinfo=UTC)
    assert edit.payload.is_edit and edit.payload.text == "sorry, wrong channel"
    unfurl = translate_discord(samples["message_update_embeds_only"], CTX)
    assert unfurl.events == () and "edited_timestamp" in unfurl.skipped[0].reason


def test_pin_notice_and_system_messages(samples: dict[str, Any]) -> None:
    pin = _only(translate_discord(samples["message_create_pin_notice"], CTX))
    assert pin.payload == MessagePosted(message_id="1245999999999999999", is_pinned_notice=True)
    assert pin.envelope.actor.id == "53908099506183680"
    assert pin.envelope.event_id == "dc:1246000000000000005"
    join = translate_discord(samples["message_create_user_join_system"], CTX)
    assert join.events == () and "type 7" in join.skipped[0].reason
    dm = translate_discord(samples["message_create_direct_message"], CTX)
    assert dm.events == () and "direct message" in dm.skipped[0].reason


def test_invite_create_and_other_opcodes(samples: dict[str, Any]) -> None:
    result = translate_discord(samples["invite_create"], CTX)
    assert result.events == () and result.skipped[0].native_type == "INVITE_CREATE"
    invite = discord_invite(samples["invite_create"]["d"])
    assert (invite.code, invite.inviter_id, invite.max_uses) == (
        "fkInv1te",
        "53908099506183680",
        10,
    )
    ack = translate_discord(samples["heartbeat_ack"], CTX)
    assert ack.events == () and ack.skipped[0].native_type == "op11"


def test_bare_body_needs_its_type(samples: dict[str, Any]) -> None:
    body = samples["message_update_edit"]["d"]
    with pytest.raises(PayloadError):
        translate_discord(body, CTX)
    assert translate_discord(body, CTX, "MESSAGE_UPDATE").events[0].payload.is_edit


def test_every_sample_translates_the_same_twice(samples: dict[str, Any]) -> None:
    ctx = DiscordContext("acme", received_at=RECEIVED, session_id="abc")
    for key, dispatch in samples.items():
        if not key.startswith("_"):
            assert translate_discord(dispatch, ctx) == translate_discord(dispatch, ctx), key
