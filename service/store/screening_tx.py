"""Reads and writes of the screening tables inside one chat's locked transaction.

Every function takes the transaction's connection and the chat's ``chat_pk``
(``ChatTx.connection`` / ``ChatTx.chat_pk``); none commits. Windows are
measured back from the event's time, so replaying recorded events gives the
same counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from service.domain.events import Platform
from service.domain.screening import BlockKind, HeldStatus
from service.rules import domains as dl
from service.rules.screening import LEFT_EARLY_DAYS, SILENT_AFTER_DAYS, InviterRecord
from service.store.models import members
from service.store.screening import (
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

JOIN_LOG_KEEP = timedelta(hours=24)
STRIKES_KEEP = timedelta(days=30)
QUESTIONS_KEEP = timedelta(days=30)
REQUEST_LINK = timedelta(days=14)  # a join this soon after a request continues its invitation


def _insert(conn: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def _count(conn: Connection, query: sa.Select[Any]) -> int:
    found: Any = conn.execute(query).scalar_one()
    return int(found or 0)


# -- settings and blocklist -------------------------------------------------------------------


def chat_settings(conn: Connection, chat_pk: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(allowed domains, entry patterns) of a chat; empty when never set."""
    row = conn.execute(
        sa.select(settings.c.allowed_domains, settings.c.entry_patterns).where(
            settings.c.chat_pk == chat_pk
        )
    ).one_or_none()
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
        sa.select(blocklist.c.value).where(
            blocklist.c.tenant == tenant,
            blocklist.c.kind == BlockKind.USER.value,
            blocklist.c.platform == platform.value,
            blocklist.c.value.in_(wanted),
        )
    )
    return frozenset(str(v) for v in rows.scalars())


def blocked_domains(conn: Connection, tenant: str, domains: Iterable[str]) -> frozenset[str]:
    """Blocked entries among these domains and their parents (``x.evil.com`` -> ``evil.com``)."""
    wanted = sorted({p for d in domains for p in dl.parents(d)})
    if not wanted:
        return frozenset()
    rows = conn.execute(
        sa.select(blocklist.c.value).where(
            blocklist.c.tenant == tenant,
            blocklist.c.kind == BlockKind.DOMAIN.value,
            blocklist.c.value.in_(wanted),
        )
    )
    return frozenset(str(v) for v in rows.scalars())


# -- joins, invites, the review queue ---------------------------------------------------------


