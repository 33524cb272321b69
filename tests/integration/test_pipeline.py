"""The pipeline end to end on a real store: caps, retries, restarts, concurrency."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.decisions import ActionType
from firekeeper.domain.events import (
    Actor,
    ChatUpdated,
    Envelope,
    Event,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    Platform,
)
from firekeeper.domain.onboarding import ChatHistory
from firekeeper.errors import InvalidParam, UnknownRuleset
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.store import Store, create_store
from tests.conftest import RULESETS
from tests.core.builders import T0

KEY = ChatKey(Platform.TELEGRAM, "acme", "-100777")
INDEX = load(RULESETS)


def _join(n: int, member: str | None = None, at_offset: int = 0) -> Event:
    m = Actor(id=member or f"new{n}", display_name=f"Newcomer {n}")
    return Event(
        Envelope(
            f"join-{n}",
            KEY.platform,
            KEY.tenant,
            KEY.chat_id,
            T0 + timedelta(seconds=n + at_offset),
            m,
        ),
        MemberJoined(member=m),
    )


def _pipeline(store: Store) -> Pipeline:
    return Pipeline(store, RulesetHolder(INDEX))


def _register(p: Pipeline, count: int, kind: str = "goal", **params: str) -> None:
    p.register_chat(
        ChatRegistration(
            key=KEY,
            kind=kind,
            member_count=count,
            params=params,
            created_at=T0 - timedelta(days=10),
            owner_id="owner",
        )
    )


def test_join_at_the_cap_is_denied_and_admins_are_told(store: Store) -> None:
    p = _pipeline(store)
    _register(p, 49)  # the goal profile caps at 49
    d = p.evaluate(_join(1))
    types = [a.type for a in d.actions]
    assert types[0] == ActionType.DENY_JOIN and ActionType.NOTIFY_ADMINS in types
    notice = next(a for a in d.actions if a.type == ActionType.NOTIFY_ADMINS)
    assert "stops at 49" in notice.text and "Newcomer 1" in notice.text
    assert d.trace[0].rule_id == "size.hard_cap"
    assert ("join.resulting_count", "50") in d.trace[0].values
    assert p.get_chat(KEY).chat.member_count == 49


def test_a_retried_join_returns_the_stored_decision_and_changes_nothing(store: Store) -> None:
    p = _pipeline(store)
    _register(p, 10)
    first = p.evaluate(_join(1))
    assert p.get_chat(KEY).chat.member_count == 11
    again = p.evaluate(_join(1))
    assert again.replayed and not first.replayed
    assert again.actions == first.actions and again.trace == first.trace
    view = p.get_chat(KEY)
    assert view.chat.member_count == 11 and view.chat.events_processed == 1


def test_soft_cap_warns_once_when_crossed(store: Store) -> None:
    p = _pipeline(store)
    _register(p, 38)  # goal: soft cap 40
    notes = [
        [a.text for a in p.evaluate(_join(i)).actions if a.type == ActionType.NOTIFY_ADMINS]
        for i in range(4)
    ]
    assert [len(n) for n in notes] == [0, 1, 0, 0]
    assert "The group now has 40 members" in notes[1][0]


def test_counts_follow_joins_leaves_and_the_platform(store: Store) -> None:
    p = _pipeline(store)
    _register(p, 5, kind="hobby")
    for i in range(3):
        p.evaluate(_join(i))
    gone = Actor(id="new1")
    p.evaluate(
        Event(
            Envelope(
                "leave-1", KEY.platform, KEY.tenant, KEY.chat_id, T0 + timedelta(minutes=5), gone
            ),
            MemberLeft(member=gone, reason=LeaveReason.LEFT),
        )
    )
    p.evaluate(
        Event(
            Envelope(
                "leave-1b", KEY.platform, KEY.tenant, KEY.chat_id, T0 + timedelta(minutes=6), gone
            ),
            MemberLeft(member=gone, reason=LeaveReason.LEFT),
        )
    )
    assert p.get_chat(KEY).chat.member_count == 7
    upd = p.evaluate(
        Event(
            Envelope(
                "upd-1",
                KEY.platform,
                KEY.tenant,
                KEY.chat_id,
                T0 + timedelta(minutes=7),
                Actor(id="owner"),
            ),
            ChatUpdated(platform_member_count=30),
        )
    )
    assert [m.rule_id for m in upd.trace] == ["size.count_drift"] and upd.actions == ()
    assert p.get_chat(KEY).chat.member_count == 30


def test_state_survives_a_restart(store_url: str) -> None:
    s1 = create_store(store_url)
    s1.migrate()
    p1 = _pipeline(s1)
    _register(p1, 20, kind="hobby", hard_cap="21")
    first = p1.evaluate(_join(1))
    s1.close()
    s2 = create_store(store_url)
    s2.migrate()
    try:
        p2 = _pipeline(s2)
        view = p2.get_chat(KEY)
        assert view.chat.member_count == 21 and view.effective_params["hard_cap"] == "21"
        assert p2.evaluate(_join(1)).replayed
        assert p2.evaluate(_join(1)).actions == first.actions
        assert p2.evaluate(_join(2)).actions[0].type == ActionType.DENY_JOIN
    finally:
        s2.close()


def test_the_cap_holds_under_concurrent_joins(store: Store) -> None:
    p = _pipeline(store)
    _register(p, 30)  # goal: hard cap 49, so 19 places
    events = [_join(i) for i in range(40)]
    results: list[object] = []
    lock = threading.Lock()

    def worker(chunk: list[Event]) -> None:
        for ev in chunk:
            d = p.evaluate(ev)
            with lock:
                results.append(d)

    threads = [threading.Thread(target=worker, args=(events[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 40
    denied = [d for d in results if d.actions and d.actions[0].type == ActionType.DENY_JOIN]  # type: ignore[attr-defined]
    assert len(denied) == 40 - 19
    assert p.get_chat(KEY).chat.member_count == 49


def test_registration_is_checked_before_anything_is_written(store: Store) -> None:
    p = _pipeline(store)
    with pytest.raises(UnknownRuleset):
        p.register_chat(ChatRegistration(key=KEY, ruleset="nope"))
    with pytest.raises(InvalidParam):
        p.register_chat(ChatRegistration(key=KEY, kind="hobby", params={"hard_cap": "lots"}))
    with pytest.raises(InvalidParam):
        p.register_chat(ChatRegistration(key=KEY, kind="hobby", params={"no_such": "1"}))
    assert store.get_chat(KEY) is None


def test_an_unregistered_chat_is_governed_by_base(store: Store) -> None:
    p = _pipeline(store)
    d = p.evaluate(replace(_join(1)))
    assert d.ruleset == "base" and d.actions == ()
    assert p.get_chat(KEY).chat.member_count == 1


def test_a_batch_decides_in_order_and_replays_a_retry_within_it(store: Store) -> None:
    p = _pipeline(store)
    _register(p, 48)  # one seat left under the goal profile's cap of 49
    outcomes = p.evaluate_batch([_join(1), _join(1), _join(3)], explain=[False, False, True])
    first, retried, third = outcomes
    assert not isinstance(first, Exception) and not first.actions  # the last seat
    assert not isinstance(retried, Exception) and retried.replayed
    assert not isinstance(third, Exception)
    assert third.actions[0].type == ActionType.DENY_JOIN  # in order: now full
    assert p.get_chat(KEY).chat.member_count == 49
    with pytest.raises(ValueError, match="2 explain flags for 3 events"):
        p.evaluate_batch([_join(4), _join(5), _join(6)], explain=[True, False])


def test_a_pipeline_built_without_the_wiring_refuses_a_history_import(store: Store) -> None:
    """The history import writes the areas' tables, so only the wiring supplies it;
    a bare pipeline says so instead of importing half a history."""
    with pytest.raises(RuntimeError, match=r"firekeeper\.wiring"):
        _pipeline(store).import_history(KEY, ChatHistory(as_of=T0))
