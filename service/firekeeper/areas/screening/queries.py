"""Reads and writes of the screening tables inside one chat's locked transaction.

Every function takes the transaction's connection and the chat's ``chat_pk``
(``ChatTx.connection`` / ``ChatTx.chat_pk``); none commits. Windows are
measured back from the event's time, so replaying recorded events gives the
same counts.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from firekeeper.areas.screening.pure.features import (
    LEFT_EARLY_DAYS,
    SILENT_AFTER_DAYS,
    InviterRecord,
)
from firekeeper.areas.screening.tables import (
    ADMITTED_OUTCOMES,
    PENDING_OUTCOMES,
    REMOVED_OUTCOMES,
    Outcome,
    blocklist,
    held,
    invites,
    joins,
    questions,
    settings,
    strikes,
    value,
)
from firekeeper.domain.events import Platform
from firekeeper.domain.screening import BlockKind, HeldStatus
from firekeeper.rules import domains as dl
from firekeeper.store.keysets import any_of
from firekeeper.store.models import members

if TYPE_CHECKING:
    from firekeeper.store.repository import ChatTx

JOIN_LOG_KEEP = timedelta(hours=24)
STRIKES_KEEP = timedelta(days=30)
QUESTIONS_KEEP = timedelta(days=30)
REQUEST_LINK = timedelta(days=14)  # a join this soon after a request continues its invitation


def _insert(conn: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _dialect_insert(dialect: str, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    return postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)


def _count(conn: Connection, query: sa.Select[Any], params: dict[str, Any] | None = None) -> int:
    found: Any = conn.execute(query, params).scalar_one()
    return int(found or 0)


def _sum(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


# Statements are built once with bound parameters (values come as execution
# parameters), so SQLAlchemy compiles each once: most run on every event.

_SETTINGS = sa.select(settings.c.allowed_domains, settings.c.entry_patterns).where(
    settings.c.chat_pk == sa.bindparam("b_pk")
)
_BLOCKED_USERS = sa.select(blocklist.c.value).where(
    blocklist.c.tenant == sa.bindparam("b_tenant"),
    blocklist.c.kind == BlockKind.USER.value,
    blocklist.c.platform == sa.bindparam("b_platform"),
    any_of(blocklist.c.value, "b_values"),
)
_BLOCKED_DOMAINS = sa.select(blocklist.c.value).where(
    blocklist.c.tenant == sa.bindparam("b_tenant"),
    blocklist.c.kind == BlockKind.DOMAIN.value,
    blocklist.c.platform == "",  # domains are stored without one: the whole key is searched
    any_of(blocklist.c.value, "b_values"),
)


def _joined_within(name: str) -> sa.ColumnElement[Any]:
    return sa.func.count(sa.distinct(sa.case((joins.c.at > sa.bindparam(name), joins.c.user_id))))


_JOIN_COUNTS = sa.select(
    _joined_within("b_10m"), _joined_within("b_1h"), _joined_within("b_24h")
).where(
    joins.c.chat_pk == sa.bindparam("b_pk"),
    joins.c.at > sa.bindparam("b_keep"),
    joins.c.at <= sa.bindparam("b_now"),
)
_INSERT_JOIN = sa.insert(joins)
_PRUNE_JOINS = sa.delete(joins).where(
    joins.c.chat_pk == sa.bindparam("b_pk"), joins.c.at < sa.bindparam("b_before")
)

_i = invites
_admitted = _i.c.outcome.in_(ADMITTED_OUTCOMES)
_aged = sa.and_(_admitted, _i.c.joined_at <= sa.bindparam("b_silent_before"))
_INVITER_RECORD = (
    sa.select(
        _sum(
            sa.and_(
                _i.c.invited_at > sa.bindparam("b_24h"), _i.c.invited_at <= sa.bindparam("b_now")
            )
        ),
        _sum(
            sa.and_(
                _i.c.invited_at > sa.bindparam("b_7d"), _i.c.invited_at <= sa.bindparam("b_now")
            )
        ),
        sa.func.count(),
        _sum(_i.c.outcome.not_in(PENDING_OUTCOMES)),
        _sum(_i.c.outcome.in_(REMOVED_OUTCOMES)),
        _sum(_admitted),
        _sum(_i.c.outcome == Outcome.LEFT_EARLY.value),
        _sum(_aged),
        _sum(sa.and_(_aged, sa.func.coalesce(members.c.message_count, 0) == 0)),
    )
    .select_from(
        _i.outerjoin(
            members,
            sa.and_(members.c.chat_pk == _i.c.chat_pk, members.c.user_id == _i.c.invitee_id),
        )
    )
    .where(_i.c.chat_pk == sa.bindparam("b_pk"), _i.c.inviter_id == sa.bindparam("b_inviter"))
)
_LATEST_INVITE = (
    sa.select(_i.c.id, _i.c.inviter_id, _i.c.invited_at, _i.c.joined_at)
    .where(
        _i.c.chat_pk == sa.bindparam("b_pk"),
        _i.c.invitee_id == sa.bindparam("b_invitee"),
        any_of(_i.c.outcome, "b_outcomes"),
    )
    .order_by(_i.c.invited_at.desc(), _i.c.id.desc())
    .limit(1)
)
_SETTLE_INVITE = (
    sa.update(_i)
    .where(_i.c.id == sa.bindparam("b_id"))
    .values(
        outcome=sa.bindparam("b_outcome"),
        outcome_at=sa.bindparam("b_at"),
        joined_at=sa.bindparam("b_joined_at"),
    )
)
_END_INVITE = (
    sa.update(_i)
    .where(_i.c.id == sa.bindparam("b_id"))
    .values(outcome=sa.bindparam("b_outcome"), outcome_at=sa.bindparam("b_at"))
)
_INSERT_INVITE = sa.insert(_i)

_HELD_COUNT = (
    sa.select(sa.func.count())
    .select_from(held)
    .where(held.c.chat_pk == sa.bindparam("b_pk"), held.c.status == HeldStatus.PENDING.value)
)
_HELD_STATUS = sa.select(held.c.status).where(
    held.c.chat_pk == sa.bindparam("b_pk"), held.c.user_id == sa.bindparam("b_user")
)
_CLOSE_PENDING = (
    sa.update(held)
    .where(
        held.c.chat_pk == sa.bindparam("b_pk"),
        held.c.user_id == sa.bindparam("b_user"),
        held.c.status == HeldStatus.PENDING.value,
    )
    .values(status=sa.bindparam("b_status"), resolved_at=sa.bindparam("b_at"))
)

_s = strikes
_STRIKE_COUNTS = sa.select(
    _sum(_s.c.at > sa.bindparam("b_24h")),
    _sum(_s.c.at > sa.bindparam("b_7d")),
    sa.func.count(),
).where(
    _s.c.chat_pk == sa.bindparam("b_pk"),
    _s.c.user_id == sa.bindparam("b_user"),
    _s.c.at > sa.bindparam("b_keep"),
    _s.c.at <= sa.bindparam("b_now"),
)
_INSERT_STRIKE = sa.insert(_s)
_PRUNE_STRIKES = sa.delete(_s).where(
    _s.c.chat_pk == sa.bindparam("b_pk"),
    _s.c.user_id == sa.bindparam("b_user"),
    _s.c.at < sa.bindparam("b_before"),
)

_VALUE_COUNTS = sa.select(value.c.substantive_posts, value.c.answered_questions).where(
    value.c.chat_pk == sa.bindparam("b_pk")
)
_QUESTION = sa.select(questions.c.author_id, questions.c.answered_at).where(
    questions.c.chat_pk == sa.bindparam("b_pk"), questions.c.message_id == sa.bindparam("b_msg")
)
_PRUNE_QUESTIONS = sa.delete(questions).where(
    questions.c.chat_pk == sa.bindparam("b_pk"), questions.c.asked_at < sa.bindparam("b_before")
)
_ANSWERED = (
    sa.update(questions)
    .where(
        questions.c.chat_pk == sa.bindparam("b_pk"), questions.c.message_id == sa.bindparam("b_msg")
    )
    .values(answered_at=sa.bindparam("b_at"))
)


@functools.cache
def _value_upsert(dialect: str) -> sa.Executable:
    stmt = _dialect_insert(dialect, value)
    return stmt.on_conflict_do_update(
        index_elements=["chat_pk"],
        set_={
            "substantive_posts": value.c.substantive_posts + stmt.excluded.substantive_posts,
            "answered_questions": value.c.answered_questions + stmt.excluded.answered_questions,
        },
    )


@functools.cache
def _question_insert(dialect: str) -> sa.Executable:
    stmt = _dialect_insert(dialect, questions)
    return stmt.on_conflict_do_nothing(index_elements=["chat_pk", "message_id"])


# -- settings and blocklist -------------------------------------------------------------------


def chat_settings(conn: Connection, chat_pk: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(allowed domains, entry patterns) of a chat; empty when never set."""
    row = conn.execute(_SETTINGS, {"b_pk": chat_pk}).one_or_none()
    if row is None:
        return (), ()
    return tuple(str(d) for d in row.allowed_domains), tuple(str(p) for p in row.entry_patterns)


