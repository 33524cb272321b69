"""Rows stored beforehand for the benchmark's large-store cases (``firekeeper bench
--members N --decisions N``): members spread over the workload's chats, and decisions
in the decision log of the same tenant, so the hot path's indexes are as deep as in a
store that has run for a long time. Sent in chunks with one compiled INSERT each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from firekeeper.domain.chats import MemberRecord
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Actor, Envelope, Event, MessagePosted
from firekeeper.store.codec import decision_to_json, event_to_json
from firekeeper.store.models import chats, decisions, member_values, members

if TYPE_CHECKING:
    from firekeeper.store.repository import Store
    from firekeeper.workload import Workload

CHUNK = 5000


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def seed(store: Store, tenant: str, work: Workload, n_members: int, n_decisions: int) -> None:
    """Store ``n_members`` members and ``n_decisions`` decisions for ``tenant``'s chats
    (registered before), none of them an id the workload uses."""
    if not (n_members or n_decisions):
        return
    keys = [(r.key.platform.value, r.key.chat_id) for r in work.chats]
    with store.engine.begin() as conn:
        found = conn.execute(
            sa.select(chats.c.id, chats.c.platform, chats.c.chat_id).where(chats.c.tenant == tenant)
        ).all()
    pk = {(r.platform, r.chat_id): int(r.id) for r in found}
    pks = [pk[k] for k in keys]
    if not work.events:
        return
    start = work.events[0].envelope.occurred_at - timedelta(days=1)

    def member_rows() -> Iterator[dict[str, Any]]:
        for n in range(n_members):
            m = MemberRecord(user_id=f"seed-{n}", is_member=True, message_count=n % 7)
            yield member_values(m) | {"chat_pk": pks[n % len(pks)]}

    event = Event(
        Envelope("seed", work.chats[0].key.platform, tenant, keys[0][1], start, Actor(id="seed")),
        MessagePosted(message_id="seed", text="seeded"),
    )
    decision_json = decision_to_json(Decision("seed", (), (), "base", "seed", start))
    event_json = event_to_json(event)

    def decision_rows() -> Iterator[dict[str, Any]]:
        for n in range(n_decisions):
            platform, _ = keys[n % len(keys)]
            yield {
                "chat_pk": pks[n % len(pks)],
                "tenant": tenant,
                "platform": platform,
                "event_id": f"seed-{n}",
                "event_kind": "message.posted",
                "actor_id": "seed",
                "occurred_at": start,
                "decided_at": start,
                "ruleset": "base",
                "ruleset_version": "seed",
                "decision": decision_json,
                "event": event_json,
            }

    for table, rows in ((members, member_rows()), (decisions, decision_rows())):
        insert = sa.insert(table)
        for chunk in _chunks(rows):
            with store.engine.begin() as conn:
                conn.execute(insert, chunk)
