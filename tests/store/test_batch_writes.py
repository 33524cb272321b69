"""The batch transaction's writes: a chat's update names only what events change, unless
something else changed too; every field of a chat is on one side or the other."""

from __future__ import annotations

from dataclasses import fields, replace

import sqlalchemy as sa

from firekeeper.domain.chats import ChatRecord, StateChanges
from firekeeper.store import Store
from firekeeper.store.counting import StatementCount
from firekeeper.store.models import (
    CHAT_EVENT_COLUMNS,
    CHAT_REGISTRATION_FIELDS,
    chat_event_values,
    same_registration,
)
from tests.store.samples import KEY, T0, full_chat


def test_every_chat_field_is_an_event_column_or_a_registration_field() -> None:
    names = {f.name for f in fields(ChatRecord)}
    assert names == set(CHAT_EVENT_COLUMNS) | set(CHAT_REGISTRATION_FIELDS)
    assert not set(CHAT_EVENT_COLUMNS) & set(CHAT_REGISTRATION_FIELDS)
    assert set(chat_event_values(ChatRecord(key=KEY))) == set(CHAT_EVENT_COLUMNS)


def test_same_registration_compares_the_fields_events_do_not_change() -> None:
    chat = full_chat()
    assert same_registration(replace(chat, message_count=9, title="renamed"), chat)
    assert not same_registration(replace(chat, ruleset="other"), chat)
    assert not same_registration(replace(chat, theme=replace(chat.theme, keywords=("x",))), chat)


def _updates(count: StatementCount) -> list[str]:
    assert count.by_text is not None
    return [text for text in count.by_text.elements() if text.startswith("UPDATE chats")]


def test_an_event_s_changes_update_only_the_event_columns(store: Store) -> None:
    with store.batch_transaction([KEY]) as batch:
        batch.chat(KEY).apply(StateChanges(chat=full_chat()))
    with (
        StatementCount(store.engine, by_text=True) as count,
        store.batch_transaction([KEY]) as batch,
    ):
        tx = batch.chat(KEY)
        tx.apply(StateChanges(chat=replace(tx.chat, message_count=42, last_message_at=T0)))
    (update,) = _updates(count)
    assert " ruleset" not in update and " theme" not in update and "message_count" in update
    stored = store.get_chat(KEY)
    assert stored == replace(full_chat(), message_count=42, last_message_at=T0)


def test_a_chat_whose_other_fields_changed_is_written_whole(store: Store) -> None:
    with store.batch_transaction([KEY]) as batch:
        batch.chat(KEY).apply(StateChanges(chat=full_chat()))
    changed = replace(full_chat(), kind="work", params=(("hard_cap", "9"),), title="t2")
    with (
        StatementCount(store.engine, by_text=True) as count,
        store.batch_transaction([KEY]) as batch,
    ):
        batch.chat(KEY).apply(StateChanges(chat=changed))
    (update,) = _updates(count)
    assert " kind" in update and " params" in update
    assert store.get_chat(KEY) == changed
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM chats")).scalar_one() == 1
