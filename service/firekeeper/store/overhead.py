"""What SQLAlchemy Core costs per statement, against the raw driver, on one of the hot
path's statements: the batch's look-up of stored decisions by event id
(``firekeeper.store.batch``), for one id that is not stored (what nearly every event
asks). Both run inside one open transaction on one connection, so the figures are the
statement's own cost: compiled-cache look-up, parameter processing, result wrapping
(SQLAlchemy) against ``cursor.execute`` + ``fetchall`` (sqlite3 / psycopg).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from firekeeper.domain.events import Platform
from firekeeper.store.batch import _DECISIONS_OF
from firekeeper.store.repository import Store


@dataclass(frozen=True, slots=True)
class Overhead:
    core_us: float
    raw_us: float

    def line(self) -> str:
        return (
            f"  one statement (decisions by event id): {self.core_us:.1f} µs through "
            f"SQLAlchemy Core, {self.raw_us:.1f} µs on the raw driver "
            f"({self.core_us - self.raw_us:.1f} µs of SQLAlchemy)"
        )


def measure(store: Store, rounds: int = 2000, repeats: int = 5) -> Overhead:
    """Best of ``repeats`` runs of ``rounds`` statements each, in µs per statement."""
    ids = {"b_tenants": ["nobody"], "b_platforms": [Platform.TELEGRAM.value], "b_event_ids": ["x"]}
    with store.engine.connect() as conn, conn.begin():

        def core() -> None:
            conn.execute(_DECISIONS_OF, ids).all()

        # the raw driver is handed exactly what SQLAlchemy sends it: the statement's
        # text and its parameters once bound (e.g. SQLite's key lists as JSON text)
        sent: list[tuple[str, Any]] = []

        def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
            sent.append((statement, parameters))

        sa.event.listen(conn, "before_cursor_execute", record)
        core()
        sa.event.remove(conn, "before_cursor_execute", record)
        raw_sql, raw_args = sent[0]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]

        def raw() -> None:
            cursor.execute(raw_sql, raw_args)
            cursor.fetchall()

        out = []
        for run in (core, raw):
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                for _ in range(rounds):
                    run()
                best = min(best, time.perf_counter() - t0)
            out.append(best / rounds * 1e6)
        cursor.close()
    return Overhead(out[0], out[1])
