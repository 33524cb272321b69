"""A burst of joins is held; the queue outlives a restart and admins resolve it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import ActionType
from firekeeper.domain.events import Platform
from firekeeper.domain.screening import HeldStatus, Resolution
from firekeeper.errors import AlreadyResolved, ChatNotFound, HeldJoinNotFound
from tests.core.builders import T0

from .support import KEY, joined, register, removed, requested, service


def _burst(s, start_count: int = 50) -> None:  # type: ignore[no-untyped-def]
    register(s.pipeline, count=start_count)
    for i in range(10):  # ten joins in five minutes: the base burst is 10 in 10 minutes
        assert (
            s.pipeline.evaluate(joined(f"raider{i}", T0 + i * timedelta(seconds=30))).actions == ()
        )


def test_a_burst_is_held_and_the_queue_resolves_it(store_url: str) -> None:
    with service(store_url) as s:
        _burst(s)
        first = s.pipeline.evaluate(joined("raider10", T0 + timedelta(minutes=5)))
        assert [a.type for a in first.actions] == [
            ActionType.HOLD_FOR_REVIEW,
            ActionType.PAUSE_INVITES,
            ActionType.NOTIFY_ADMINS,
        ]
        req = s.pipeline.evaluate(requested("raider11", T0 + timedelta(minutes=6), "hi"))
        assert [a.type for a in req.actions] == [ActionType.HOLD_FOR_REVIEW]
        assert s.pipeline.get_chat(KEY).chat.member_count == 60  # the held join is not counted
    with service(store_url) as s:  # restart: nothing held is lost
        page = s.admin.list_held("acme", platform=Platform.TELEGRAM, chat_id=KEY.chat_id)
        assert [(h.user_id, h.event_kind, h.rule_id) for h in page.items] == [
            ("raider10", "member.joined", "burst.hold"),
            ("raider11", "join.requested", "burst.hold_request"),
        ]
        assert "A rush of joins: 10 in 10 minutes" in page.items[0].reason
        assert s.sample("firekeeper_review_queue_depth") == 2

        held, decision = s.admin.resolve(KEY, "raider10", Resolution.APPROVE, "olga", "knows Ben")
        assert held.status == HeldStatus.APPROVED and held.resolved_by == "olga"
        (action,) = decision.actions
        assert (action.type, action.target_user_id, action.rule_id) == (
            ActionType.APPROVE_JOIN,
            "raider10",
            "review.approve",
        )
        assert "approved by olga" in decision.trace[0].reason
        # a held member.joined member was already in: approving counts them in
        assert s.pipeline.get_chat(KEY).chat.member_count == 61

        _, denial = s.admin.resolve(KEY, "raider11", Resolution.DENY, "olga")
        assert [(a.type, a.target_user_id) for a in denial.actions] == [
            (ActionType.DENY_JOIN, "raider11")
        ]
        again, same = s.admin.resolve(KEY, "raider11", Resolution.DENY, "olga")
        assert same == denial and again.status == HeldStatus.DENIED  # idempotent
        with pytest.raises(AlreadyResolved):
            s.admin.resolve(KEY, "raider11", Resolution.APPROVE, "olga")
        with pytest.raises(HeldJoinNotFound):
            s.admin.resolve(KEY, "nobody", Resolution.APPROVE, "olga")
        with pytest.raises(ChatNotFound):
            s.admin.resolve(ChatKey(Platform.TELEGRAM, "acme", "nope"), "x", Resolution.DENY, "o")

        assert s.admin.list_held("acme").items == ()
        everything = s.admin.list_held("acme", include_resolved=True).items
        assert [h.status for h in everything] == [HeldStatus.APPROVED, HeldStatus.DENIED]
        assert s.sample("firekeeper_review_queue_depth") == 0


def test_an_approved_member_is_not_held_again_and_the_window_calms(store_url: str) -> None:
    with service(store_url) as s:
        _burst(s)
        s.pipeline.evaluate(requested("amy", T0 + timedelta(minutes=5), "hello"))
        s.admin.resolve(KEY, "amy", Resolution.APPROVE, "olga")
        # the adapter approves the request; the platform reports the join, still in the burst
        back = s.pipeline.evaluate(joined("amy", T0 + timedelta(minutes=6)))
        assert back.actions == ()
        assert s.pipeline.get_chat(KEY).chat.member_count == 61
        still = s.pipeline.evaluate(joined("bo", T0 + timedelta(minutes=7)))
        assert [a.type for a in still.actions] == [ActionType.HOLD_FOR_REVIEW]
        calm = s.pipeline.evaluate(joined("cy", T0 + timedelta(minutes=30)))
        assert calm.actions == ()


def test_a_held_member_who_leaves_drops_out_of_the_queue_and_pages_work(store_url: str) -> None:
    with service(store_url) as s:
        _burst(s)
        for i in range(3):
            s.pipeline.evaluate(joined(f"late{i}", T0 + timedelta(minutes=5, seconds=i)))
        first = s.admin.list_held("acme", limit=2)
        assert [h.user_id for h in first.items] == ["late0", "late1"] and first.next_after
        rest = s.admin.list_held("acme", limit=2, after=first.next_after)
        assert [h.user_id for h in rest.items] == ["late2"] and rest.next_after == 0
        s.pipeline.evaluate(removed("late0", T0 + timedelta(minutes=8)))
        assert [h.user_id for h in s.admin.list_held("acme").items] == ["late1", "late2"]
        gone = s.admin.list_held("acme", include_resolved=True).items[0]
        assert gone.status == HeldStatus.WITHDRAWN
