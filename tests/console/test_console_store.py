"""The two decision-log reads the console added to the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.store import Store, create_store
from tests.store.samples import KEY, T0, decision, event

OTHER = ChatKey(Platform.DISCORD, KEY.tenant, "d-1")
GLOBEX = ChatKey(Platform.TELEGRAM, "globex", "g-1")


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with create_store(store_url) as s:
        s.migrate()
        plan = [  # (event id, chat, seconds after T0), saved out of decided order
            ("e-3", KEY, 3),
            ("e-1", KEY, 1),
            ("d-2", OTHER, 2),
            ("g-2", GLOBEX, 2),
            ("e-4", KEY, 4),
        ]
        for event_id, key, seconds in plan:
            with s.chat_transaction(key) as tx:
                at = T0 + timedelta(seconds=seconds)
                tx.save_decision(event(event_id, key=key), decision(event_id, at))
        yield s


def test_decisions_between_filters_by_window_tenant_and_platform(store: Store) -> None:
    def ids(since: int, until: int, **kw: object) -> list[str]:
        window = (T0 + timedelta(seconds=since), T0 + timedelta(seconds=until))
        return [d.event_id for d in store.decisions_between(*window, **kw)]  # type: ignore[arg-type]

    assert ids(0, 10) == ["e-1", "d-2", "g-2", "e-3", "e-4"]
    assert ids(2, 4) == ["d-2", "g-2", "e-3"]  # since included, until not
    assert ids(0, 10, tenant=KEY.tenant) == ["e-1", "d-2", "e-3", "e-4"]
    assert ids(0, 10, tenant=KEY.tenant, platforms=["telegram"]) == ["e-1", "e-3", "e-4"]
    assert ids(0, 10, platforms=["discord", "wecom"]) == ["d-2"]
    assert ids(0, 10, platforms=[]) == []


def test_recent_decisions_are_one_chats_newest_first(store: Store) -> None:
    assert [d.event_id for _e, d in store.recent_decisions(KEY)] == ["e-4", "e-3", "e-1"]
    assert [d.event_id for _e, d in store.recent_decisions(KEY, limit=2)] == ["e-4", "e-3"]
    assert [e.envelope.event_id for e, _d in store.recent_decisions(OTHER)] == ["d-2"]
    assert store.recent_decisions(ChatKey(Platform.SLACK, "x", "y")) == []
    for limit in (0, 1001):
        with pytest.raises(ValueError, match="limit"):
            store.recent_decisions(KEY, limit=limit)
