"""Retention of the tables that grow with traffic: one sweep, in batches, off the request path.

    table               what goes                                        kept for
    decisions           decided and occurred before the window           the setting (30 days)
    screening_invites   settled or unanswered invitations                365 days after the outcome
    screening_held      denied or withdrawn holds (approved ones stay:   90 days after resolution
                        an approved member is never held again)
    screening_joins     the join log behind the burst windows            24 hours
    promo_strikes       strikes behind the escalation ladder             30 days
    promo_questions     open questions an answer can be matched to       30 days

Pending holds, invitations still pending or admitted, and everything newer
than its window stay. The decision log's policy is here; each area's policies are
its own (``firekeeper.areas.screening.retention``), and
``firekeeper.area_registry.retention_policies()`` lists them all. The lifecycle
tables (activity and poster days, flood windows, acknowledged outbox items) are
pruned per chat on its tick (``firekeeper.areas.lifecycle.queries.prune``).

Each batch is one short write transaction deleting at most ``batch`` rows
chosen through the table's time index (``firekeeper.hot_queries`` checks
the plans); a sweep repeats batches until a table has nothing old left or
``max_batches`` is reached (the next sweep goes on). Deleting what is already
gone deletes nothing, so a sweep is idempotent and two replicas sweeping at
once only share the work. The leading replica's scheduler sweeps after every
tick round (``firekeeper.scheduler``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from firekeeper.store.db import SQLITE_BEGIN, unavailable_on_db_errors
from firekeeper.store.models import decisions, retention_marks

log = logging.getLogger("firekeeper.retention")

DEFAULT_DECISION_DAYS = 30
BATCH = 1000
MAX_BATCHES = 100  # per table and sweep: at most 100k rows per table per sweep
# A published mark is acted on (its decisions deleted) only this long after it
# was published: longer than any pipeline caches the mark (MARK_TTL_SECONDS in
# firekeeper.pipeline), so no replica evaluates an event whose decision is gone.
MARK_GRACE = timedelta(seconds=120)
DECISIONS_MARK = "decisions"

BEFORE: sa.BindParameter[datetime] = sa.bindparam("b_before")
LIMIT: sa.BindParameter[int] = sa.bindparam("b_limit")


@dataclass(frozen=True, slots=True)
class Policy:
    table: sa.Table
    keep: timedelta | None  # None: the decision log's setting
    pick: sa.Select[tuple[int]] | sa.Select[tuple[int, str]]  # keys of old rows, at most b_limit
    index: str  # the index ``pick`` goes through
    delete: sa.Delete  # the rows ``pick`` chose (at most b_limit)


def by_id(
    table: sa.Table,
    keep: timedelta | None,
    old: sa.ColumnElement[bool],
    index: str,
    *order: sa.ColumnElement[object],
) -> Policy:
    pick = sa.select(table.c.id).where(old).order_by(*order).limit(LIMIT)
    return Policy(
        table, keep, pick, index, sa.delete(table).where(table.c.id.in_(pick.scalar_subquery()))
    )


d = decisions
# the decision log's policy; each governance area lists its own tables' policies
# (firekeeper.area_registry.retention_policies() joins them all)
POLICIES: tuple[Policy, ...] = (
    by_id(
        d,
        None,
        sa.and_(d.c.decided_at < BEFORE, d.c.occurred_at < BEFORE),
        "ix_decisions_decided_at_id",
        d.c.decided_at,
        d.c.id,
    ),
)


def _prunable(conn: sa.Connection, cutoff: datetime, after: datetime | None = None) -> bool:
    """Whether a decision older than ``cutoff`` (and, with ``after``, not older than it:
    not already covered by the mark) is stored: a mark is moved only when it would let
    the sweep delete something, so a store with nothing to prune refuses no event."""
    d = decisions.c
    where = sa.and_(d.decided_at < cutoff, d.occurred_at < cutoff)
    if after is not None:
        where = sa.and_(where, sa.or_(d.decided_at >= after, d.occurred_at >= after))
    return conn.execute(sa.select(d.id).where(where).limit(1)).first() is not None


@dataclass(frozen=True, slots=True)
class Sweep:
    deleted: dict[str, int]  # rows deleted per table
    complete: bool  # False: a table still had old rows after max_batches

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


class Retention:
    """Prunes every table that grows with traffic; ``sweep`` is safe to call at any time.

    ``policies``: the tables it prunes; the service passes
    ``firekeeper.area_registry.retention_policies()`` (the decision log's and every
    area's), the default is the decision log alone."""

    def __init__(
        self,
        engine: Engine,
        *,
        decision_days: int = DEFAULT_DECISION_DAYS,
        batch: int = BATCH,
        max_batches: int = MAX_BATCHES,
        policies: Sequence[Policy] = POLICIES,
    ) -> None:
        if decision_days < 0:
            raise ValueError("decision_days must be 0 (keep forever) or more")
        if batch < 1 or max_batches < 1:
            raise ValueError("batch and max_batches must be at least 1")
        self._engine = engine
        self.decision_days = decision_days
        self._batch = batch
        self._max_batches = max_batches
        self._policies = tuple(policies)

    def decision_cutoff(self, now: datetime) -> datetime | None:
        """Decisions of events older than this are pruned (None: kept forever)."""
        return now - timedelta(days=self.decision_days) if self.decision_days else None

    def sweep(self, now: datetime) -> Sweep:
        deleted: dict[str, int] = {}
        complete = True
        for policy in self._policies:
            before = self._advance_mark(now) if policy.keep is None else now - policy.keep
            if before is None:  # kept forever, or no mark old enough yet
                if policy.keep is None and self.decision_days:
                    deleted[policy.table.name] = 0
                continue
            count, done = self._prune(policy.table.name, policy.delete, before)
            deleted[policy.table.name] = count
            complete = complete and done
        if any(deleted.values()):
            log.info("retention sweep", extra={"deleted": deleted, "complete": complete})
        return Sweep(deleted, complete)

    def _advance_mark(self, now: datetime) -> datetime | None:
        """Publish the decision log's new cutoff, and return the mark decisions may be
        deleted up to now: the one published at least MARK_GRACE ago (None: nothing yet).

        Deleting always lags publishing, so every pipeline has seen a mark (and refuses
        events older than it) before the decisions it covers are gone."""
        cutoff = self.decision_cutoff(now)
        if cutoff is None:
            return None
        where = retention_marks.c.name == DECISIONS_MARK
        marks = retention_marks.c
        with (
            unavailable_on_db_errors(self._engine, "advance the retention mark"),
            self._engine.connect() as conn,
        ):
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                row = conn.execute(
                    sa.select(marks.before, marks.published_at, marks.settled_before).where(where)
                ).one_or_none()
                if row is None:
                    if _prunable(conn, cutoff):  # no mark until something would go
                        conn.execute(
                            sa.insert(retention_marks).values(
                                name=DECISIONS_MARK, before=cutoff, published_at=now
                            )
                        )
                    return None
                if row.published_at > now - MARK_GRACE:  # published too recently to act on
                    settled: datetime | None = row.settled_before
                    return settled
                values: dict[str, object] = {"settled_before": row.before}
                if cutoff > row.before and _prunable(conn, cutoff, after=row.before):
                    values |= {"before": cutoff, "published_at": now}
                conn.execute(sa.update(retention_marks).where(where).values(**values))
                return row.before  # type: ignore[no-any-return]

    def _prune(self, name: str, statement: sa.Executable, before: datetime) -> tuple[int, bool]:
        total = 0
        for _ in range(self._max_batches):
            count = self._batch_delete(name, statement, before)
            total += count
            if count < self._batch:
                return total, True
        return total, False

    def _batch_delete(self, name: str, statement: sa.Executable, before: datetime) -> int:
        with (
            unavailable_on_db_errors(self._engine, f"prune {name}"),
            self._engine.connect() as conn,
        ):
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                result = conn.execute(statement, {"b_before": before, "b_limit": self._batch})
                return int(result.rowcount)
