"""What a piece of work sends to the database: statements, transactions, round trips.

    with StatementCount(store.engine) as count:
        pipeline.evaluate_batch(events)
    count.statements, count.round_trips

A statement is one cursor execution (an ``executemany`` of many rows is one).
Round trips are counted as the driver makes them: each statement, plus on
PostgreSQL the ``BEGIN`` psycopg sends before a transaction's first statement
and each ``COMMIT`` / ``ROLLBACK`` (SQLite is in the process: it has none, so
there its round trips are its statements). psycopg sends an ``executemany`` in
pipeline mode, one round trip for all its rows.
"""

from __future__ import annotations

from collections import Counter
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine


class StatementCount:
    """Counts, while inside its ``with`` block, what ``engine`` sends (thread-safe enough
    for a benchmark: counters are only ever incremented)."""

    def __init__(self, engine: Engine, *, by_text: bool = False) -> None:
        self.engine = engine
        self.statements = 0
        self.transactions = 0
        self.ends = 0  # commits and rollbacks
        # with by_text: how many times each statement was sent, by its SQL (whitespace
        # folded), to see which statements a path still sends per event
        self.by_text: Counter[str] | None = Counter() if by_text else None

    @property
    def round_trips(self) -> int:
        if self.engine.dialect.name == "postgresql":
            return self.statements + self.transactions + self.ends
        return self.statements

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.statements += 1
        if self.by_text is not None:
            self.by_text[" ".join(statement.split())] += 1

    def most_sent(self, n: int, width: int = 110) -> list[tuple[int, str]]:
        """The ``n`` statements sent most often (their SQL cut to ``width`` characters);
        empty unless counted ``by_text``."""
        if self.by_text is None:
            return []
        return [(k, text[:width]) for text, k in self.by_text.most_common(n)]

    def _begin(self, *args: Any) -> None:
        self.transactions += 1

    def _end(self, *args: Any) -> None:
        self.ends += 1

    def __enter__(self) -> StatementCount:
        sa.event.listen(self.engine, "before_cursor_execute", self._statement)
        sa.event.listen(self.engine, "begin", self._begin)
        sa.event.listen(self.engine, "commit", self._end)
        sa.event.listen(self.engine, "rollback", self._end)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)
        sa.event.remove(self.engine, "begin", self._begin)
        sa.event.remove(self.engine, "commit", self._end)
        sa.event.remove(self.engine, "rollback", self._end)
