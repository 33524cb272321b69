"""The state store: chats, members and decisions in SQL (SQLite or PostgreSQL).

    store = create_store("sqlite:///firekeeper-data/fk.db")
    store.migrate()
    with store.chat_transaction(key) as tx:      # the chat's row is locked
        if (done := tx.stored_decision(tenant, platform, event_id)) is not None:
            return done
        ...
        tx.apply(changes)
        tx.save_decision(event, decision)        # DuplicateEvent if already stored
    with store.batch_transaction(keys) as batch: # many chats, one statement locks them
        ...                                      # see firekeeper.store.batch

Connectivity failures and lock timeouts raise ``firekeeper.errors.StoreUnavailable``
with nothing written.
"""

from firekeeper.store import audit as audit  # registers the audit log table
from firekeeper.store.codec import CodecError
from firekeeper.store.repository import (
    STORE_FAILURES,
    ChatTx,
    DuplicateEvent,
    Store,
    create_store,
)

__all__ = ["STORE_FAILURES", "ChatTx", "CodecError", "DuplicateEvent", "Store", "create_store"]
