"""Effects outside the database run only once the event's transaction committed."""

from __future__ import annotations

import pytest

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.store import create_store

KEY = ChatKey(Platform.DISCORD, "acme", "g1")


def test_after_commit_runs_on_commit_and_never_on_rollback(store_url: str) -> None:
    store = create_store(store_url)
    store.migrate()
    ran: list[str] = []
    try:
        with pytest.raises(RuntimeError), store.chat_transaction(KEY) as tx:
            tx.after_commit(lambda: ran.append("rolled back"))
            raise RuntimeError("the event failed after its area wrote")
        assert ran == []
        with store.chat_transaction(KEY) as tx:
            tx.after_commit(lambda: ran.append("committed"))
            assert ran == []  # not before the commit
        assert ran == ["committed"]
    finally:
        store.close()
