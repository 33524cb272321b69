"""The statements the hot path sends, each with sample parameters and the index it must use.

Per batch (``firekeeper.store.batch``): the idempotency look-up, the chats' lock,
the members, and the areas' reads for all the batch's chats; per event: the areas'
reads that are not held for the batch, and their writes; per tick and chat: the
lifecycle prunes; per sweep: the retention deletes (``firekeeper.store.retention``).
``plan`` asks the database how it would run one (``EXPLAIN QUERY PLAN`` on SQLite, ``EXPLAIN``
on PostgreSQL); ``tests/store/test_query_plans.py`` checks every one uses its
index on both backends, and ``python -m firekeeper.hot_queries URL``
prints the plans.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection

from firekeeper.area_registry import retention_policies
from firekeeper.areas.lifecycle import queries as lc
from firekeeper.areas.screening import queries as sq
from firekeeper.store import batch
from firekeeper.store import repository as repo


@dataclass(frozen=True, slots=True)
class HotQuery:
    name: str
    statement: sa.Executable
    params: Mapping[str, Any]
    index: str  # the index (or key) it must use, by its name in the models
    also: tuple[str, ...] = ()  # other indexes that narrow it as well (the planner may pick them)
    dialects: tuple[str, ...] = ("sqlite", "postgresql")  # where the hot path sends it


_NOW = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
_AGO = _NOW - timedelta(days=1)


def hot_queries() -> tuple[HotQuery, ...]:
    pk = {"b_pk": 1}
    t = {"b_now": _NOW}
    chat_key = {"b_platform": "telegram", "b_tenant": "acme", "b_chat_id": "-100"}
    event_key = {"b_tenant": "acme", "b_platform": "telegram", "b_event_id": "tg:1"}
    pks = {"b_pks": [1, 2]}
    q = [
        HotQuery(
            "batch: stored decisions",
            batch._DECISIONS_OF,
            {"b_tenants": ["acme"], "b_platforms": ["telegram"], "b_event_ids": ["tg:1", "tg:2"]},
            "uq_decisions_tenant_platform_event_id",
        ),
        HotQuery(
            "batch: lock chats",
            batch._CHATS_FOR_UPDATE,
            {
                "b_platforms": ["telegram"] * 2,
                "b_tenants": ["acme"] * 2,
                "b_chat_ids": ["-100", "-101"],
            },
            "uq_chats_platform_tenant_chat_id",
            dialects=("postgresql",),
        ),
        HotQuery(
            "batch: read chats",
            batch._CHATS_OF,
            {"b_platforms": ["telegram"], "b_tenants": ["acme"], "b_chat_ids": ["-100", "-101"]},
            "uq_chats_platform_tenant_chat_id",
            dialects=("sqlite",),
        ),
        HotQuery(
            "batch: members",
            batch._MEMBERS_OF,
            {"b_pks": [1, 2], "b_ids": ["1", "2"]},
            "pk_members",
        ),
        HotQuery("batch: chat activity", lc._ACTIVITIES, pks, "pk_chat_activity"),
        HotQuery(
            "batch: theme expansions (30 days)",
            lc._DAY_SUMS_OF["theme_expansions"],
            pks | {"b_first": 1, "b_last": 30},
            "pk_activity_days",
        ),
        HotQuery(
            "batch: flood window",
            lc._RECENT_OF,
            pks | {"b_since": _AGO},
            "ix_recent_messages_chat_pk_at",
        ),
        HotQuery(
            "batch: strikes",
            sq._STRIKES_OF,
            pks | {"b_keep": _AGO},
            "ix_promo_strikes_chat_pk_user_id_at",
            # the chats' strikes of the last 30 days either way: a few rows (the planner
            # on the test's small table may start from the time index)
            also=("ix_promo_strikes_at",),
        ),
        HotQuery("batch: screening settings", sq._SETTINGS_OF, pks, "pk_screening_settings"),
        HotQuery("batch: value counts", sq._VALUE_COUNTS_OF, pks, "pk_promo_value"),
        HotQuery(
            "batch: questions (open and answered)",
            sq._QUESTIONS_OF,
            pks,
            "pk_promo_questions",
            also=("ix_promo_questions_chat_pk_asked_at",),
        ),
        HotQuery(
            "batch: join log (24 hours)",
            sq._JOINS_OF,
            pks | {"b_keep": _AGO},
            "ix_screening_joins_chat_pk_at",
            also=("ix_screening_joins_at",),
        ),
        HotQuery(
            "batch: invitations to the batch's people (a side of the next)",
            sq._INVITES_TO,
            pks | {"b_ids": ["1", "2"]},
            "ix_screening_invites_chat_pk_invitee_id",
        ),
        HotQuery(
            "batch: invitations by the batch's people (a side of the next)",
            sq._INVITES_BY,
            pks | {"b_ids": ["1", "2"]},
            "ix_screening_invites_chat_pk_inviter_id_invited_at",
        ),
        HotQuery(
            "batch: invitations to or by the batch's people",
            sq._INVITES_OF,
            pks | {"b_ids": ["1", "2"]},
            "ix_screening_invites_chat_pk_invitee_id",
        ),
        HotQuery(
            "batch: pending and approved holds",
            sq._HELD_OF,
            pks,
            "ix_screening_held_chat_pk_status",
            also=("uq_screening_held_chat_pk_user_id",),
        ),
        HotQuery(
            "batch: tenant's blocklist",
            sq._BLOCKLIST_OF,
            {"b_tenant": "acme", "b_limit": sq.BLOCKLIST_HELD + 1},
            "uq_screening_blocklist_tenant_kind_platform_value",
        ),
        HotQuery(
            "find decision",
            repo._DECISION_BY_EVENT,
            event_key,
            "uq_decisions_tenant_platform_event_id",
        ),
        HotQuery("lock chat", repo._CHAT_FOR_UPDATE, chat_key, "uq_chats_platform_tenant_chat_id"),
        HotQuery(
            "members", repo._MEMBERS_BY_ID, {"b_chat_pk": 1, "b_ids": ["1", "2"]}, "pk_members"
        ),
        HotQuery("screening settings", sq._SETTINGS, pk, "pk_screening_settings"),
        HotQuery(
            "blocked users",
            sq._BLOCKED_USERS,
            {"b_tenant": "acme", "b_platform": "telegram", "b_values": ["1"]},
            "uq_screening_blocklist_tenant_kind_platform_value",
        ),
        HotQuery(
            "blocked domains",
            sq._BLOCKED_DOMAINS,
            {"b_tenant": "acme", "b_values": ["evil.com"]},
            "uq_screening_blocklist_tenant_kind_platform_value",
        ),
        HotQuery(
            "join counts",
            sq._JOIN_COUNTS,
            pk | t | {"b_keep": _AGO, "b_10m": _AGO, "b_1h": _AGO, "b_24h": _AGO},
            "ix_screening_joins_chat_pk_at",
        ),
        HotQuery(
            "prune joins", sq._PRUNE_JOINS, pk | {"b_before": _AGO}, "ix_screening_joins_chat_pk_at"
        ),
        HotQuery(
            "inviter record",
            sq._INVITER_RECORD,
            pk | t | {"b_inviter": "1", "b_24h": _AGO, "b_7d": _AGO, "b_silent_before": _AGO},
            "ix_screening_invites_chat_pk_inviter_id_invited_at",
        ),
        HotQuery(
            "latest invite",
            sq._LATEST_INVITE,
            pk | {"b_invitee": "1", "b_outcomes": ["held"]},
            "ix_screening_invites_chat_pk_invitee_id",
        ),
        HotQuery("held count", sq._HELD_COUNT, pk, "ix_screening_held_chat_pk_status"),
        HotQuery(
            "held status",
            sq._HELD_STATUS,
            pk | {"b_user": "1"},
            "uq_screening_held_chat_pk_user_id",
        ),
        HotQuery(
            "close pending hold",
            sq._CLOSE_PENDING,
            pk | {"b_user": "1", "b_status": "left", "b_at": _NOW},
            "uq_screening_held_chat_pk_user_id",
        ),
        HotQuery(
            "strike counts",
            sq._STRIKE_COUNTS,
            pk | t | {"b_user": "1", "b_keep": _AGO, "b_24h": _AGO, "b_7d": _AGO},
            "ix_promo_strikes_chat_pk_user_id_at",
        ),
        HotQuery(
            "prune strikes",
            sq._PRUNE_STRIKES,
            pk | {"b_user": "1", "b_before": _AGO},
            "ix_promo_strikes_chat_pk_user_id_at",
        ),
        HotQuery("value counts", sq._VALUE_COUNTS, pk, "pk_promo_value"),
        HotQuery("question", sq._QUESTION, pk | {"b_msg": "7"}, "pk_promo_questions"),
        HotQuery("answered", sq._ANSWERED, pk | {"b_msg": "7", "b_at": _NOW}, "pk_promo_questions"),
        HotQuery(
            "prune questions",
            sq._PRUNE_QUESTIONS,
            pk | {"b_before": _AGO},
            "ix_promo_questions_chat_pk_asked_at",
            also=("pk_promo_questions",),  # the chat's questions either way
        ),
        HotQuery("chat activity", lc._ACTIVITY, pk, "pk_chat_activity"),
        HotQuery(
            "theme expansions (30 days)",
            lc._DAY_SUMS["theme_expansions"],
            pk | {"b_first": 1, "b_last": 30},
            "pk_activity_days",
        ),
        HotQuery(
            "flood window",
            lc._RECENT,
            pk | t | {"b_user": "1", "b_key": "k", "b_rate_since": _AGO, "b_repeat_since": _AGO},
            "ix_recent_messages_chat_pk_at",
        ),
        HotQuery(
            "prune flood window",
            lc._PRUNE_RECENT,
            pk | {"b_before": _AGO},
            "ix_recent_messages_chat_pk_at",
        ),
        HotQuery("tick: prune days", lc._PRUNE_DAYS[0], pk | {"b_oldest": 1}, "pk_activity_days"),
        HotQuery(
            "tick: prune poster days", lc._PRUNE_DAYS[1], pk | {"b_oldest": 1}, "pk_poster_days"
        ),
        HotQuery(
            "tick: prune acknowledged outbox",
            lc._PRUNE_ACKED,
            pk | {"b_before": _AGO},
            "ix_outbox_chat_pk_acked_at",
        ),
    ]
    for policy in retention_policies():
        q.append(
            HotQuery(
                f"sweep: {policy.table.name}",
                policy.pick,
                {"b_before": _AGO, "b_limit": 1000},
                policy.index,
            )
        )
    return tuple(q)


def plan(conn: Connection, query: HotQuery) -> str:
    """The database's plan for ``query``: it runs once in a transaction that is rolled
    back, to get the SQL and parameters it sends, which are then explained."""
    sent: list[tuple[str, Any]] = []

    def capture(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent.append((statement, parameters))

    with conn.begin() as tx:
        event.listen(conn, "before_cursor_execute", capture)
        try:
            conn.execute(query.statement, dict(query.params))
        finally:
            event.remove(conn, "before_cursor_execute", capture)
        statement, parameters = sent[-1]
        if conn.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            text = "\n".join(str(r[-1]) for r in rows)
        else:
            rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            text = "\n".join(str(r[0]) for r in rows)
        tx.rollback()
    return text


def main(argv: list[str]) -> int:
    from firekeeper.store import create_store

    if len(argv) != 1:
        print("usage: python -m firekeeper.hot_queries STORE_URL", file=sys.stderr)
        return 2
    store = create_store(argv[0])
    try:
        store.migrate()
        with store.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET enable_seqscan = off")  # empty tables: show the index
                conn.commit()
            for query in hot_queries():
                if conn.dialect.name not in query.dialects:
                    continue
                print(f"-- {query.name} (wants {query.index})")
                print(plan(conn, query))
                print()
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
