"""The pure fact sections of the screening area, from what it loaded."""

from __future__ import annotations

from firekeeper.areas.screening.pure.features import (
    InviterRecord,
    TrustContext,
    answers_match,
    sections,
)
from firekeeper.domain.events import Actor, EntryAnswer, JoinRequested, MemberJoined, MemberLeft
from tests.core.builders import event, message

BEN = Actor(id="ben", display_name="Ben")
NEW = Actor(id="new", display_name="New")


def test_a_message_gets_promo_value_and_strike_fields() -> None:
    tc = TrustContext(strikes_30d=2, substantive_posts=7, answered_questions=3)
    out = sections(message("My course is $49, enroll now https://gumroad.com/l/x"), tc)
    assert out["message"]["promotion"] and out["message"]["paid_offer"]
    assert out["message"]["payment_links"] == 1 and out["message"]["has_price"]
    assert out["chat"] == {"substantive_posts": 7, "answered_questions": 3, "value_delivered": 10}
    assert out["actor"]["promo_strikes_30d"] == 2 and out["actor"]["blocked"] is False


def test_nothing_loaded_means_no_sections() -> None:
    assert sections(message("hello"), None) == {}


def test_inviter_ratios_are_absent_until_there_is_something_to_measure() -> None:
    joined = event(MemberJoined(member=NEW, inviter=BEN), actor=BEN)
    fresh = sections(joined, TrustContext(inviter=InviterRecord(invites_24h=1, invitee_count=1)))
    assert fresh["inviter"]["invitee_count"] == 1
    assert "invitees_removed_ratio" not in fresh["inviter"]
    record = InviterRecord(
        invitee_count=4, settled=3, removed=2, admitted=3, left_early=1, aged=2, silent=2
    )
    judged = sections(joined, TrustContext(inviter=record, blocked_users=frozenset({"ben"})))
    assert judged["inviter"]["invitees_removed_ratio"] == 0.6667
    assert judged["inviter"]["invitees_left_early_ratio"] == 0.3333
    assert judged["inviter"]["invitees_silent_ratio"] == 1.0
    assert judged["inviter"]["blocked"] is True and judged["member"]["blocked"] is False


def test_a_join_without_inviter_has_no_inviter_fields() -> None:
    out = sections(event(MemberJoined(member=NEW), actor=NEW), TrustContext(joins_10m=4))
    assert "inviter" not in out and out["chat"]["joins_10m"] == 4


def test_entry_answers_against_the_chat_patterns() -> None:
    patterns = ("(?i)rust|锈", r"(?i)\b(beginner|expert)\b|新手")
    request = JoinRequested(
        member=NEW,
        answers=(EntryAnswer("What do you write?", "Rust, mostly"), EntryAnswer("Level?", "新手")),
        bio="",
    )
    out = sections(event(request, actor=NEW), TrustContext(entry_patterns=patterns))
    assert out["request"]["answers_match"] is True and out["request"]["answers_missing"] == 0
    wrong = JoinRequested(member=NEW, answers=(EntryAnswer("?", "python"),))
    out = sections(event(wrong, actor=NEW), TrustContext(entry_patterns=patterns))
    assert out["request"]["answers_match"] is False and out["request"]["answers_missing"] == 2
    none_set = sections(event(wrong, actor=NEW), TrustContext())
    assert "answers_match" not in none_set["request"]


def test_a_pattern_re2_refuses_never_matches() -> None:
    assert answers_match("abc", ["(?<=a)b"]) == (False, 1)


def test_a_promotional_bio_scores() -> None:
    request = JoinRequested(member=NEW, bio="Earn $500 a day, DM me: wa.me/123")
    out = sections(event(request, actor=NEW), TrustContext())
    assert out["request"]["bio_promo_score"] >= 3 and out["request"]["bio_links"] == 1


def test_a_leave_says_whether_the_member_is_blocked() -> None:
    out = sections(
        event(MemberLeft(member=NEW), actor=NEW), TrustContext(blocked_users=frozenset({"new"}))
    )
    assert out["member"]["blocked"] is True and out["actor"]["blocked"] is True
