"""``any_of``: a set of keys as one parameter, the same statement text for every size."""

from __future__ import annotations

import sqlalchemy as sa

from firekeeper.store import Store
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


def test_on_postgresql_the_text_is_the_same_for_any_number_of_keys(store: Store) -> None:
    sent: list[str] = []
    listen = sa.event.listen
    listen(store.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    with store.engine.connect() as conn:
        for ids in ([KEY.chat_id], [KEY.chat_id, "-2", "-3"]):
            conn.execute(_IDS_OF, {"b_ids": ids}).all()
    sent = [text for text in sent if text.startswith("SELECT")]
    if store.engine.dialect.name == "postgresql":
        assert sent[0] == sent[1] and "ANY" in sent[0]
    else:
        assert sent[0] != sent[1] and " IN (" in sent[0]
