"""What the benchmark's store figures rest on: the statement counter and the seeded rows."""

from __future__ import annotations

import sqlalchemy as sa

from firekeeper.store import Store, overhead
from firekeeper.store.counting import StatementCount
from firekeeper.store.models import decisions, members
from firekeeper.store.seeding import seed
from firekeeper.workload import build


def _count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_seeded_rows_are_stored_for_the_workloads_chats(store: Store) -> None:
    work = build(20, n_chats=3)
    for reg in work.chats:
        store.register_chat(reg)
    seed(store, "bench", work, 7001, 5003)  # more than one chunk of members
    assert (_count(store, members), _count(store, decisions)) == (7001, 5003)
    assert not any(
        store.find_decision("bench", e.envelope.platform, e.envelope.event_id) for e in work.events
    )


def test_statements_and_round_trips_are_counted(store: Store) -> None:
    with StatementCount(store.engine) as count, store.engine.begin() as conn:
        conn.execute(sa.select(sa.literal(1)))
        conn.execute(sa.delete(decisions).where(decisions.c.event_id == "none"))
    after = count.statements
    with store.engine.begin() as conn:  # outside the block: not counted
        conn.execute(sa.select(sa.literal(1)))
    assert count.statements == after >= 2
    if store.engine.dialect.name == "postgresql":
        assert count.round_trips == count.statements + 2  # BEGIN and COMMIT
    else:
        assert count.round_trips == count.statements


def test_statements_are_counted_by_their_text_when_asked(store: Store) -> None:
    with StatementCount(store.engine, by_text=True) as count, store.engine.begin() as conn:
        for _ in range(3):
            conn.execute(sa.delete(decisions).where(decisions.c.event_id == "none"))
        conn.execute(sa.select(sa.literal(1)))
    top = count.most_sent(1)
    assert len(top) == 1 and top[0][0] == 3 and top[0][1].startswith("DELETE FROM decisions")
    assert StatementCount(store.engine).most_sent(5) == []  # not asked: nothing kept


def test_the_driver_overhead_figure_runs_the_statement_sqlalchemy_sends(store: Store) -> None:
    """The raw driver is handed the text and bound parameters SQLAlchemy sent (on SQLite
    the key lists are JSON text: a list handed to sqlite3 itself is refused)."""
    store.migrate()
    figure = overhead.measure(store, rounds=3, repeats=1)
    assert figure.core_us > 0 and figure.raw_us > 0
    assert "µs on the raw driver" in figure.line()