def blocked_users(
    conn: Connection, tenant: str, platform: Platform, user_ids: Iterable[str]
) -> frozenset[str]:
    wanted = sorted({u for u in user_ids if u})
    if not wanted:
        return frozenset()
    rows = conn.execute(
        _BLOCKED_USERS, {"b_tenant": tenant, "b_platform": platform.value, "b_values": wanted}
    )
    return frozenset(str(v) for v in rows.scalars())


def blocked_domains(conn: Connection, tenant: str, domains: Iterable[str]) -> frozenset[str]:
    """Blocked entries among these domains and their parents (``x.evil.com`` -> ``evil.com``)."""
    wanted = sorted({p for d in domains for p in dl.parents(d)})
    if not wanted:
        return frozenset()
    rows = conn.execute(_BLOCKED_DOMAINS, {"b_tenant": tenant, "b_values": wanted})
    return frozenset(str(v) for v in rows.scalars())


# -- joins, invites, the review queue ---------------------------------------------------------


def join_counts(conn: Connection, chat_pk: int, now: datetime) -> tuple[int, int, int]:
    """Distinct people who joined or asked to join in the 10 min, 1 h and 24 h before ``now``."""
    row = conn.execute(
        _JOIN_COUNTS,
        {
            "b_pk": chat_pk,
            "b_now": now,
            "b_keep": now - JOIN_LOG_KEEP,
            "b_10m": now - timedelta(minutes=10),
            "b_1h": now - timedelta(hours=1),
            "b_24h": now - timedelta(hours=24),
        },
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def log_join(conn: Connection, chat_pk: int, user_id: str, at: datetime) -> None:
    conn.execute(_INSERT_JOIN, {"chat_pk": chat_pk, "user_id": user_id, "at": at})
    conn.execute(_PRUNE_JOINS, {"b_pk": chat_pk, "b_before": at - JOIN_LOG_KEEP})


def inviter_record(conn: Connection, chat_pk: int, inviter_id: str, now: datetime) -> InviterRecord:
    """The inviter's record in one aggregate over their invitations (and members, for silence)."""
    row = conn.execute(
        _INVITER_RECORD,
        {
            "b_pk": chat_pk,
            "b_inviter": inviter_id,
            "b_now": now,
            "b_24h": now - timedelta(hours=24),
            "b_7d": now - timedelta(days=7),
            "b_silent_before": now - timedelta(days=SILENT_AFTER_DAYS),
        },
    ).one()
    n = [int(v or 0) for v in row]
    return InviterRecord(
        invites_24h=n[0],
        invites_7d=n[1],
        invitee_count=n[2],
        settled=n[3],
        removed=n[4],
        admitted=n[5],
        left_early=n[6],
        aged=n[7],
        silent=n[8],
    )


def _latest_invite(
    conn: Connection, chat_pk: int, invitee_id: str, outcomes: Sequence[str]
) -> RowMapping | None:
    """(id, inviter_id, invited_at, joined_at) of the invitee's latest invitation with these
    outcomes."""
    return (
        conn.execute(
            _LATEST_INVITE, {"b_pk": chat_pk, "b_invitee": invitee_id, "b_outcomes": list(outcomes)}
        )
        .mappings()
        .one_or_none()
    )


def record_invite(
    conn: Connection,
    chat_pk: int,
    inviter_id: str,
    invitee_id: str,
    at: datetime,
    outcome: Outcome,
) -> None:
    """One invitation and its outcome so far. A join that follows a pending request
    (or a hold) by the same inviter continues that invitation instead of adding one."""
    joined_at = at if outcome == Outcome.JOINED else None
    open_row = _latest_invite(conn, chat_pk, invitee_id, PENDING_OUTCOMES)
    if (
        open_row is not None
        and open_row["inviter_id"] == inviter_id
        and open_row["invited_at"] >= at - REQUEST_LINK
    ):
        conn.execute(
            _SETTLE_INVITE,
            {
                "b_id": open_row["id"],
                "b_outcome": outcome.value,
                "b_at": at,
                "b_joined_at": joined_at,
            },
        )
        return
    conn.execute(
        _INSERT_INVITE,
        {
            "chat_pk": chat_pk,
            "inviter_id": inviter_id,
            "invitee_id": invitee_id,
            "invited_at": at,
            "outcome": outcome.value,
            "joined_at": joined_at,
            "outcome_at": at,
        },
    )


def invitee_left(
    conn: Connection, chat_pk: int, invitee_id: str, at: datetime, *, by_admin: bool
) -> None:
    row = _latest_invite(conn, chat_pk, invitee_id, (Outcome.JOINED.value,))
    if row is None:
        return
    joined_at = row["joined_at"]
    if by_admin:
        outcome = Outcome.REMOVED
    elif joined_at is not None and at - joined_at < timedelta(days=LEFT_EARLY_DAYS):
        outcome = Outcome.LEFT_EARLY
    else:
        outcome = Outcome.LEFT
    conn.execute(_END_INVITE, {"b_id": row["id"], "b_outcome": outcome.value, "b_at": at})


def resolve_invite(
    conn: Connection, chat_pk: int, invitee_id: str, at: datetime, outcome: Outcome
) -> None:
    """An admin's review decision lands on the held invitation, if the join had an inviter."""
    row = _latest_invite(conn, chat_pk, invitee_id, (Outcome.HELD.value,))
    if row is not None:
        joined_at = at if outcome == Outcome.JOINED else None
        conn.execute(
            _SETTLE_INVITE,
            {"b_id": row["id"], "b_outcome": outcome.value, "b_at": at, "b_joined_at": joined_at},
        )


def held_count(conn: Connection, chat_pk: int) -> int:
    return _count(conn, _HELD_COUNT, {"b_pk": chat_pk})


def review_approved(conn: Connection, chat_pk: int, user_id: str) -> bool:
    status = conn.execute(_HELD_STATUS, {"b_pk": chat_pk, "b_user": user_id}).scalar_one_or_none()
    return status == HeldStatus.APPROVED.value


def hold(conn: Connection, chat_pk: int, values: dict[str, object]) -> None:
    """Put a member in the queue (or back in it): one entry per member of a chat."""
    row = _held_row(chat_pk, values)
    update = {k: v for k, v in row.items() if k not in ("chat_pk", "user_id")}
    conn.execute(
        _insert(conn, held)
        .values(row)
        .on_conflict_do_update(index_elements=["chat_pk", "user_id"], set_=update)
    )


def close_pending(
    conn: Connection, chat_pk: int, user_id: str, status: HeldStatus, at: datetime
) -> None:
    """A pending entry settled outside the API: the member left, or got in on the platform."""
    conn.execute(
        _CLOSE_PENDING, {"b_pk": chat_pk, "b_user": user_id, "b_status": status.value, "b_at": at}
    )


# -- strikes and value --------------------------------------------------------------------------


def strike_counts(
    conn: Connection, chat_pk: int, user_id: str, now: datetime
) -> tuple[int, int, int]:
    row = conn.execute(
        _STRIKE_COUNTS,
        {
            "b_pk": chat_pk,
            "b_user": user_id,
            "b_now": now,
            "b_keep": now - STRIKES_KEEP,
            "b_24h": now - timedelta(hours=24),
            "b_7d": now - timedelta(days=7),
        },
    ).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


def add_strike(conn: Connection, chat_pk: int, user_id: str, at: datetime, rule_id: str) -> None:
    conn.execute(
        _INSERT_STRIKE, {"chat_pk": chat_pk, "user_id": user_id, "at": at, "rule_id": rule_id}
    )
    conn.execute(
        _PRUNE_STRIKES, {"b_pk": chat_pk, "b_user": user_id, "b_before": at - STRIKES_KEEP}
    )


def value_counts(conn: Connection, chat_pk: int) -> tuple[int, int]:
    row = conn.execute(_VALUE_COUNTS, {"b_pk": chat_pk}).one_or_none()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def add_value(conn: Connection, chat_pk: int, substantive: int, answered: int) -> None:
    if not substantive and not answered:
        return
    conn.execute(
        _value_upsert(conn.dialect.name),
        {"chat_pk": chat_pk, "substantive_posts": substantive, "answered_questions": answered},
    )


def open_question(conn: Connection, chat_pk: int, message_id: str, replier_id: str) -> bool:
    """The message replied to is someone else's question that nobody has answered yet."""
    if not message_id:
        return False
    row = conn.execute(_QUESTION, {"b_pk": chat_pk, "b_msg": message_id}).one_or_none()
    return row is not None and row.answered_at is None and row.author_id != replier_id


def ask(conn: Connection, chat_pk: int, message_id: str, author_id: str, at: datetime) -> None:
    conn.execute(
        _question_insert(conn.dialect.name),
        {"chat_pk": chat_pk, "message_id": message_id, "author_id": author_id, "asked_at": at},
    )
    conn.execute(_PRUNE_QUESTIONS, {"b_pk": chat_pk, "b_before": at - QUESTIONS_KEEP})


def answered(conn: Connection, chat_pk: int, message_id: str, at: datetime) -> None:
    conn.execute(_ANSWERED, {"b_pk": chat_pk, "b_msg": message_id, "b_at": at})


def pending_total(conn: Connection) -> int:
    """Joins waiting for review across the whole store (the queue-depth gauge)."""
    return _count(
        conn,
        sa.select(sa.func.count())
        .select_from(held)
        .where(held.c.status == HeldStatus.PENDING.value),
    )


# -- one transaction's reads and writes, for all its chats at once ------------------------------

BLOCKLIST_HELD = 5000  # a tenant's blocklist up to this long is read whole, once per batch
_BLOCKLIST_OF = (
    sa.select(blocklist.c.kind, blocklist.c.platform, blocklist.c.value)
    .where(blocklist.c.tenant == sa.bindparam("b_tenant"))
    .limit(sa.bindparam("b_limit"))
)
_STRIKES_OF = sa.select(_s.c.chat_pk, _s.c.user_id, _s.c.at).where(
    any_of(_s.c.chat_pk, "b_pks"), _s.c.at > sa.bindparam("b_keep")
)
# strikes are read from this long before the first message's window, so messages a
# little older than the first one still count from memory
STRIKES_MARGIN = timedelta(hours=1)
JOINS_MARGIN = timedelta(hours=1)  # the same for the join log
_SETTINGS_OF = sa.select(
    settings.c.chat_pk, settings.c.allowed_domains, settings.c.entry_patterns
).where(any_of(settings.c.chat_pk, "b_pks"))
_VALUE_COUNTS_OF = sa.select(
    value.c.chat_pk, value.c.substantive_posts, value.c.answered_questions
).where(any_of(value.c.chat_pk, "b_pks"))
# every stored question of the chats, answered or not: an answered one asked again stays
# answered (its insert does nothing), so the batch must know it too
_QUESTIONS_OF = sa.select(
    questions.c.chat_pk,
    questions.c.message_id,
    questions.c.author_id,
    questions.c.asked_at,
    questions.c.answered_at.is_not(None),
).where(any_of(questions.c.chat_pk, "b_pks"))
_JOINS_OF = sa.select(joins.c.chat_pk, joins.c.user_id, joins.c.at).where(
    any_of(joins.c.chat_pk, "b_pks"), joins.c.at > sa.bindparam("b_keep")
)
_INVITE_COLUMNS = (
    _i.c.id,
    _i.c.chat_pk,
    _i.c.inviter_id,
    _i.c.invitee_id,
    _i.c.invited_at,
    _i.c.outcome,
    _i.c.joined_at,
    _i.c.outcome_at,
)
_INVITES_TO = sa.select(*_INVITE_COLUMNS).where(
    any_of(_i.c.chat_pk, "b_pks"),
    any_of(_i.c.invitee_id, "b_ids"),
)
_INVITES_BY = sa.select(*_INVITE_COLUMNS).where(
    any_of(_i.c.chat_pk, "b_pks"),
    any_of(_i.c.inviter_id, "b_ids"),
)
_INVITES_OF = sa.union_all(_INVITES_TO, _INVITES_BY)  # one statement, each side by its index


@dataclass
class _Invite:
    """One invitation as a batch holds it (``id`` None: written at the batch's end)."""

    order: tuple[int, int]  # the table's id order: stored rows by id, then new ones in turn
    id: int | None
    inviter_id: str
    invitee_id: str
    invited_at: datetime
    outcome: str
    joined_at: datetime | None
    outcome_at: datetime
    changed: bool = False


# the entries a join reads: pending (the chat's count) and approved (never held again)
_HELD_OF = sa.select(held.c.chat_pk, held.c.user_id, held.c.status).where(
    any_of(held.c.chat_pk, "b_pks"),
    held.c.status.in_((HeldStatus.PENDING.value, HeldStatus.APPROVED.value)),
)


@functools.cache
def _hold_upsert(dialect: str) -> sa.Executable:
    """:func:`hold` for many rows at once (the values of each row come as parameters)."""
    stmt = _dialect_insert(dialect, held)
    kept = ("id", "chat_pk", "user_id")
    return stmt.on_conflict_do_update(
        index_elements=["chat_pk", "user_id"],
        set_={c.name: stmt.excluded[c.name] for c in held.columns if c.name not in kept},
    )


def _held_row(chat_pk: int, values: dict[str, object]) -> dict[str, object]:
    return values | {
        "chat_pk": chat_pk,
        "status": HeldStatus.PENDING.value,
        "resolved_at": None,
        "resolved_by": "",
        "note": "",
    }


@dataclass
class ScreeningBatch:
    """The screening area's per-chat rows for every chat of one transaction
    (``ChatTx.pending(ScreeningBatch)``): settings and value counters read for all the
    chats in one query each on first use; value counters kept in memory with this
    transaction's additions and written back by ``flush`` in one multi-row upsert.
    Settings change only under the chat's lock (``Screening.SetChatSettings``), never
    inside an event's transaction, so they are read once."""

    conn: Connection
    pks: Sequence[int]
    # each tenant's blocklist, whole when it holds at most BLOCKLIST_HELD entries (None:
    # longer, asked per event): {(kind, platform, value)}
    _blocked: dict[str, frozenset[tuple[str, str, str]] | None] = field(default_factory=dict)
    _settings: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] | None = None
    _values: dict[int, tuple[int, int]] | None = None
    _added: dict[int, tuple[int, int]] = field(default_factory=dict)
    _strikes_since: datetime | None = None
    _strikes: dict[tuple[int, str], list[datetime]] = field(default_factory=dict)
    _new_strikes: list[tuple[int, str, datetime, str]] = field(default_factory=list)
    # the questions by (chat, message id), open or answered: (author, asked at,
    # answered), read on the first reply; the asks and answers held since the last
    # flush, in order, to replay on what is read
    _questions: dict[tuple[int, str], tuple[str, datetime, bool]] | None = None
    _question_log: list[tuple[int, str, str, datetime | None]] = field(default_factory=list)
    _asked: list[dict[str, Any]] = field(default_factory=list)
    _answers: list[dict[str, Any]] = field(default_factory=list)
    _questions_before: dict[int, datetime] = field(default_factory=dict)  # prune, per chat
    # the join log from _joins_since on: {chat: [(user, at)]}
    _joins_since: datetime | None = None
    _joins: dict[int, list[tuple[str, datetime]]] = field(default_factory=dict)
    _new_joins: list[dict[str, Any]] = field(default_factory=list)
    _joins_before: dict[int, datetime] = field(default_factory=dict)
    # the review queue's pending and approved entries, by (chat, user): their status
    # (stored, then as this transaction set it); its writes in order: holds, then the
    # closes after them
    _status: dict[tuple[int, str], str] | None = None
    _holds: dict[tuple[int, str], dict[str, object]] = field(default_factory=dict)
    _closes: list[tuple[tuple[int, str], dict[str, Any]]] = field(default_factory=list)
    # the invitations of the transaction's people (as invitee or inviter), by chat: read
    # once when the transaction knows its people (a batch), else asked per event
    _invites: dict[int, list[_Invite]] | None = None
    _new_invites: int = 0

    def strike_counts(self, chat_pk: int, user_id: str, now: datetime) -> tuple[int, int, int]:
        """As :func:`strike_counts`, from memory: (24 hours, 7 days, STRIKES_KEEP)."""
        keep = now - STRIKES_KEEP
        if self._strikes_since is None:
            self._strikes_since = keep - STRIKES_MARGIN
            params = {"b_pks": list(self.pks), "b_keep": self._strikes_since}
            for r in self.conn.execute(_STRIKES_OF, params):
                self._strikes.setdefault((int(r.chat_pk), r.user_id), []).append(r.at)
        if keep < self._strikes_since:  # older than what was read: ask the table
            self._flush_strikes(self.conn)
            return strike_counts(self.conn, chat_pk, user_id, now)
        times = [t for t in self._strikes.get((chat_pk, user_id), ()) if keep < t <= now]
        day, week = now - timedelta(hours=24), now - timedelta(days=7)
        return sum(t > day for t in times), sum(t > week for t in times), len(times)

    def add_strike(self, chat_pk: int, user_id: str, at: datetime, rule_id: str) -> None:
        """As :func:`add_strike`, held until ``flush``."""
        before = at - STRIKES_KEEP
        kept = [t for t in self._strikes.get((chat_pk, user_id), ()) if t >= before]
        self._strikes[(chat_pk, user_id)] = [*kept, at]
        self._new_strikes.append((chat_pk, user_id, at, rule_id))

    def _flush_strikes(self, conn: Connection) -> None:
        if not self._new_strikes:
            return
        conn.execute(
            _INSERT_STRIKE,
            [
                {"chat_pk": pk, "user_id": user, "at": at, "rule_id": rule}
                for pk, user, at, rule in self._new_strikes
            ],
        )
        latest: dict[tuple[int, str], datetime] = {}
        for pk, user, at, _ in self._new_strikes:
            latest[(pk, user)] = max(latest.get((pk, user), at), at)
        conn.execute(
            _PRUNE_STRIKES,
            [
                {"b_pk": pk, "b_user": user, "b_before": at - STRIKES_KEEP}
                for (pk, user), at in latest.items()
            ],
        )
        self._new_strikes.clear()

    # -- questions: read for every chat once (on the first reply), open and answered
    # alike, asked and answered in memory
    def open_question(self, chat_pk: int, message_id: str, replier_id: str) -> bool:
        """As :func:`open_question`, from memory."""
        if not message_id:
            return False
        if self._questions is None:
            rows = self.conn.execute(_QUESTIONS_OF, {"b_pks": list(self.pks)})
            self._questions = {(int(r[0]), r[1]): (r[2], r[3], bool(r[4])) for r in rows}
            for pk, message, author, at in self._question_log:
                self._note(pk, message, author, at)
        found = self._questions.get((chat_pk, message_id))
        return found is not None and not found[2] and found[0] != replier_id

    def _note(self, chat_pk: int, message_id: str, author_id: str, at: datetime | None) -> None:
        """An ask (``at``) or an answer (no ``at``) on the questions read: an answer
        marks its row answered (if it has one); an ask prunes its chat's rows asked more
        than QUESTIONS_KEEP before it, then adds its own unless its message id still has
        a row, open or answered (the insert does nothing on conflict). The prune comes
        first, as ``_flush_questions`` writes them; :func:`ask` inserts first."""
        held = self._questions
        if held is None:
            return
        key = (chat_pk, message_id)
        if at is None:
            if key in held:
                author, asked_at, _ = held[key]
                held[key] = (author, asked_at, True)
            return
        before = at - QUESTIONS_KEEP  # the prune that goes with each ask
        for old in [k for k, (_, t, _) in held.items() if k[0] == chat_pk and t < before]:
            del held[old]
        held.setdefault(key, (author_id, at, False))

    def ask(self, chat_pk: int, message_id: str, author_id: str, at: datetime) -> None:
        """As :func:`ask`, held until ``flush``."""
        self._question_log.append((chat_pk, message_id, author_id, at))
        self._note(chat_pk, message_id, author_id, at)
        self._asked.append(
            {"chat_pk": chat_pk, "message_id": message_id, "author_id": author_id, "asked_at": at}
        )
        before = at - QUESTIONS_KEEP
        self._questions_before[chat_pk] = max(self._questions_before.get(chat_pk, before), before)

    def answered(self, chat_pk: int, message_id: str, at: datetime) -> None:
        """As :func:`answered`, held until ``flush``."""
        self._question_log.append((chat_pk, message_id, "", None))
        self._note(chat_pk, message_id, "", None)
        self._answers.append({"b_pk": chat_pk, "b_msg": message_id, "b_at": at})

    def _flush_questions(self, conn: Connection) -> None:
        """As the asks, answers and prunes one by one: the stored rows pruned first (by
        the latest prune of their chat), then the asks no later ask's prune removes (an
        ask older than a prune that comes before it in the log is kept, as one by one)."""
        self._question_log.clear()  # what is read from now on has them
        if self._questions_before:
            before = self._questions_before.items()
            conn.execute(_PRUNE_QUESTIONS, [{"b_pk": pk, "b_before": b} for pk, b in before])
            self._questions_before.clear()
        if self._asked:
            kept: list[dict[str, Any]] = []
            later: dict[int, datetime] = {}  # the latest prune after each ask, per chat
            for row in reversed(self._asked):
                pk, at = row["chat_pk"], row["asked_at"]
                if pk not in later or at >= later[pk]:
                    kept.append(row)
                later[pk] = max(later.get(pk, at - QUESTIONS_KEEP), at - QUESTIONS_KEEP)
            if kept:
                conn.execute(_question_insert(conn.dialect.name), kept[::-1])
            self._asked.clear()
        if self._answers:
            conn.execute(_ANSWERED, self._answers)
            self._answers.clear()

    # -- the join log: read for every chat once (its last 24 hours), added to in memory
    def join_counts(self, chat_pk: int, now: datetime) -> tuple[int, int, int]:
        """As :func:`join_counts`, from memory."""
        keep = now - JOIN_LOG_KEEP
        if self._joins_since is None:
            self._joins_since = keep - JOINS_MARGIN
            params = {"b_pks": list(self.pks), "b_keep": self._joins_since}
            for r in self.conn.execute(_JOINS_OF, params):
                self._joins.setdefault(int(r.chat_pk), []).append((r.user_id, r.at))
        if keep < self._joins_since:  # older than what was read: ask the table
            self._flush_joins(self.conn)
            return join_counts(self.conn, chat_pk, now)
        logged = [(u, t) for u, t in self._joins.get(chat_pk, ()) if keep < t <= now]
        ten, hour = now - timedelta(minutes=10), now - timedelta(hours=1)
        return (
            len({u for u, t in logged if t > ten}),
            len({u for u, t in logged if t > hour}),
            len({u for u, _ in logged}),
        )

    def log_join(self, chat_pk: int, user_id: str, at: datetime) -> None:
        """As :func:`log_join`, held until ``flush``."""
        before = at - JOIN_LOG_KEEP
        kept = [(u, t) for u, t in self._joins.get(chat_pk, ()) if t >= before]
        self._joins[chat_pk] = [*kept, (user_id, at)]
        self._new_joins.append({"chat_pk": chat_pk, "user_id": user_id, "at": at})
        self._joins_before[chat_pk] = max(self._joins_before.get(chat_pk, before), before)

    def _flush_joins(self, conn: Connection) -> None:
        if self._new_joins:
            conn.execute(_INSERT_JOIN, self._new_joins)
            self._new_joins.clear()
        if self._joins_before:
            before = self._joins_before.items()
            conn.execute(_PRUNE_JOINS, [{"b_pk": pk, "b_before": b} for pk, b in before])
            self._joins_before.clear()

    # -- the review queue: every chat's pending and approved entries read once, holds
    # and closes held
    def _statuses(self) -> dict[tuple[int, str], str]:
        if self._status is None:
            rows = self.conn.execute(_HELD_OF, {"b_pks": list(self.pks)})
            self._status = {(int(r[0]), r[1]): r[2] for r in rows}
        return self._status

    def held_count(self, chat_pk: int) -> int:
        """As :func:`held_count`, from memory."""
        pending = HeldStatus.PENDING.value
        return sum(pk == chat_pk and s == pending for (pk, _), s in self._statuses().items())

    def review_approved(self, chat_pk: int, user_id: str) -> bool:
        """As :func:`review_approved`, from memory."""
        return self._statuses().get((chat_pk, user_id)) == HeldStatus.APPROVED.value

    def hold(self, chat_pk: int, values: dict[str, object]) -> None:
        """As :func:`hold`, held until ``flush`` (it replaces every column of the entry, so
        a close of the same entry earlier in the transaction is dropped)."""
        key = (chat_pk, str(values["user_id"]))
        self._statuses()[key] = HeldStatus.PENDING.value
        self._holds[key] = _held_row(chat_pk, values)
        self._closes = [c for c in self._closes if c[0] != key]

    def close_pending(self, chat_pk: int, user_id: str, status: HeldStatus, at: datetime) -> None:
        """As :func:`close_pending`, held until ``flush``; nothing to write when the member
        has no pending entry."""
        key = (chat_pk, user_id)
        statuses = self._statuses()
        if statuses.get(key) != HeldStatus.PENDING.value:
            return
        statuses[key] = status.value
        params = {"b_pk": chat_pk, "b_user": user_id, "b_status": status.value, "b_at": at}
        self._closes.append((key, params))

    def _flush_held(self, conn: Connection) -> None:
        if self._holds:
            conn.execute(_hold_upsert(conn.dialect.name), list(self._holds.values()))
            self._holds.clear()
        if self._closes:
            conn.execute(_CLOSE_PENDING, [params for _, params in self._closes])
            self._closes.clear()

    def chat_settings(self, chat_pk: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(allowed domains, entry patterns) of a chat; empty when never set."""
        if self._settings is None:
            rows = self.conn.execute(_SETTINGS_OF, {"b_pks": list(self.pks)})
            self._settings = {
                int(r.chat_pk): (
                    tuple(str(d) for d in r.allowed_domains),
                    tuple(str(p) for p in r.entry_patterns),
                )
                for r in rows
            }
        return self._settings.get(chat_pk, ((), ()))

    def _blocklist(self, tenant: str) -> frozenset[tuple[str, str, str]] | None:
        if tenant not in self._blocked:
            params = {"b_tenant": tenant, "b_limit": BLOCKLIST_HELD + 1}
            rows = self.conn.execute(_BLOCKLIST_OF, params).all()
            held = frozenset((r.kind, r.platform, r.value) for r in rows)
            self._blocked[tenant] = held if len(rows) <= BLOCKLIST_HELD else None
        return self._blocked[tenant]

    def blocked_users(
        self, tenant: str, platform: Platform, user_ids: Iterable[str]
    ) -> frozenset[str]:
        """As :func:`blocked_users`, from the tenant's blocklist read once per transaction."""
        held = self._blocklist(tenant)
        if held is None:
            return blocked_users(self.conn, tenant, platform, user_ids)
        kind = BlockKind.USER.value
        return frozenset(u for u in user_ids if u and (kind, platform.value, u) in held)

    def blocked_domains(self, tenant: str, domains: Iterable[str]) -> frozenset[str]:
        """As :func:`blocked_domains`, from the tenant's blocklist read once per transaction."""
        held = self._blocklist(tenant)
        if held is None:
            return blocked_domains(self.conn, tenant, domains)
        kind = BlockKind.DOMAIN.value
        return frozenset(p for d in domains for p in dl.parents(d) if (kind, "", p) in held)

    def value_counts(self, chat_pk: int) -> tuple[int, int]:
        if self._values is None:
            rows = self.conn.execute(_VALUE_COUNTS_OF, {"b_pks": list(self.pks)})
            self._values = {int(r[0]): (int(r[1]), int(r[2])) for r in rows}
        stored = self._values.get(chat_pk, (0, 0))
        added = self._added.get(chat_pk, (0, 0))
        return stored[0] + added[0], stored[1] + added[1]

    def add_value(self, chat_pk: int, substantive: int, answered: int) -> None:
        if substantive or answered:
            s, a = self._added.get(chat_pk, (0, 0))
            self._added[chat_pk] = (s + substantive, a + answered)

    # -- invitations: those of the batch's people read once, changed in memory
    def _invites_of(self, tx: ChatTx, *user_ids: str) -> list[_Invite] | None:
        """The chat's invitations to or by the batch's people; None outside a batch or
        for someone not among them (what is held is written first: the caller asks the
        table, and the invitations are read again on next use)."""
        people = tx.batch_people()
        if people is None or any((tx.chat_pk, u) not in people for u in user_ids):
            self._flush_invites(self.conn)
            self._invites = None
            return None
        if self._invites is None:
            self._invites = self._read_invites(people)
        return self._invites.setdefault(tx.chat_pk, [])

    def _read_invites(self, people: Collection[tuple[int, str]]) -> dict[int, list[_Invite]]:
        params = {"b_pks": list(self.pks), "b_ids": sorted({u for _, u in people})}
        rows = {
            r.id: r
            for r in self.conn.execute(_INVITES_OF, params)
            if (r.chat_pk, r.invitee_id) in people or (r.chat_pk, r.inviter_id) in people
        }
        out: dict[int, list[_Invite]] = {}
        for r in sorted(rows.values(), key=lambda r: int(r.id)):
            out.setdefault(int(r.chat_pk), []).append(
                _Invite(
                    (0, int(r.id)),
                    int(r.id),
                    r.inviter_id,
                    r.invitee_id,
                    r.invited_at,
                    r.outcome,
                    r.joined_at,
                    r.outcome_at,
                )
            )
        return out

    @staticmethod
    def _latest(rows: list[_Invite], invitee_id: str, outcomes: Sequence[str]) -> _Invite | None:
        found = [r for r in rows if r.invitee_id == invitee_id and r.outcome in outcomes]
        return max(found, key=lambda r: (r.invited_at, r.order), default=None)

    def inviter_record(self, tx: ChatTx, inviter_id: str, now: datetime) -> InviterRecord:
        """As :func:`inviter_record`; in a batch from memory (the invitees' message counts
        from the batch's members)."""
        rows = self._invites_of(tx, inviter_id)
        if rows is None:
            tx.flush_members()  # the record reads the invitees' rows in the members table
            return inviter_record(self.conn, tx.chat_pk, inviter_id, now)
        mine = [r for r in rows if r.inviter_id == inviter_id]
        day, week = now - timedelta(hours=24), now - timedelta(days=7)
        silent_before = now - timedelta(days=SILENT_AFTER_DAYS)
        admitted = [r for r in mine if r.outcome in ADMITTED_OUTCOMES]
        aged = [r for r in admitted if r.joined_at is not None and r.joined_at <= silent_before]
        posted = tx.members(r.invitee_id for r in aged)
        return InviterRecord(
            invites_24h=sum(day < r.invited_at <= now for r in mine),
            invites_7d=sum(week < r.invited_at <= now for r in mine),
            invitee_count=len(mine),
            settled=sum(r.outcome not in PENDING_OUTCOMES for r in mine),
            removed=sum(r.outcome in REMOVED_OUTCOMES for r in mine),
            admitted=len(admitted),
            left_early=sum(r.outcome == Outcome.LEFT_EARLY.value for r in mine),
            aged=len(aged),
            silent=sum(
                r.invitee_id not in posted or posted[r.invitee_id].message_count == 0 for r in aged
            ),
        )

    def record_invite(
        self, tx: ChatTx, inviter_id: str, invitee_id: str, at: datetime, outcome: Outcome
    ) -> None:
        """As :func:`record_invite`; in a batch held until ``flush``."""
        rows = self._invites_of(tx, inviter_id, invitee_id)
        if rows is None:
            record_invite(self.conn, tx.chat_pk, inviter_id, invitee_id, at, outcome)
            return
        joined_at = at if outcome == Outcome.JOINED else None
        open_row = self._latest(rows, invitee_id, PENDING_OUTCOMES)
        if (
            open_row is not None
            and open_row.inviter_id == inviter_id
            and open_row.invited_at >= at - REQUEST_LINK
        ):
            open_row.outcome, open_row.outcome_at = outcome.value, at
            open_row.joined_at, open_row.changed = joined_at, True
            return
        self._new_invites += 1
        rows.append(
            _Invite(
                (1, self._new_invites),
                None,
                inviter_id,
                invitee_id,
                at,
                outcome.value,
                joined_at,
                at,
                changed=True,
            )
        )

    def invitee_left(self, tx: ChatTx, invitee_id: str, at: datetime, *, by_admin: bool) -> None:
        """As :func:`invitee_left`; in a batch held until ``flush``."""
        rows = self._invites_of(tx, invitee_id)
        if rows is None:
            invitee_left(self.conn, tx.chat_pk, invitee_id, at, by_admin=by_admin)
            return
        row = self._latest(rows, invitee_id, (Outcome.JOINED.value,))
        if row is None:
            return
        if by_admin:
            outcome = Outcome.REMOVED
        elif row.joined_at is not None and at - row.joined_at < timedelta(days=LEFT_EARLY_DAYS):
            outcome = Outcome.LEFT_EARLY
        else:
            outcome = Outcome.LEFT
        row.outcome, row.outcome_at, row.changed = outcome.value, at, True

    def _flush_invites(self, conn: Connection) -> None:
        if self._invites is None:
            return
        changed = sorted(
            ((pk, r) for pk, rows in self._invites.items() for r in rows if r.changed),
            key=lambda pr: pr[1].order,
        )
        added = [
            {
                "chat_pk": pk,
                "inviter_id": r.inviter_id,
                "invitee_id": r.invitee_id,
                "invited_at": r.invited_at,
                "outcome": r.outcome,
                "joined_at": r.joined_at,
                "outcome_at": r.outcome_at,
            }
            for pk, r in changed
            if r.id is None
        ]
        updated = [
            {"b_id": r.id, "b_outcome": r.outcome, "b_at": r.outcome_at, "b_joined_at": r.joined_at}
            for _, r in changed
            if r.id is not None
        ]
        if added:
            conn.execute(_INSERT_INVITE, added)
        if updated:
            conn.execute(_SETTLE_INVITE, updated)  # executemany
        if changed:
            self._invites = None  # read again if needed: the new rows have their ids now

    def flush(self, conn: Connection) -> None:
        self._flush_strikes(conn)
        self._flush_invites(conn)
        self._flush_questions(conn)
        self._flush_joins(conn)
        self._flush_held(conn)
        if not self._added:
            return
        conn.execute(
            _value_upsert(conn.dialect.name),
            [
                {"chat_pk": pk, "substantive_posts": s, "answered_questions": a}
                for pk, (s, a) in self._added.items()
            ],
        )
        if self._values is not None:
            for pk, (s, a) in self._added.items():
                old = self._values.get(pk, (0, 0))
                self._values[pk] = (old[0] + s, old[1] + a)
        self._added.clear()
