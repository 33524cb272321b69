"""The retention sweep: old rows go, the rows something still needs stay, in batches, idempotent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from firekeeper.area_registry import retention_policies
from firekeeper.areas.screening.tables import held, invites, joins, questions, strikes
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.events import Platform
from firekeeper.store import Store
from firekeeper.store.models import decisions
from firekeeper.store.retention import MARK_GRACE, Retention

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
EARLIER = NOW - MARK_GRACE - timedelta(minutes=1)  # a sweep that published the mark NOW acts on


def _chat(store: Store, chat_id: str = "-100") -> int:
    store.register_chat(
        ChatRegistration(ChatKey(Platform.TELEGRAM, "acme", chat_id), "base", "hobby")
    )
    with store.engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT id FROM chats WHERE chat_id = :c"), {"c": chat_id}
            ).scalar_one()
        )


def _decision(pk: int, event_id: str, decided: datetime, occurred: datetime) -> dict[str, Any]:
    return {
        "chat_pk": pk,
        "tenant": "acme",
        "platform": "telegram",
        "event_id": event_id,
        "event_kind": "message.posted",
        "actor_id": "1",
        "occurred_at": occurred,
        "decided_at": decided,
        "ruleset": "base",
        "ruleset_version": "1",
        "decision": {},
        "event": {},
    }


def _left(store: Store, table: sa.Table, column: str) -> list[str]:
    with store.engine.connect() as conn:
        return sorted(str(v) for v in conn.execute(sa.select(table.c[column])).scalars())


def test_old_decisions_go_and_those_inside_the_window_stay(store: Store) -> None:
    pk = _chat(store)
    rows = [
        _decision(pk, "old", NOW - 31 * DAY, NOW - 31 * DAY),
        _decision(pk, "recent", NOW - 29 * DAY, NOW - 29 * DAY),
        # decided inside the window (export still lists it), though it occurred before it
        _decision(pk, "late", NOW - 2 * DAY, NOW - 40 * DAY),
        # occurred inside the window (a retry must still find it), clock skew
        _decision(pk, "skewed", NOW - 40 * DAY, NOW - 1 * DAY),
    ]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(decisions), rows)
    # the mark is published a sweep before it is acted on (MARK_GRACE later)
    assert (
        Retention(store.engine, policies=retention_policies(), decision_days=30)
        .sweep(EARLIER)
        .deleted["decisions"]
        == 0
    )
    sweep = Retention(store.engine, policies=retention_policies(), decision_days=30).sweep(NOW)
    assert sweep.deleted["decisions"] == 1 and sweep.complete
    assert _left(store, decisions, "event_id") == ["late", "recent", "skewed"]
    assert (
        Retention(store.engine, policies=retention_policies(), decision_days=30).sweep(NOW).total
        == 0
    )  # idempotent


def test_zero_days_keeps_every_decision(store: Store) -> None:
    pk = _chat(store)
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(decisions), [_decision(pk, "ancient", NOW - 900 * DAY, NOW - 900 * DAY)]
        )
    sweep = Retention(store.engine, policies=retention_policies(), decision_days=0).sweep(NOW)
    assert "decisions" not in sweep.deleted
    assert _left(store, decisions, "event_id") == ["ancient"]


def test_batches_resume_where_the_last_sweep_stopped(store: Store) -> None:
    pk = _chat(store)
    old = [_decision(pk, f"e{n}", NOW - 60 * DAY, NOW - 60 * DAY) for n in range(7)]
    with store.engine.begin() as conn:
        conn.execute(sa.insert(decisions), [*old, _decision(pk, "keep", NOW, NOW)])
    small = Retention(store.engine, policies=retention_policies(), batch=2, max_batches=2)
    small.sweep(EARLIER)  # publishes the mark the next sweeps delete up to
    first = small.sweep(NOW)
    assert first.deleted["decisions"] == 4 and not first.complete
    second = small.sweep(NOW)
    assert second.deleted["decisions"] == 3 and second.complete
    assert _left(store, decisions, "event_id") == ["keep"]


def test_screening_tables_keep_what_rules_and_admins_still_need(store: Store) -> None:
    pk = _chat(store)

    def invite(who: str, outcome: str, at: datetime) -> dict[str, Any]:
        return {
            "chat_pk": pk,
            "inviter_id": "9",
            "invitee_id": who,
            "invited_at": at,
            "outcome": outcome,
            "joined_at": at if outcome == "joined" else None,
            "outcome_at": at,
        }

    def hold(who: str, status: str, resolved: datetime | None) -> dict[str, Any]:
        return {
            "chat_pk": pk,
            "user_id": who,
            "display_name": "",
            "inviter_id": "",
            "event_id": f"e-{who}",
            "event_kind": "member.joined",
            "rule_id": "burst.hold",
            "reason": "",
            "held_at": NOW - 400 * DAY,
            "status": status,
            "resolved_at": resolved,
            "resolved_by": "",
            "note": "",
        }

    year_ago = NOW - 366 * DAY
    with store.engine.begin() as conn:
        conn.execute(
            sa.insert(invites),
            [
                invite("left-long-ago", "left", year_ago),
                invite("refused-long-ago", "refused", year_ago),
                invite("unanswered-request", "requested", year_ago),
                invite("still-a-member", "joined", year_ago),  # the inviter's record needs it
                invite("still-held", "held", year_ago),  # an admin may still resolve it
                invite("left-recently", "left", NOW - 10 * DAY),
            ],
        )
        conn.execute(
            sa.insert(held),
            [
                hold("denied-long-ago", "denied", NOW - 91 * DAY),
                hold("withdrawn-long-ago", "withdrawn", NOW - 91 * DAY),
                hold("approved-long-ago", "approved", NOW - 400 * DAY),  # never held again
                hold("pending-long", "pending", None),
                hold("denied-recently", "denied", NOW - 5 * DAY),
            ],
        )
        conn.execute(
            sa.insert(joins),
            [
                {"chat_pk": pk, "user_id": "old", "at": NOW - 25 * timedelta(hours=1)},
                {"chat_pk": pk, "user_id": "new", "at": NOW - timedelta(hours=23)},
            ],
        )
        conn.execute(
            sa.insert(strikes),
            [
                {"chat_pk": pk, "user_id": "old", "at": NOW - 31 * DAY, "rule_id": "promo.x"},
                {"chat_pk": pk, "user_id": "new", "at": NOW - 29 * DAY, "rule_id": "promo.x"},
            ],
        )
        conn.execute(
            sa.insert(questions),
            [
                {"chat_pk": pk, "message_id": "old", "author_id": "1", "asked_at": NOW - 31 * DAY},
                {"chat_pk": pk, "message_id": "new", "author_id": "1", "asked_at": NOW - 29 * DAY},
            ],
        )
    sweep = Retention(store.engine, policies=retention_policies()).sweep(
        NOW
    )  # no decision mark old enough yet: 0 deleted
    assert sweep.deleted == {
        "decisions": 0,
        "screening_invites": 3,
        "screening_held": 2,
        "screening_joins": 1,
        "promo_strikes": 1,
        "promo_questions": 1,
    }
    assert _left(store, invites, "invitee_id") == ["left-recently", "still-a-member", "still-held"]
    assert _left(store, held, "user_id") == ["approved-long-ago", "denied-recently", "pending-long"]
    assert _left(store, joins, "user_id") == ["new"]
    assert _left(store, strikes, "user_id") == ["new"]
    assert _left(store, questions, "message_id") == ["new"]
    assert Retention(store.engine, policies=retention_policies()).sweep(NOW).total == 0


@pytest.mark.parametrize("bad", [{"decision_days": -1}, {"batch": 0}, {"max_batches": 0}])
def test_bad_settings_are_refused(store: Store, bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        Retention(store.engine, policies=retention_policies(), **bad)