def join_counts(conn: Connection, chat_pk: int, now: datetime) -> tuple[int, int, int]:
    """Distinct people who joined or asked to join in the 10 min, 1 h and 24 h before ``now``."""

    def within(delta: timedelta) -> sa.ColumnElement[Any]:
        return sa.func.count(sa.distinct(sa.case((joins.c.at > now - delta, joins.c.user_id))))

    row = conn.execute(
        sa.select(
            within(timedelta(minutes=10)), within(timedelta(hours=1)), within(timedelta(hours=24))
        ).where(joins.c.chat_pk == chat_pk, joins.c.at > now - JOIN_LOG_KEEP, joins.c.at <= now)
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def log_join(conn: Connection, chat_pk: int, user_id: str, at: datetime) -> None:
    conn.execute(sa.insert(joins).values(chat_pk=chat_pk, user_id=user_id, at=at))
    conn.execute(
        sa.delete(joins).where(joins.c.chat_pk == chat_pk, joins.c.at < at - JOIN_LOG_KEEP)
    )


def _sum(cond: sa.ColumnElement[bool]) -> sa.ColumnElement[Any]:
    return sa.func.coalesce(sa.func.sum(sa.case((cond, 1), else_=0)), 0)


def inviter_record(conn: Connection, chat_pk: int, inviter_id: str, now: datetime) -> InviterRecord:
    """The inviter's record in one aggregate over their invitations (and members, for silence)."""
    i = invites
    admitted = i.c.outcome.in_(ADMITTED_OUTCOMES)
    aged = sa.and_(admitted, i.c.joined_at <= now - timedelta(days=SILENT_AFTER_DAYS))
    silent = sa.and_(aged, sa.func.coalesce(members.c.message_count, 0) == 0)
    row = conn.execute(
        sa.select(
            _sum(sa.and_(i.c.invited_at > now - timedelta(hours=24), i.c.invited_at <= now)),
            _sum(sa.and_(i.c.invited_at > now - timedelta(days=7), i.c.invited_at <= now)),
            sa.func.count(),
            _sum(i.c.outcome.not_in(PENDING_OUTCOMES)),
            _sum(i.c.outcome.in_(REMOVED_OUTCOMES)),
            _sum(admitted),
            _sum(i.c.outcome == Outcome.LEFT_EARLY.value),
            _sum(aged),
            _sum(silent),
        )
        .select_from(
            i.outerjoin(
                members,
                sa.and_(members.c.chat_pk == i.c.chat_pk, members.c.user_id == i.c.invitee_id),
            )
        )
        .where(i.c.chat_pk == chat_pk, i.c.inviter_id == inviter_id)
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
    """(id, inviter_id, invited_at) of the invitee's latest invitation with these outcomes."""
    return (
        conn.execute(
            sa.select(invites.c.id, invites.c.inviter_id, invites.c.invited_at)
            .where(
                invites.c.chat_pk == chat_pk,
                invites.c.invitee_id == invitee_id,
                invites.c.outcome.in_(outcomes),
            )
            .order_by(invites.c.invited_at.desc(), invites.c.id.desc())
            .limit(1)
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
            sa.update(invites)
            .where(invites.c.id == open_row["id"])
            .values(outcome=outcome.value, outcome_at=at, joined_at=joined_at)
        )
        return
    conn.execute(
        sa.insert(invites).values(
            chat_pk=chat_pk,
            inviter_id=inviter_id,
            invitee_id=invitee_id,
            invited_at=at,
            outcome=outcome.value,
            joined_at=joined_at,
            outcome_at=at,
        )
    )


def invitee_left(
    conn: Connection, chat_pk: int, invitee_id: str, at: datetime, *, by_admin: bool
) -> None:
    row = conn.execute(
        sa.select(invites.c.id, invites.c.joined_at)
        .where(
            invites.c.chat_pk == chat_pk,
            invites.c.invitee_id == invitee_id,
            invites.c.outcome == Outcome.JOINED.value,
        )
        .order_by(invites.c.invited_at.desc(), invites.c.id.desc())
        .limit(1)
    ).one_or_none()
    if row is None:
        return
    if by_admin:
        outcome = Outcome.REMOVED
    elif row.joined_at is not None and at - row.joined_at < timedelta(days=LEFT_EARLY_DAYS):
        outcome = Outcome.LEFT_EARLY
    else:
        outcome = Outcome.LEFT
    conn.execute(
        sa.update(invites)
        .where(invites.c.id == row.id)
        .values(outcome=outcome.value, outcome_at=at)
    )


def resolve_invite(
    conn: Connection, chat_pk: int, invitee_id: str, at: datetime, outcome: Outcome
) -> None:
    """An admin's review decision lands on the held invitation, if the join had an inviter."""
    row = _latest_invite(conn, chat_pk, invitee_id, (Outcome.HELD.value,))
    if row is not None:
        joined_at = at if outcome == Outcome.JOINED else None
        conn.execute(
            sa.update(invites)
            .where(invites.c.id == row["id"])
            .values(outcome=outcome.value, outcome_at=at, joined_at=joined_at)
        )


def held_count(conn: Connection, chat_pk: int) -> int:
    return _count(
        conn,
        sa.select(sa.func.count())
        .select_from(held)
        .where(held.c.chat_pk == chat_pk, held.c.status == HeldStatus.PENDING.value),
    )


def review_approved(conn: Connection, chat_pk: int, user_id: str) -> bool:
    status = conn.execute(
        sa.select(held.c.status).where(held.c.chat_pk == chat_pk, held.c.user_id == user_id)
    ).scalar_one_or_none()
    return status == HeldStatus.APPROVED.value


def hold(conn: Connection, chat_pk: int, values: dict[str, object]) -> None:
    """Put a member in the queue (or back in it): one entry per member of a chat."""
    row = values | {
        "chat_pk": chat_pk,
        "status": HeldStatus.PENDING.value,
        "resolved_at": None,
        "resolved_by": "",
        "note": "",
    }
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
        sa.update(held)
        .where(
            held.c.chat_pk == chat_pk,
            held.c.user_id == user_id,
            held.c.status == HeldStatus.PENDING.value,
        )
        .values(status=status.value, resolved_at=at)
    )


# -- strikes and value --------------------------------------------------------------------------


def strike_counts(
    conn: Connection, chat_pk: int, user_id: str, now: datetime
) -> tuple[int, int, int]:
    row = conn.execute(
        sa.select(
            _sum(strikes.c.at > now - timedelta(hours=24)),
            _sum(strikes.c.at > now - timedelta(days=7)),
            sa.func.count(),
        ).where(
            strikes.c.chat_pk == chat_pk,
            strikes.c.user_id == user_id,
            strikes.c.at > now - STRIKES_KEEP,
            strikes.c.at <= now,
        )
    ).one()
    return int(row[0] or 0), int(row[1] or 0), int(row[2] or 0)


def add_strike(conn: Connection, chat_pk: int, user_id: str, at: datetime, rule_id: str) -> None:
    conn.execute(
        sa.insert(strikes).values(chat_pk=chat_pk, user_id=user_id, at=at, rule_id=rule_id)
    )
    conn.execute(
        sa.delete(strikes).where(
            strikes.c.chat_pk == chat_pk,
            strikes.c.user_id == user_id,
            strikes.c.at < at - STRIKES_KEEP,
        )
    )


def value_counts(conn: Connection, chat_pk: int) -> tuple[int, int]:
    row = conn.execute(
        sa.select(value.c.substantive_posts, value.c.answered_questions).where(
            value.c.chat_pk == chat_pk
        )
    ).one_or_none()
    return (0, 0) if row is None else (int(row[0]), int(row[1]))


def add_value(conn: Connection, chat_pk: int, substantive: int, answered: int) -> None:
    if not substantive and not answered:
        return
    conn.execute(
        _insert(conn, value)
        .values(chat_pk=chat_pk, substantive_posts=substantive, answered_questions=answered)
        .on_conflict_do_update(
            index_elements=["chat_pk"],
            set_={
                "substantive_posts": value.c.substantive_posts + substantive,
                "answered_questions": value.c.answered_questions + answered,
            },
        )
    )


def open_question(conn: Connection, chat_pk: int, message_id: str, replier_id: str) -> bool:
    """The message replied to is someone else's question that nobody has answered yet."""
    if not message_id:
        return False
    row = conn.execute(
        sa.select(questions.c.author_id, questions.c.answered_at).where(
            questions.c.chat_pk == chat_pk, questions.c.message_id == message_id
        )
    ).one_or_none()
    return row is not None and row.answered_at is None and row.author_id != replier_id


def ask(conn: Connection, chat_pk: int, message_id: str, author_id: str, at: datetime) -> None:
    conn.execute(
        _insert(conn, questions)
        .values(chat_pk=chat_pk, message_id=message_id, author_id=author_id, asked_at=at)
        .on_conflict_do_nothing(index_elements=["chat_pk", "message_id"])
    )
    conn.execute(
        sa.delete(questions).where(
            questions.c.chat_pk == chat_pk, questions.c.asked_at < at - QUESTIONS_KEEP
        )
    )


def answered(conn: Connection, chat_pk: int, message_id: str, at: datetime) -> None:
    conn.execute(
        sa.update(questions)
        .where(questions.c.chat_pk == chat_pk, questions.c.message_id == message_id)
        .values(answered_at=at)
    )


def pending_total(conn: Connection) -> int:
    """Joins waiting for review across the whole store (the queue-depth gauge)."""
    return _count(
        conn,
        sa.select(sa.func.count())
        .select_from(held)
        .where(held.c.status == HeldStatus.PENDING.value),
    )
