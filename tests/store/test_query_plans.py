"""Every query on the hot path goes through its index, on SQLite and on PostgreSQL.

The list is ``firekeeper.hot_queries``; ``python -m firekeeper.hot_queries
URL`` prints the plans. On PostgreSQL sequential scans are switched off for the
check (a query with no usable index still shows a Seq Scan then), and the
tables hold rows of many chats, people and days, analysed, so the planner
weighs its indexes as it would in production, not by the ties of empty tables.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from firekeeper.areas.lifecycle.queries import recent_messages
from firekeeper.areas.screening.tables import held, invites, joins, questions, strikes
from firekeeper.domain.chats import ChatKey, ChatRecord
from firekeeper.domain.events import Platform
from firekeeper.hot_queries import HotQuery, hot_queries, plan
from firekeeper.store import Store
from firekeeper.store.models import chat_values, chats

QUERIES = hot_queries()


def _sqlite_name(query: HotQuery) -> re.Pattern[str]:
    """SQLite names the indexes of primary keys and unique constraints itself."""
    if query.index.startswith(("pk_", "uq_")):
        return re.compile(r"USING (INTEGER PRIMARY KEY|(COVERING )?INDEX sqlite_autoindex_\w+)")
    return re.compile(rf"USING (COVERING )?INDEX {re.escape(query.index)} ")


def _seed(conn: Connection) -> None:
    """Rows of 100 chats, 300 people and 60 days in every table the hot path reads."""
    now = datetime(2026, 11, 24, tzinfo=UTC)
    rows = [
        chat_values(ChatRecord(key=ChatKey(Platform.TELEGRAM, "acme", str(n))))
        | {"updated_at": now}
        for n in range(100)
    ]
    conn.execute(sa.insert(chats), rows)
    pks = list(conn.execute(sa.select(chats.c.id)).scalars())
    n_rows = range(3000)

    def pk(n: int) -> int:
        return pks[n % len(pks)]

    def at(n: int) -> datetime:
        return now - timedelta(minutes=17 * n)

    statuses = ("pending", "pending", "approved", "denied", "withdrawn")
    outcomes = ("joined", "left", "refused", "held", "requested")
    conn.execute(
        sa.insert(held),
        [
            {
                "chat_pk": pk(n),
                "user_id": str(n),
                "display_name": "",
                "inviter_id": "",
                "event_id": f"e{n}",
                "event_kind": "member.joined",
                "rule_id": "burst.hold",
                "reason": "",
                "held_at": at(n),
                "status": statuses[n % len(statuses)],
                "resolved_at": None if n % 5 < 2 else at(n),
                "resolved_by": "",
                "note": "",
            }
            for n in n_rows
        ],
    )
    conn.execute(
        sa.insert(invites),
        [
            {
                "chat_pk": pk(n),
                "inviter_id": str(n % 300),
                "invitee_id": str(n),
                "invited_at": at(n),
                "outcome": outcomes[n % len(outcomes)],
                "joined_at": at(n),
                "outcome_at": at(n),
            }
            for n in n_rows
        ],
    )
    conn.execute(
        sa.insert(joins), [{"chat_pk": pk(n), "user_id": str(n), "at": at(n)} for n in n_rows]
    )
    conn.execute(
        sa.insert(strikes),
        [
            {"chat_pk": pk(n), "user_id": str(n % 300), "at": at(n), "rule_id": "promo.x"}
            for n in n_rows
        ],
    )
    conn.execute(
        sa.insert(questions),
        [
            {"chat_pk": pk(n), "message_id": str(n), "author_id": str(n % 300), "asked_at": at(n)}
            for n in n_rows
        ],
    )
    conn.execute(
        sa.insert(recent_messages),
        [
            {
                "chat_pk": pk(n),
                "user_id": str(n % 300),
                "at": at(n),
                "text_key": str(n),
                "mentions": 0,
            }
            for n in n_rows
        ],
    )
    conn.exec_driver_sql("ANALYZE")


def _uses_its_index(query: HotQuery, shown: str, dialect: str) -> bool:
    if dialect == "postgresql":
        return "Seq Scan" not in shown and any(i in shown for i in (query.index, *query.also))
    # a scan of a table fails; json_each is the set of keys itself (store.keysets), each
    # of its values then searched in the index
    if re.search(r"^SCAN (?!json_each VIRTUAL TABLE)", shown, re.MULTILINE):
        return False
    return any(
        _sqlite_name(replace(query, index=i)).search(shown) for i in (query.index, *query.also)
    )


def test_every_hot_query_uses_its_index(store: Store) -> None:
    failures = []
    with store.engine.connect() as conn:
        dialect = conn.dialect.name
        if dialect == "postgresql":
            _seed(conn)
            conn.exec_driver_sql("SET enable_seqscan = off")
            conn.commit()
        for query in QUERIES:
            if dialect not in query.dialects:
                continue
            shown = plan(conn, query)
            if not _uses_its_index(query, shown, dialect):
                failures.append(f"{query.name} wants {query.index}:\n{shown}")
    assert not failures, "\n\n".join(failures)
