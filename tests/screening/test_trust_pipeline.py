"""Invite screening and monetization timing end to end, on SQLite and PostgreSQL,
through restarts (the store closed and opened again on the same URL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import ActionType
from firekeeper.domain.events import Actor, Platform
from firekeeper.domain.screening import BlockEntry, BlockKind, ChatScreening, Resolution
from firekeeper.errors import InvalidEvent
from tests.core.builders import T0

from .support import (
    BEN,
    KEY,
    OLGA,
    SUBSTANTIVE,
    joined,
    post,
    register,
    removed,
    requested,
    service,
)

COURSE = "我的付费课程上线了！原价299元，今天只要¥99，报名链接 https://h5.xiaoeknow.com/course/1"
DAY = timedelta(days=1)


def _types(decision: object) -> list[ActionType]:
    return [a.type for a in decision.actions]  # type: ignore[attr-defined]


def test_the_owners_paid_course_on_day_2_is_caught_and_allowed_once_value_is_delivered(
    store_url: str,
) -> None:
    with service(store_url) as s:
        register(s.pipeline, age=2 * DAY)
        early = s.pipeline.evaluate(post(OLGA, COURSE, T0))
        assert [m.rule_id for m in early.trace] == ["promo.owner_too_early"]
        warn = next(a for a in early.actions if a.type == ActionType.WARN_USER)
        # the owner writes Chinese, so the chat reads Chinese (detected)
        assert warn.target_user_id == "olga" and "才 0 条，建议攒够 20 条" in warn.text
        assert ActionType.NOTIFY_ADMINS in _types(early)
        for i in range(12):  # members deliver value over the next days
            s.pipeline.evaluate(post(BEN, f"{SUBSTANTIVE} ({i})", T0 + (i + 1) * DAY))
        assert s.sample("firekeeper_promo_signals_total", signal="payment_link") == 1
    with service(store_url) as s:  # a restart: the value delivered so far is kept
        for i in range(12, 20):
            s.pipeline.evaluate(
                post(BEN, f"{SUBSTANTIVE} ({i})", T0 + 12 * DAY + i * timedelta(hours=1))
            )
        later = s.pipeline.evaluate(post(OLGA, COURSE, T0 + 13 * DAY))
        assert later.actions == () and later.trace == ()


def test_questions_answered_by_others_count_as_value_once(store_url: str) -> None:
    with service(store_url) as s:
        register(s.pipeline, age=30 * DAY)
        ask = post(BEN, "How do I true a wheel without a stand?", T0)
        s.pipeline.evaluate(ask)
        nina = Actor(id="nina", display_name="Nina")
        own = post(
            BEN,
            "never mind, I found the answer myself",
            T0 + timedelta(minutes=1),
            reply_to_message_id=ask.envelope.event_id,
        )
        s.pipeline.evaluate(own)  # one's own reply is no answer
        reply = post(
            nina,
            "Flip the bike and use the brake pads as a guide",
            T0 + timedelta(minutes=2),
            reply_to_message_id=ask.envelope.event_id,
        )
        s.pipeline.evaluate(reply)
        again = post(
            OLGA,
            "Also zip ties on the fork work as a gauge",
            T0 + timedelta(minutes=3),
            reply_to_message_id=ask.envelope.event_id,
        )
        s.pipeline.evaluate(again)
        probe = s.pipeline.evaluate(post(OLGA, "$49 course, enroll now", T0 + timedelta(minutes=4)))
        values = dict(probe.trace[0].values)
        assert values["chat.value_delivered"] == "1"


def test_a_member_whose_invitees_keep_getting_removed_loses_the_right_to_invite_freely(
    store_url: str,
) -> None:
    with service(store_url) as s:
        register(s.pipeline)
        for i, name in enumerate(("c1", "c2", "c3")):
            assert s.pipeline.evaluate(joined(name, T0 + i * timedelta(hours=1), BEN)).actions == ()
        s.pipeline.evaluate(removed("c1", T0 + DAY))
        s.pipeline.evaluate(removed("c2", T0 + DAY + timedelta(hours=1)))
    with service(store_url) as s:  # the invitation record survives a restart
        held = s.pipeline.evaluate(joined("c4", T0 + 2 * DAY, BEN))
        assert [m.rule_id for m in held.trace] == ["invite.record"]
        assert _types(held)[0] == ActionType.HOLD_FOR_REVIEW
        assert held.actions[0].target_user_id == "c4"
        assert ("inviter.invitees_removed_ratio", "0.6667") in held.trace[0].values
        # an admin's own invitations are never held, and another member is unaffected
        assert s.pipeline.evaluate(joined("c5", T0 + 2 * DAY, OLGA)).actions == ()
        nina = Actor(id="nina", display_name="Nina")
        assert s.pipeline.evaluate(joined("c6", T0 + 2 * DAY, nina)).actions == ()
        page = s.admin.list_held("acme")
        assert [(h.user_id, h.rule_id, h.inviter_id) for h in page.items] == [
            ("c4", "invite.record", "ben")
        ]
        assert s.sample("firekeeper_joins_held_total") == 1
        assert s.sample("firekeeper_review_queue_depth") == 1


def test_a_denied_review_counts_against_the_inviter(store_url: str) -> None:
    with service(store_url) as s:
        register(s.pipeline, kind="goal", count=10)  # goal: 5 joins in 10 minutes are a burst
        for i in range(6):
            s.pipeline.evaluate(joined(f"r{i}", T0 + i * timedelta(seconds=30)))
        s.pipeline.evaluate(joined("pal1", T0 + timedelta(minutes=4), BEN))  # held: a burst
        s.pipeline.evaluate(joined("pal2", T0 + timedelta(minutes=5), BEN))  # held: a burst
        s.admin.resolve(KEY, "pal1", Resolution.DENY, "olga")
        s.admin.resolve(KEY, "pal2", Resolution.DENY, "olga")
        s.pipeline.evaluate(joined("pal3", T0 + DAY, BEN))
        later = s.pipeline.evaluate(joined("pal4", T0 + DAY + timedelta(hours=1), BEN))
        assert [m.rule_id for m in later.trace] == ["invite.record"]


def test_the_tenant_blocklist_applies_in_every_chat_and_domains_on_every_platform(
    store_url: str,
) -> None:
    other = ChatKey(Platform.TELEGRAM, "acme", "-100999")
    discord = ChatKey(Platform.DISCORD, "acme", "guild-1")
    with service(store_url) as s:
        for key in (KEY, other, discord):
            register(s.pipeline, key=key)
        added = s.admin.add_blocklist(
            "acme",
            [
                BlockEntry(BlockKind.USER, "u666", Platform.TELEGRAM, note="raider"),
                BlockEntry(BlockKind.DOMAIN, "https://www.Evil.example/path", added_by="olga"),
            ],
        )
        assert added == 2
        assert s.admin.add_blocklist("acme", [BlockEntry(BlockKind.DOMAIN, "evil.example")]) == 0
    with service(store_url) as s:
        for key in (KEY, other):
            d = s.pipeline.evaluate(joined("u666", T0, key=key))
            assert (
                _types(d)[0] == ActionType.DENY_JOIN
                and d.trace[0].rule_id == "screen.blocked_member"
            )
        req = s.pipeline.evaluate(requested("u666", T0, "hi"))
        assert _types(req) == [ActionType.DENY_JOIN]
        assert s.pipeline.evaluate(joined("u666", T0, key=discord)).actions == ()  # other platform
        spam = s.pipeline.evaluate(
            post(Actor(id="x"), "look https://cdn.evil.example/a", T0, key=discord)
        )
        assert _types(spam) == [ActionType.DELETE_MESSAGE, ActionType.WARN_USER]
        assert spam.trace[0].rule_id == "promo.blocked_domain"
        talk = s.pipeline.evaluate(post(Actor(id="u666"), "hello", T0 + timedelta(seconds=1)))
        assert _types(talk) == [ActionType.DELETE_MESSAGE, ActionType.BAN]
        invited = s.pipeline.evaluate(joined("friend", T0 + timedelta(seconds=2), Actor(id="u666")))
        assert invited.trace[0].rule_id == "screen.blocked_inviter"
        page = s.admin.list_blocklist("acme", kind=BlockKind.DOMAIN)
        assert [(e.value, e.added_by) for e in page.items] == [("evil.example", "olga")]
        assert s.admin.list_blocklist("other-tenant").items == ()
        assert (
            s.admin.remove_blocklist(
                "acme", [BlockEntry(BlockKind.USER, "u666", Platform.TELEGRAM)]
            )
            == 1
        )
        assert s.pipeline.evaluate(joined("u666", T0 + DAY, key=other)).actions == ()


def test_entry_answers_are_checked_against_the_chat_patterns(store_url: str) -> None:
    with service(store_url) as s:
        register(s.pipeline)
        saved = s.admin.set_settings(
            ChatScreening(KEY, ("ourclub.org",), ("(?i)gravel|碎石", r"(?i)\bberlin\b|柏林"))
        )
        assert saved.entry_patterns[0] == "(?i)gravel|碎石"
    with service(store_url) as s:
        ok = s.pipeline.evaluate(requested("amy", T0, "I ride gravel", "Berlin"))
        assert ok.actions == ()
        zh = s.pipeline.evaluate(requested("li", T0, "碎石路", "住在柏林"))
        assert zh.actions == ()
        bad = s.pipeline.evaluate(requested("bob", T0, "road bikes", "Paris"))
        assert _types(bad) == [ActionType.HOLD_FOR_REVIEW]
        assert bad.trace[0].rule_id == "screen.entry_answers" and "miss 2" in bad.trace[0].reason
        assert s.admin.get_settings(KEY).allowed_domains == ("ourclub.org",)
        with pytest.raises(InvalidEvent) as info:
            s.admin.set_settings(ChatScreening(KEY, (), ("(?<=x)y",)))
        assert info.value.field == "entry_patterns[0]"


def test_the_chat_own_domains_are_no_promotion_signal(store_url: str) -> None:
    with service(store_url) as s:
        register(s.pipeline)
        newbie = Actor(id="newbie")
        text = "Slides: https://ourclub.org/slides - questions? DM me"
        flagged = s.pipeline.evaluate(post(newbie, text, T0))
        assert flagged.trace[0].rule_id == "promo.too_early"
        s.admin.set_settings(ChatScreening(KEY, ("ourclub.org",)))
        assert s.pipeline.evaluate(post(newbie, text, T0 + timedelta(minutes=1))).actions == ()


def test_phishing_links_remove_the_poster_at_once(store_url: str) -> None:
    with service(store_url) as s:
        register(s.pipeline)
        d = s.pipeline.evaluate(post(BEN, "free nitro https://discord-nitro.gift/claim", T0))
        assert _types(d) == [ActionType.DELETE_MESSAGE, ActionType.REMOVE, ActionType.NOTIFY_ADMINS]
        assert s.sample("firekeeper_promo_signals_total", signal="phishing_link") == 1


def test_the_escalation_ladder_survives_a_restart_and_a_retry_counts_once(store_url: str) -> None:
    newbie = Actor(id="newbie", display_name="Newbie")
    with service(store_url) as s:
        register(s.pipeline)
        first = post(newbie, "Join my paid course, only $49! DM me", T0)
        assert _types(s.pipeline.evaluate(first)) == [
            ActionType.DELETE_MESSAGE,
            ActionType.WARN_USER,
        ]
        assert s.pipeline.evaluate(first).replayed  # a retry: no second strike
    with service(store_url) as s:
        second = s.pipeline.evaluate(post(newbie, "加我微信领课程优惠券 ¥99", T0 + DAY))
        assert ActionType.MUTE in _types(second)
        third = s.pipeline.evaluate(post(newbie, "Earn $500 daily, DM me", T0 + 2 * DAY))
        assert (
            ActionType.REMOVE in _types(third)
            and third.trace[0].rule_id == "promo.too_early_repeat"
        )
        # strikes fall out of the 30-day window
        late = s.pipeline.evaluate(post(newbie, "Earn $500 daily, DM me", T0 + 40 * DAY))
        assert late.trace[0].rule_id == "promo.too_early"
