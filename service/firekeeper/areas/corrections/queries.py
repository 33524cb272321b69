"""Admins' corrections and the per-rule action tally, per tenant, on the store's MetaData.

Migration ``0010_corrections_tables`` builds these; ``tests/store`` checks the two agree.

    corrections          one row per correction: which decision, what kind, who
                         reported it, the rules whose actions it says were wrong, and
                         the labelled sample it makes (spam / ham / none, for a join).
                         Unique per (tenant, platform, kind, dedupe key): the same
                         correction twice is stored once.
    rule_action_counts   per chat, UTC day, ruleset and rule: decisions in which the
                         rule returned an action. Written in the event's own
                         transaction (the chat is locked), so the count is exact and
                         replicas never contend on a shared row.

Reads for reports and consoles: :func:`false_positives_by_rule` (per rule: actions,
false positives, missed spam, over a time range) and :func:`samples` /
:func:`export_samples` (the tenant's labelled texts).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.corrections import (
    FALSE_POSITIVE_KINDS,
    Correction,
    CorrectionKind,
    RuleCorrections,
)
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event, Platform
from firekeeper.store.codec import decision_from_json, event_from_json
from firekeeper.store.db import unavailable_on_db_errors
from firekeeper.store.models import BigId, Json, UtcDateTime, chats, decisions, metadata
from firekeeper.store.repository import _insert

if TYPE_CHECKING:
    from firekeeper.store.repository import Store

corrections = sa.Table(
    "corrections",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.Text(), nullable=False),
    sa.Column("platform", sa.String(32), nullable=False),
    sa.Column("chat_id", sa.Text(), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    # "event:<event id>" or "text:<digest of the normalised text>"
    sa.Column("dedupe_key", sa.Text(), nullable=False),
    sa.Column("event_id", sa.Text(), nullable=False),
    sa.Column("ruleset", sa.Text(), nullable=False),
    sa.Column("rule_ids", Json, nullable=False),  # list of rule ids
    sa.Column("label", sa.String(8), nullable=False),  # spam | ham | "" (a join)
    sa.Column("text", sa.Text(), nullable=False),
    sa.Column("lang", sa.String(35), nullable=False),
    sa.Column("reporter_id", sa.Text(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("reported_at", UtcDateTime(), nullable=False),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    # when the correction counts in reports: the corrected decision's time, else the report's
    sa.Column("counted_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("tenant", "platform", "kind", "dedupe_key"),
    sa.Index(None, "tenant", "id"),
    sa.Index(None, "tenant", "counted_at"),
)

rule_action_counts = sa.Table(
    "rule_action_counts",
    metadata,
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("day", UtcDateTime(), primary_key=True),  # midnight UTC
    sa.Column("ruleset", sa.Text(), primary_key=True),
    sa.Column("rule_id", sa.Text(), primary_key=True),
    sa.Column("actions", sa.BigInteger(), nullable=False),
    sa.Index(None, "day"),
)


@contextmanager
def _reading(store: Store, doing: str) -> Iterator[Connection]:
    with (
        unavailable_on_db_errors(store.engine, doing),
        store.engine.connect() as conn,
        conn.begin(),
    ):
        yield conn


def day_of(at: datetime) -> datetime:
    """Midnight UTC of ``at``'s day: the tally's bucket."""
    return datetime.combine(at.astimezone(UTC).date(), time(0), tzinfo=UTC)


# -- writes (inside a chat's transaction) -------------------------------------------------------


def count_actions(
    conn: Connection, chat_pk: int, at: datetime, ruleset: str, rule_ids: Iterable[str]
) -> None:
    """One more decision with an action of each rule in ``rule_ids`` (distinct)."""
    rows = [
        {"chat_pk": chat_pk, "day": day_of(at), "ruleset": ruleset, "rule_id": r, "actions": 1}
        for r in sorted(set(rule_ids))
    ]
    if rows:
        conn.execute(_counts_upsert(conn.dialect.name), rows)


@functools.cache
def _counts_upsert(dialect: str) -> sa.Executable:
    stmt = (
        postgresql.insert(rule_action_counts)
        if dialect == "postgresql"
        else sqlite.insert(rule_action_counts)
    )
    return stmt.on_conflict_do_update(
        index_elements=["chat_pk", "day", "ruleset", "rule_id"],
        set_={"actions": rule_action_counts.c.actions + stmt.excluded.actions},
    )


@dataclass
class ActionCounts:
    """The tallies one transaction adds (``ChatTx.pending(ActionCounts)``), summed in
    memory and written by ``flush`` in one multi-row upsert (one row per tally: nothing
    in an event's transaction reads them)."""

    conn: Connection
    pks: Sequence[int]
    _added: dict[tuple[int, datetime, str, str], int] = field(default_factory=dict)

    def add(self, chat_pk: int, at: datetime, ruleset: str, rule_ids: Iterable[str]) -> None:
        """As :func:`count_actions`, held until ``flush``."""
        day = day_of(at)
        for r in set(rule_ids):
            key = (chat_pk, day, ruleset, r)
            self._added[key] = self._added.get(key, 0) + 1

    def flush(self, conn: Connection) -> None:
        if not self._added:
            return
        rows = [
            {"chat_pk": pk, "day": day, "ruleset": ruleset, "rule_id": r, "actions": n}
            for (pk, day, ruleset, r), n in sorted(self._added.items())
        ]
        conn.execute(_counts_upsert(conn.dialect.name), rows)
        self._added.clear()


def decided(
    conn: Connection, tenant: str, platform: Platform, event_id: str
) -> tuple[int, Event, Decision, datetime] | None:
    """(chat pk, event, decision, decided at) stored for an event id, or None."""
    d = decisions
    row = conn.execute(
        sa.select(d.c.chat_pk, d.c.event, d.c.decision, d.c.decided_at).where(
            d.c.tenant == tenant, d.c.platform == platform.value, d.c.event_id == event_id
        )
    ).one_or_none()
    if row is None:
        return None
    return (
        int(row.chat_pk),
        event_from_json(row.event),
        decision_from_json(row.decision),
        row.decided_at,
    )


def record(conn: Connection, values: dict[str, Any]) -> tuple[Correction, bool]:
    """Store a correction unless the same one is stored: (the stored one, whether it is new)."""
    stmt = _insert(conn, corrections).values(**values)
    new_id = conn.execute(
        stmt.on_conflict_do_nothing(
            index_elements=["tenant", "platform", "kind", "dedupe_key"]
        ).returning(corrections.c.id)
    ).scalar_one_or_none()
    c = corrections.c
    row = (
        conn.execute(
            sa.select(corrections).where(
                c.tenant == values["tenant"],
                c.platform == values["platform"],
                c.kind == values["kind"],
                c.dedupe_key == values["dedupe_key"],
            )
        )
        .mappings()
        .one()
    )
    return _correction(row), new_id is not None


def seed_samples(
    conn: Connection, chat: ChatKey, labelled: Iterable[tuple[str, str]], at: datetime
) -> list[int]:
    """Store ``(label, text)`` samples as admins' text corrections of ``chat`` (ruleset
    tests: ``reported:``); their ids, for :func:`remove`."""
    ids: list[int] = []
    for label, text in labelled:
        kind = CorrectionKind.MISSED_SPAM if label == "spam" else CorrectionKind.NOT_SPAM
        values: dict[str, Any] = {
            "tenant": chat.tenant,
            "platform": chat.platform.value,
            "chat_id": chat.chat_id,
            "kind": kind.value,
            "dedupe_key": f"seeded:{label}:{len(ids)}:{hash(text)}",
            "event_id": "",
            "ruleset": "",
            "rule_ids": [],
            "label": label,
            "text": text,
            "lang": "",
            "reporter_id": "",
            "note": "seeded",
            "reported_at": at,
            "decided_at": None,
            "counted_at": at,
        }
        ids.append(record(conn, values)[0].id)
    return ids


def remove(conn: Connection, ids: Iterable[int]) -> None:
    conn.execute(sa.delete(corrections).where(corrections.c.id.in_(list(ids))))


def _correction(row: RowMapping) -> Correction:
    return Correction(
        id=int(row["id"]),
        chat=ChatKey(Platform(row["platform"]), row["tenant"], row["chat_id"]),
        kind=CorrectionKind(row["kind"]),
        reporter_id=row["reporter_id"],
        event_id=row["event_id"],
        ruleset=row["ruleset"],
        rule_ids=tuple(row["rule_ids"]),
        label=row["label"],
        reported_at=row["reported_at"],
        decided_at=row["decided_at"],
        note=row["note"],
    )


# -- reads ---------------------------------------------------------------------------------------


def revision(conn: Connection, tenant: str) -> int:
    """The newest correction id of a tenant (0: none): the sample cache's freshness check."""
    found = conn.execute(
        sa.select(sa.func.max(corrections.c.id)).where(corrections.c.tenant == tenant)
    ).scalar_one_or_none()
    return int(found or 0)


def samples(conn: Connection, tenant: str, limit: int) -> list[tuple[str, str]]:
    """The tenant's labelled texts, ``(label, text)``, newest first, at most ``limit``."""
    c = corrections.c
    rows = conn.execute(
        sa.select(c.label, c.text)
        .where(c.tenant == tenant, c.label != "", c.text != "")
        .order_by(c.id.desc())
        .limit(limit)
    )
    return [(r.label, r.text) for r in rows]


def export_samples(store: Store, tenant: str) -> Iterator[dict[str, str]]:
    """The tenant's labelled samples as ``firekeeper train`` reads them, oldest first:
    ``{"text", "label", "lang", "source"}`` (``lang`` left out when unknown). A text
    reported both ways is exported once, as spam (an admin's spam report outranks)."""
    c = corrections.c
    with _reading(store, f"export the corrections of tenant {tenant!r}") as conn:
        rows = conn.execute(
            sa.select(c.label, c.text, c.lang, c.kind, c.dedupe_key, c.platform)
            .where(c.tenant == tenant, c.label != "", c.text != "")
            .order_by(c.id)
        ).all()
    spam_texts = {r.text for r in rows if r.label == "spam"}
    seen: set[tuple[str, str]] = set()
    for r in rows:
        if (r.label == "ham" and r.text in spam_texts) or (r.label, r.text) in seen:
            continue
        seen.add((r.label, r.text))
        line = {"text": r.text, "label": r.label}
        if r.lang:
            line["lang"] = r.lang
        line["source"] = f"correction:{r.kind}:{r.platform}"
        yield line


def false_positives_by_rule(
    store: Store,
    *,
    tenant: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[RuleCorrections]:
    """Per ruleset and rule: decisions with its actions, and how many of those admins
    corrected as false positives, over ``[since, until)`` (every tenant when ``tenant``
    is None). Actions are counted per UTC day: ``since`` counts from the start of its
    day, ``until`` to the end of its day unless it is a midnight. A correction counts at
    its decision's time (a missed spam given as text, at its report's). Sorted by false
    positives, then missed spam, then actions, descending. For reports and consoles."""
    with _reading(store, "read false positives by rule") as conn:
        return rule_corrections(conn, tenant=tenant, since=since, until=until)


def rule_corrections(
    conn: Connection,
    *,
    tenant: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[RuleCorrections]:
    """:func:`false_positives_by_rule` on an open connection."""
    t = rule_action_counts.c
    acted = sa.select(t.ruleset, t.rule_id, sa.func.sum(t.actions).label("n")).group_by(
        t.ruleset, t.rule_id
    )
    if tenant is not None:
        acted = acted.join_from(rule_action_counts, chats, chats.c.id == t.chat_pk).where(
            chats.c.tenant == tenant
        )
    if since is not None:
        acted = acted.where(t.day >= day_of(since))
    if until is not None:
        acted = acted.where(t.day < day_of(until + timedelta(days=1) - timedelta(microseconds=1)))
    actions = {(r.ruleset, r.rule_id): int(r.n) for r in conn.execute(acted)}
    c = corrections.c
    found = sa.select(c.kind, c.ruleset, c.rule_ids)
    if tenant is not None:
        found = found.where(c.tenant == tenant)
    if since is not None:
        found = found.where(c.counted_at >= since)
    if until is not None:
        found = found.where(c.counted_at < until)
    wrong: dict[tuple[str, str], int] = {}
    missed: dict[tuple[str, str], int] = {}
    for row in conn.execute(found):
        if CorrectionKind(row.kind) in FALSE_POSITIVE_KINDS:
            for rule in row.rule_ids:
                wrong[(row.ruleset, rule)] = wrong.get((row.ruleset, rule), 0) + 1
        else:
            missed[(row.ruleset, "")] = missed.get((row.ruleset, ""), 0) + 1
    keys = set(actions) | set(wrong) | set(missed)
    out = [
        RuleCorrections(
            ruleset=k[0],
            rule_id=k[1],
            actions=actions.get(k, 0),
            false_positives=wrong.get(k, 0),
            missed=missed.get(k, 0),
        )
        for k in keys
    ]
    out.sort(key=lambda r: (-r.false_positives, -r.missed, -r.actions, r.ruleset, r.rule_id))
    return out
