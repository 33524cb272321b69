"""The repository API on both backends: snapshots, registration, decisions, rollback, export."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from firekeeper.domain.chats import ChatKey, ChatRecord, ChatRegistration, StateChanges, Theme
from firekeeper.domain.events import Platform
from firekeeper.store import DuplicateEvent, Store
from firekeeper.store.models import chats, decisions, members
from tests.store.samples import KEY, T0, decision, event, every_payload, full_chat, full_member


def _count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_a_chat_seen_first_in_a_transaction_is_created_unregistered(store: Store) -> None:
    assert store.get_chat(KEY) is None
    with store.chat_transaction(KEY) as tx:
        assert tx.chat == ChatRecord(key=KEY)
        assert tx.members(["u-alice"]) == {}
    assert store.get_chat(KEY) == ChatRecord(key=KEY, registered=False)


def test_chat_and_member_snapshots_round_trip(store: Store) -> None:
    chat = full_chat()
    bob, carol = full_member("u-bob"), replace(full_member("u-carol"), inviter_id="")
    with store.chat_transaction(KEY) as tx:
        tx.apply(StateChanges(chat=chat, members=(bob, carol)))
        assert tx.chat == chat
    with store.chat_transaction(KEY) as tx:
        assert tx.chat == chat
        got = tx.members(["u-bob", "u-carol", "u-nobody", "u-bob"])
    assert got == {"u-bob": bob, "u-carol": carol}
    stored = got["u-bob"].account_created_at
    assert stored is not None and stored.tzinfo == UTC  # the instant kept, answered in UTC
    assert stored == bob.account_created_at
    for at in (got["u-bob"].joined_at, got["u-bob"].last_seen_at):
        assert at is not None and at.tzinfo == UTC
    assert store.get_chat(KEY) == chat


def test_apply_upserts_members_and_rewrites_the_chat(store: Store) -> None:
    with store.chat_transaction(KEY) as tx:
        tx.apply(StateChanges(chat=full_chat(), members=(full_member(),)))
    left = replace(full_member(), is_member=False, left_at=T0, message_count=18)
    with store.chat_transaction(KEY) as tx:
        tx.apply(StateChanges(chat=replace(tx.chat, member_count=41), members=(left,)))
    with store.chat_transaction(KEY) as tx:
        assert tx.members(["u-bob"]) == {"u-bob": left}
        assert tx.chat.member_count == 41
    assert _count(store, members) == 1


def test_members_are_per_chat(store: Store) -> None:
    other = ChatKey(Platform.DISCORD, "acme", "-100123")
    with store.chat_transaction(KEY) as tx:
        tx.apply(StateChanges(chat=tx.chat, members=(full_member(),)))
    with store.chat_transaction(other) as tx:
        assert tx.members(["u-bob"]) == {}


def test_a_transaction_that_raises_writes_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError, match="boom"), store.chat_transaction(KEY) as tx:
        tx.apply(StateChanges(chat=full_chat(), members=(full_member(),)))
        tx.save_decision(event("e-1"), decision("e-1"))
        raise RuntimeError("boom")
    assert store.get_chat(KEY) is None  # not even the chat row it created
    assert store.find_decision(KEY.tenant, KEY.platform, "e-1") is None
    assert _count(store, members) == _count(store, decisions) == _count(store, chats) == 0


def test_register_chat_upserts_and_marks_registered(store: Store) -> None:
    reg = ChatRegistration(
        key=KEY,
        ruleset="hobby",
        kind="hobby",
        theme=Theme(keywords=("books",)),
        created_at=T0,
        params={"b": "2", "a": "1"},
        title="Readers",
        member_count=12,
        owner_id="u-alice",
    )
    first = store.register_chat(reg)
    assert first == replace(
        ChatRecord(key=KEY),
        ruleset="hobby",
        kind="hobby",
        theme=Theme(keywords=("books",)),
        created_at=T0,
        params=(("a", "1"), ("b", "2")),
        title="Readers",
        member_count=12,
        owner_id="u-alice",
        registered=True,
    )
    assert store.get_chat(KEY) == first
    with store.chat_transaction(KEY) as tx:  # events change the counters
        tx.apply(StateChanges(chat=replace(tx.chat, member_count=13, message_count=5)))
    again = store.register_chat(ChatRegistration(key=KEY, kind="work", params={"c": "3"}))
    # ruleset, kind, theme and params replaced; what was not given is kept
    assert again == replace(
        first,
        ruleset="",
        kind="work",
        theme=Theme(),
        params=(("c", "3"),),
        member_count=13,
        message_count=5,
    )
    assert store.get_chat(KEY) == again
    assert store.register_chat(ChatRegistration(key=KEY, member_count=0)).member_count == 0


def test_decisions_are_stored_with_their_event_and_found_as_replays(store: Store) -> None:
    ev, dec = event("e-1", every_payload()[3]), decision("e-1")
    with store.chat_transaction(KEY) as tx:
        assert tx.stored_decision(KEY.tenant, KEY.platform, "e-1") is None
        tx.save_decision(ev, dec)
        assert tx.stored_decision(KEY.tenant, KEY.platform, "e-1") == replace(dec, replayed=True)
    assert store.find_decision(KEY.tenant, KEY.platform, "e-1") == replace(dec, replayed=True)
    assert store.find_decision(KEY.tenant, Platform.DISCORD, "e-1") is None
    assert store.find_decision("other", KEY.platform, "e-1") is None
    assert list(store.export_decisions()) == [(ev, dec)]
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(decisions)).mappings().one()
    assert (row["event_kind"], row["actor_id"], row["ruleset_version"]) == (
        "join.requested",
        "u-alice",
        "sha256:abc",
    )
    assert row["occurred_at"] == T0 and row["decided_at"].tzinfo == UTC


def test_a_second_decision_for_an_event_raises_duplicate_event(store: Store) -> None:
    with store.chat_transaction(KEY) as tx:
        tx.save_decision(event("e-1"), decision("e-1"))
    with pytest.raises(DuplicateEvent) as info, store.chat_transaction(KEY) as tx:
        tx.apply(StateChanges(chat=replace(tx.chat, message_count=99)))
        tx.save_decision(event("e-1"), replace(decision("e-1"), ruleset="other"))
    assert (info.value.tenant, info.value.platform, info.value.event_id) == (
        KEY.tenant,
        KEY.platform,
        "e-1",
    )
    assert "already has a stored decision" in str(info.value)
    chat = store.get_chat(KEY)
    assert chat is not None and chat.message_count == 0  # rolled back
    stored = store.find_decision(KEY.tenant, KEY.platform, "e-1")
    assert stored is not None and stored.ruleset == "hobby"


def test_misuse_is_refused(store: Store) -> None:
    other = ChatKey(Platform.TELEGRAM, "acme", "elsewhere")
    with store.chat_transaction(KEY) as tx:
        with pytest.raises(ValueError, match="not telegram/acme/-100123"):
            tx.apply(StateChanges(chat=ChatRecord(key=other)))
        with pytest.raises(ValueError, match="is for chat"):
            tx.save_decision(event("e-1", key=other), decision("e-1"))
        with pytest.raises(ValueError, match="decision is for event"):
            tx.save_decision(event("e-1"), decision("e-2"))
    with pytest.raises(RuntimeError, match="after its chat_transaction block"):
        tx.members(["u-bob"])


def test_naive_datetimes_are_refused(store: Store) -> None:
    naive = replace(full_chat(), last_message_at=datetime(2025, 1, 1))
    with (
        pytest.raises(sa.exc.StatementError, match="naive datetime"),
        store.chat_transaction(KEY) as tx,
    ):
        tx.apply(StateChanges(chat=naive))
    assert store.get_chat(KEY) is None


def test_export_is_in_decided_order_with_filters(store: Store) -> None:
    other = ChatKey(Platform.TELEGRAM, "globex", "g-1")
    plan = [  # (event id, chat, decided_at): saved out of decided order, with ties
        ("e-3", KEY, T0 + timedelta(seconds=3)),
        ("e-1", KEY, T0 + timedelta(seconds=1)),
        ("g-1", other, T0 + timedelta(seconds=2)),
        ("e-2a", KEY, T0 + timedelta(seconds=2)),
        ("e-2b", KEY, T0 + timedelta(seconds=2)),
        ("e-4", KEY, T0 + timedelta(seconds=4)),
    ]
    for event_id, key, at in plan:
        with store.chat_transaction(key) as tx:
            tx.save_decision(event(event_id, key=key), decision(event_id, at))

    def ids(**kw: Any) -> list[str]:
        return [e.envelope.event_id for e, _ in store.export_decisions(**kw)]

    everything = ["e-1", "g-1", "e-2a", "e-2b", "e-3", "e-4"]
    assert ids() == everything
    for size in (1, 2, 3, 100):  # pages split ties on decided_at correctly
        assert ids(batch_size=size) == everything
    assert ids(tenant="globex") == ["g-1"]
    assert ids(chat=KEY, batch_size=2) == ["e-1", "e-2a", "e-2b", "e-3", "e-4"]
    assert ids(chat=ChatKey(Platform.SLACK, "x", "y")) == []
    assert ids(since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=4)) == [
        "g-1",
        "e-2a",
        "e-2b",
        "e-3",
    ]
    pairs = list(store.export_decisions(tenant="globex"))
    assert pairs == [(event("g-1", key=other), decision("g-1", T0 + timedelta(seconds=2)))]
    assert not pairs[0][1].replayed
    with pytest.raises(ValueError, match="batch_size"):
        next(store.export_decisions(batch_size=0))


def test_ping(store: Store) -> None:
    assert store.ping() is True
