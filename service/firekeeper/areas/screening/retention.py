"""What the screening area keeps, and for how long (the sweep: ``firekeeper.store.retention``).

    table               what goes                                        kept for
    screening_invites   settled or unanswered invitations                365 days after the outcome
    screening_held      denied or withdrawn holds (approved ones stay:   90 days after resolution
                        an approved member is never held again)
    screening_joins     the join log behind the burst windows            24 hours
    promo_strikes       strikes behind the escalation ladder             30 days
    promo_questions     open questions an answer can be matched to       30 days

Pending holds and invitations still pending or admitted stay.
"""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from firekeeper.areas.screening.queries import JOIN_LOG_KEEP, QUESTIONS_KEEP, STRIKES_KEEP
from firekeeper.areas.screening.tables import (
    PENDING_OUTCOMES,
    Outcome,
    held,
    invites,
    joins,
    questions,
    strikes,
)
from firekeeper.domain.screening import HeldStatus
from firekeeper.store.retention import BEFORE, LIMIT, Policy, by_id

INVITES_KEEP = timedelta(days=365)
HELD_KEEP = timedelta(days=90)

_SETTLED = tuple(o.value for o in Outcome if o.value not in (*PENDING_OUTCOMES, "joined"))
_FORGOTTEN = (*_SETTLED, Outcome.REQUESTED.value)  # a request nobody answered is settled too
_CLOSED_HOLDS = (HeldStatus.DENIED.value, HeldStatus.WITHDRAWN.value)

i, h, j, s, q = invites, held, joins, strikes, questions
# promo_questions has no surrogate id: its batch picks (chat_pk, message_id) pairs
_questions_pick = (
    sa.select(q.c.chat_pk, q.c.message_id)
    .where(q.c.asked_at < BEFORE)
    .order_by(q.c.asked_at)
    .limit(LIMIT)
)
RETENTION: tuple[Policy, ...] = (
    by_id(
        i,
        INVITES_KEEP,
        sa.and_(i.c.outcome.in_(_FORGOTTEN), i.c.outcome_at < BEFORE),
        "ix_screening_invites_outcome_outcome_at",  # unordered: several outcomes
    ),
    by_id(
        h,
        HELD_KEEP,
        sa.and_(h.c.status.in_(_CLOSED_HOLDS), h.c.resolved_at < BEFORE),
        "ix_screening_held_status_resolved_at",  # unordered: two statuses
    ),
    by_id(j, JOIN_LOG_KEEP, j.c.at < BEFORE, "ix_screening_joins_at", j.c.at),
    by_id(s, STRIKES_KEEP, s.c.at < BEFORE, "ix_promo_strikes_at", s.c.at),
    Policy(
        q,
        QUESTIONS_KEEP,
        _questions_pick,
        "ix_promo_questions_asked_at",
        sa.delete(q).where(sa.tuple_(q.c.chat_pk, q.c.message_id).in_(_questions_pick)),
    ),
)
