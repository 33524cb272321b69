"""PostgreSQL's pooled connections: one idle for a while is pinged before use and
replaced if it is gone; one used recently is not pinged (a round trip a batch saved),
so its loss fails one batch whole, and the next connects afresh."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from firekeeper.errors import StoreUnavailable
from firekeeper.store import Store
from firekeeper.store.db import make_engine
from firekeeper.store.repository import Store as StoreClass
from tests.store.samples import KEY


def _store(url: str, ping_idle_seconds: float) -> Store:
    return StoreClass(make_engine(url, pool_size=1, ping_idle_seconds=ping_idle_seconds))


def _pooled_backend(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(url: str, pid: int) -> None:
    killer = sa.create_engine(url)
    try:
        with killer.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            for _ in range(500):  # pg_terminate_backend only signals: wait until it is gone
                alive = conn.execute(
                    sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"),
                    {"pid": pid},
                ).scalar_one()
                if not alive:
                    return
                conn.execute(sa.text("SELECT pg_sleep(0.01)"))
        raise AssertionError(f"backend {pid} still alive after pg_terminate_backend")
    finally:
        killer.dispose()


def _count_pings(store: Store) -> list[object]:
    """The connections the engine pings, from now on."""
    pinged: list[object] = []
    dialect = store.engine.dialect
    ping = dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pinged.append(dbapi_connection)
        return ping(dbapi_connection)

    dialect.do_ping = counted  # type: ignore[method-assign]
    return pinged


def _batch(store: Store) -> None:
    with store.batch_transaction([KEY]) as batch:
        batch.chat(KEY)


@pytest.fixture
def migrated(postgres_url: str) -> Iterator[str]:
    with _store(postgres_url, 0) as store:
        store.migrate()
    yield postgres_url


def test_an_idle_connection_that_is_gone_is_replaced_before_use(migrated: str) -> None:
    with _store(migrated, 0) as store:  # every connection counts as idle
        before = _pooled_backend(store)
        pinged = _count_pings(store)
        _terminate(migrated, before)
        _batch(store)  # the ping finds it gone: a new connection, no error
        assert len(pinged) == 1
        assert _pooled_backend(store) != before


def test_a_recent_connection_is_not_pinged_and_its_loss_fails_one_batch(migrated: str) -> None:
    with _store(migrated, 3600) as store:
        before = _pooled_backend(store)
        pinged = _count_pings(store)
        _batch(store)
        assert pinged == []
        _terminate(migrated, before)
        with pytest.raises(StoreUnavailable):
            _batch(store)
        _batch(store)  # the pool dropped the lost connection: the next batch connects afresh
        assert _pooled_backend(store) != before


def test_a_negative_idle_time_is_refused() -> None:
    with pytest.raises(ValueError, match="ping_idle_seconds"):
        make_engine("postgresql+psycopg://u@127.0.0.1:1/x", ping_idle_seconds=-1)
