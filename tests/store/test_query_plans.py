"""Every query on the hot path goes through its index, on SQLite and on PostgreSQL.

The list is ``firekeeper.store.hot_queries``; ``python -m firekeeper.store.hot_queries
URL`` prints the plans. On PostgreSQL sequential scans are switched off for the
check (a query with no usable index still shows a Seq Scan then), and the
review queue holds rows of many chats, analysed, so the planner weighs its
indexes as it would in production rather than by the ties of empty tables.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from firekeeper.domain.chats import ChatKey, ChatRecord
from firekeeper.domain.events import Platform
from firekeeper.store import Store
from firekeeper.store.hot_queries import HotQuery, hot_queries, plan
from firekeeper.store.models import chat_values, chats
from firekeeper.store.screening import held

QUERIES = hot_queries()


def _sqlite_name(query: HotQuery) -> re.Pattern[str]:
    """SQLite names the indexes of primary keys and unique constraints itself."""
    if query.index.startswith(("pk_", "uq_")):
        return re.compile(r"USING (INTEGER PRIMARY KEY|(COVERING )?INDEX sqlite_autoindex_\w+)")
    return re.compile(rf"USING (COVERING )?INDEX {re.escape(query.index)} ")


def _seed_review_queue(conn: Connection) -> None:
    now = datetime(2026, 11, 24, tzinfo=UTC)
    rows = [
        chat_values(ChatRecord(key=ChatKey(Platform.TELEGRAM, "acme", str(n))))
        | {"updated_at": now}
        for n in range(100)
    ]
    conn.execute(sa.insert(chats), rows)
    pks = list(conn.execute(sa.select(chats.c.id)).scalars())
    statuses = ("pending", "pending", "approved", "denied", "withdrawn")
    conn.execute(
        sa.insert(held),
        [
            {
                "chat_pk": pks[n % len(pks)],
                "user_id": str(n),
                "display_name": "",
                "inviter_id": "",
                "event_id": f"e{n}",
                "event_kind": "member.joined",
                "rule_id": "burst.hold",
                "reason": "",
                "held_at": now,
                "status": statuses[n % len(statuses)],
                "resolved_at": None if n % 5 < 2 else now,
                "resolved_by": "",
                "note": "",
            }
            for n in range(5000)
        ],
    )
    conn.exec_driver_sql("ANALYZE")


@pytest.mark.parametrize("query", QUERIES, ids=[q.name for q in QUERIES])
def test_the_query_uses_its_index(store: Store, query: HotQuery) -> None:
    with store.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            _seed_review_queue(conn)
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.commit()
            shown = plan(conn, query)
            assert "Seq Scan" not in shown, shown
            assert query.index in shown, shown
        else:
            shown = plan(conn, query)
            assert not re.search(r"^SCAN ", shown, re.MULTILINE), shown
            assert _sqlite_name(query).search(shown), shown
