from datetime import timedelta

from firekeeper.domain.chats import MemberRecord
from firekeeper.domain.decisions import Action, ActionType, Decision
from firekeeper.domain.events import Actor, ChatUpdated, LeaveReason, MemberLeft, Role, RoleChanged
from firekeeper.rules.state import changes_for
from tests.core.builders import T0, chat, ctx, event, join, message


def _decision(*actions: Action) -> Decision:
    return Decision("e", actions, (), "base", "v", T0)


def test_admitted_join_counts_once_and_credits_the_inviter() -> None:
    inviter = Actor(id="u1")
    ch = changes_for(join("u9", inviter=inviter), _decision(), ctx(chat(member_count=10)))
    assert ch.chat.member_count == 11
    members = {m.user_id: m for m in ch.members}
    assert members["u9"].is_member and members["u9"].inviter_id == "u1"
    assert members["u1"].invited_count == 1
    # the same member joining again while a member changes nothing
    again = changes_for(join("u9"), _decision(), ctx(ch.chat, members["u9"]))
    assert again.chat.member_count == 11


def test_denied_join_is_not_counted_and_its_removal_subtracts_nothing() -> None:
    deny = Action(ActionType.DENY_JOIN, "size.hard_cap", target_user_id="u9")
    ch = changes_for(join("u9"), _decision(deny), ctx(chat(member_count=200)))
    assert ch.chat.member_count == 200
    rec = next(m for m in ch.members if m.user_id == "u9")
    assert rec.is_member is False
    left = event(MemberLeft(member=Actor(id="u9"), reason=LeaveReason.REMOVED))
    after = changes_for(left, _decision(), ctx(ch.chat, rec))
    assert after.chat.member_count == 200


def test_leave_of_a_member_never_seen_subtracts_once() -> None:
    left = event(MemberLeft(member=Actor(id="old"), reason=LeaveReason.LEFT))
    ch = changes_for(left, _decision(), ctx(chat(member_count=5)))
    assert ch.chat.member_count == 4
    rec = next(m for m in ch.members if m.user_id == "old")
    again = changes_for(left, _decision(), ctx(ch.chat, rec))
    assert again.chat.member_count == 4


def test_count_never_goes_negative_and_platform_count_wins() -> None:
    left = event(MemberLeft(member=Actor(id="x")))
    assert changes_for(left, _decision(), ctx(chat(member_count=0))).chat.member_count == 0
    upd = event(ChatUpdated(platform_member_count=77))
    assert changes_for(upd, _decision(), ctx(chat(member_count=70))).chat.member_count == 77


def test_messages_count_and_edits_do_not() -> None:
    ch = changes_for(message(), _decision(), ctx(chat()))
    assert ch.chat.message_count == 1 and ch.chat.last_message_at == T0
    assert next(m for m in ch.members if m.user_id == "u1").message_count == 1
    assert ch.chat.events_processed == 1


def test_role_change_to_owner_moves_ownership() -> None:
    ev = event(RoleChanged(member=Actor(id="u5"), old_role=Role.ADMIN, new_role=Role.OWNER))
    ch = changes_for(ev, _decision(), ctx(chat(owner_id="u1")))
    assert ch.chat.owner_id == "u5"
    rec = MemberRecord(user_id="u5", role=Role.OWNER, joined_at=T0 - timedelta(days=1))
    ev2 = event(RoleChanged(member=Actor(id="u5"), old_role=Role.OWNER, new_role=Role.ADMIN))
    assert changes_for(ev2, _decision(), ctx(ch.chat, rec)).chat.owner_id == ""
