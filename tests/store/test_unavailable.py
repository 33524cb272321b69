"""A database that cannot be reached is reported as StoreUnavailable, saying which and why."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firekeeper.domain.chats import ChatRegistration
from firekeeper.errors import StoreUnavailable
from firekeeper.store import Store, create_store
from tests.store.samples import KEY

DEAD_POSTGRES = "postgresql+psycopg://postgres:hunter2@127.0.0.1:1/none"


def _open_transaction(store: Store) -> None:
    with store.chat_transaction(KEY):
        pass


OPERATIONS: dict[str, Callable[[Store], object]] = {
    "migrate": Store.migrate,
    "chat_transaction": _open_transaction,
    "get_chat": lambda s: s.get_chat(KEY),
    "register_chat": lambda s: s.register_chat(ChatRegistration(key=KEY)),
    "find_decision": lambda s: s.find_decision(KEY.tenant, KEY.platform, "e-1"),
    "export_decisions": lambda s: list(s.export_decisions()),
}


@pytest.fixture
def dead_postgres() -> Iterator[Store]:
    store = create_store(DEAD_POSTGRES)
    yield store
    store.close()


@pytest.fixture
def unopenable_sqlite(tmp_path: Path) -> Iterator[Store]:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the database's directory should be")
    store = create_store(f"sqlite:///{blocker}/fk.db")
    yield store
    store.close()


@pytest.mark.parametrize("operation", OPERATIONS)
def test_a_dead_postgres_is_unavailable(dead_postgres: Store, operation: str) -> None:
    with pytest.raises(StoreUnavailable) as info:
        OPERATIONS[operation](dead_postgres)
    message = str(info.value)
    assert "postgresql at 127.0.0.1:1/none" in message
    assert "nothing was written; retry" in message
    assert "hunter2" not in message
    assert dead_postgres.ping() is False


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_unopenable_sqlite_file_is_unavailable(unopenable_sqlite: Store, operation: str) -> None:
    with pytest.raises(StoreUnavailable, match="unable to open database file") as info:
        OPERATIONS[operation](unopenable_sqlite)
    assert "not-a-directory/fk.db" in str(info.value)
    assert unopenable_sqlite.ping() is False
