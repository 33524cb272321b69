"""``any_of``: a set of keys as one parameter, the same statement text for every size."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from firekeeper.store import Store, create_store
from firekeeper.store.keysets import any_of
from firekeeper.store.models import chats
from tests.store.samples import KEY

_IDS_OF = (
    sa.select(chats.c.chat_id).where(any_of(chats.c.chat_id, "b_ids")).order_by(chats.c.chat_id)
)


def test_any_of_finds_the_listed_keys_whatever_their_number(store: Store) -> None:
    with store.chat_transaction(KEY):
        pass
    other = type(KEY)(KEY.platform, KEY.tenant, "-2")
    with store.chat_transaction(other):
        pass
    with store.engine.connect() as conn:
        got = [
            conn.execute(_IDS_OF, {"b_ids": ids}).scalars().all()
            for ids in ([], [KEY.chat_id], (KEY.chat_id, "-2", "-3"), ["-9"])
        ]
    assert got == [[], [KEY.chat_id], sorted([KEY.chat_id, "-2"]), []]


def test_the_text_is_the_same_for_any_number_of_keys(store: Store) -> None:
    sent: list[str] = []
    listen = sa.event.listen
    listen(store.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    with store.engine.connect() as conn:
        for ids in ([KEY.chat_id], [KEY.chat_id, "-2", "-3"]):
            conn.execute(_IDS_OF, {"b_ids": ids}).all()
    sent = [text for text in sent if text.startswith("SELECT")]
    assert sent[0] == sent[1]
    if store.engine.dialect.name == "postgresql":
        assert "ANY" in sent[0]
    else:  # one JSON array, read back by json_each: nothing rendered per execution
        assert "IN (SELECT value FROM json_each(" in sent[0]


def test_on_sqlite_a_string_is_refused_as_a_set_of_keys(tmp_path: Path) -> None:
    """A string is not bound as a JSON string (json_each would read it as one key)."""
    with create_store(f"sqlite:///{tmp_path / 'k.db'}") as store:
        store.migrate()
        with store.engine.connect() as conn, pytest.raises(sa.exc.StatementError, match="list"):
            conn.execute(_IDS_OF, {"b_ids": KEY.chat_id}).all()
