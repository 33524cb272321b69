"""Per-chat transactions serialize on both backends: counts stay exact, chats are created once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

import pytest
import sqlalchemy as sa

from firekeeper.domain.chats import ChatKey, StateChanges
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Platform
from firekeeper.errors import StoreUnavailable
from firekeeper.store import DuplicateEvent, Store, create_store
from firekeeper.store.models import chats, decisions
from tests.store.samples import KEY, decision, event

THREADS = 8
ROUNDS = 25
T = TypeVar("T")


def _in_threads(work: Callable[[int], T], n: int = THREADS) -> list[T]:
    """Run work(i) in n threads released together; re-raise the first failure."""
    start = threading.Barrier(n)

    def run(i: int) -> T:
        start.wait(timeout=30)
        return work(i)

    with ThreadPoolExecutor(max_workers=n) as pool:
        return [f.result(timeout=120) for f in [pool.submit(run, i) for i in range(n)]]


def test_read_modify_write_increments_are_never_lost(store: Store) -> None:
    def increment(_: int) -> None:
        for _round in range(ROUNDS):
            with store.chat_transaction(KEY) as tx:
                chat = tx.chat
                tx.apply(
                    StateChanges(
                        chat=replace(
                            chat,
                            member_count=chat.member_count + 1,
                            events_processed=chat.events_processed + 1,
                        )
                    )
                )

    _in_threads(increment)
    chat = store.get_chat(KEY)
    assert chat is not None
    assert (chat.member_count, chat.events_processed) == (THREADS * ROUNDS, THREADS * ROUNDS)


def test_a_new_chat_opened_at_once_by_many_threads_is_created_once(store: Store) -> None:
    key = ChatKey(Platform.DISCORD, "acme", "brand-new")

    def open_chat(_: int) -> None:
        with store.chat_transaction(key) as tx:
            assert tx.chat.key == key

    _in_threads(open_chat)
    with store.engine.connect() as conn:
        count = conn.execute(sa.select(sa.func.count()).select_from(chats)).scalar_one()
    assert count == 1


def test_concurrent_retries_of_one_event_store_one_decision(store: Store) -> None:
    """The pipeline's pattern: check for a stored decision under the lock, then save."""

    def handle(i: int) -> Decision:
        try:
            with store.chat_transaction(KEY) as tx:
                stored = tx.stored_decision(KEY.tenant, KEY.platform, "e-1")
                if stored is not None:
                    return stored
                chat = tx.chat
                tx.apply(StateChanges(chat=replace(chat, message_count=chat.message_count + 1)))
                fresh = replace(decision("e-1"), ruleset_version=f"v{i}")
                tx.save_decision(event("e-1"), fresh)
                return fresh
        except DuplicateEvent:
            found = store.find_decision(KEY.tenant, KEY.platform, "e-1")
            assert found is not None
            return found

    answers = _in_threads(handle)
    assert len({a.ruleset_version for a in answers}) == 1
    assert sum(not a.replayed for a in answers) == 1
    chat = store.get_chat(KEY)
    assert chat is not None and chat.message_count == 1
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(decisions)).scalar_one() == 1


def test_a_chat_locked_too_long_is_reported_unavailable(store_url: str, store: Store) -> None:
    """A waiting transaction gives up after lock_timeout_ms, as StoreUnavailable."""
    impatient = create_store(store_url, lock_timeout_ms=200)
    try:
        with store.chat_transaction(KEY) as holder:
            with (
                pytest.raises(StoreUnavailable, match="cannot run a transaction on chat"),
                impatient.chat_transaction(KEY) as tx,
            ):
                tx.apply(StateChanges(chat=replace(tx.chat, member_count=99)))
            holder.apply(StateChanges(chat=replace(holder.chat, member_count=1)))
    finally:
        impatient.close()
    chat = store.get_chat(KEY)
    assert chat is not None and chat.member_count == 1
