"""An outbox item gives back the action its decision enqueued, whole: the outbox and
the decision log store actions in one format (``store.codec.action_to_json``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firekeeper.areas.lifecycle.outbox import Outbox, enqueue
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.decisions import Action, ActionType
from firekeeper.domain.events import Platform
from firekeeper.store import Store
from firekeeper.store.codec import CodecError, action_from_json, action_to_json

KEY = ChatKey(Platform.TELEGRAM, "acme", "-100777")
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NOTICE = Action(
    ActionType.POST_MESSAGE,
    "test.owner_notice",
    text="{mention}，群里一周没见到你了",
    chat_id=KEY.chat_id,
    mention_user_id="42",  # the owner the notice names
)


def test_an_enqueued_action_comes_back_whole_with_its_mention(store: Store) -> None:
    store.register_chat(ChatRegistration(key=KEY))
    with store.chat_transaction(KEY) as tx:
        enqueue(tx.connection, tx.chat_pk, KEY, "tick:1", [NOTICE], NOW)
    (item,) = Outbox(store.engine).claim(
        Platform.TELEGRAM, "acme", "stream-1", now=NOW, lease_seconds=30
    )
    assert item.action == NOTICE  # mention_user_id included: it was dropped before


def test_a_malformed_stored_action_names_its_path() -> None:
    stored = action_to_json(NOTICE)
    assert action_from_json(stored) == NOTICE
    with pytest.raises(CodecError, match=r"action\.duration_seconds"):
        action_from_json(stored | {"duration_seconds": "ten"})
