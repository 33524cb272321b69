"""Tables of invite screening and monetization timing, on the store's MetaData.

Migration ``0002_screening`` builds them; ``tests/store`` checks it builds
exactly what is described here. Every per-chat table hangs off ``chats.id``
(``chat_pk``) and is read and written only inside that chat's locked event
transaction (``firekeeper.areas.screening.area``) or the review/settings calls, which
take the same lock. The blocklist is per tenant and needs no chat lock.

    screening_settings   a chat's own domains and entry-answer patterns (lists)
    screening_blocklist  tenant-wide blocked users (platform, id) and domains
    screening_joins      who joined or asked to join when: burst windows (kept 24 h)
    screening_invites    every invitation and what became of the invitee
    screening_held       the review queue: joins held for an admin, and their outcome
    promo_strikes        messages a promo.* rule acted on, per member (kept 30 days)
    promo_value          per chat: substantive posts and answered questions (defined in
                         firekeeper.store.models: the history import adds to it too)
    promo_questions      open questions, so an answer can be recognised (kept 30 days)
"""

from __future__ import annotations

import enum

import sqlalchemy as sa

from firekeeper.store.models import BigId, Json, UtcDateTime, metadata

# promo_value is the store's own: the history import writes it too
# (firekeeper.areas.lifecycle.onboarding)
from firekeeper.store.models import value as value


class Outcome(enum.StrEnum):
    """What became of one invitation (``screening_invites.outcome``)."""

    REQUESTED = "requested"  # a join request naming the inviter, not answered yet
    HELD = "held"  # held for review
    JOINED = "joined"  # admitted and still in
    REFUSED = "refused"  # a rule denied the join (size cap, bot, blocklist...)
    DENIED = "denied"  # an admin denied it at review
    REMOVED = "removed"  # an admin removed or banned the invitee after they got in
    LEFT_EARLY = "left_early"  # left by themselves within LEFT_EARLY_DAYS
    LEFT = "left"  # left by themselves later


PENDING_OUTCOMES = (Outcome.REQUESTED.value, Outcome.HELD.value)
ADMITTED_OUTCOMES = tuple(
    o.value for o in (Outcome.JOINED, Outcome.REMOVED, Outcome.LEFT_EARLY, Outcome.LEFT)
)
REMOVED_OUTCOMES = (Outcome.REMOVED.value, Outcome.DENIED.value)


def _chat_pk() -> sa.Column[int]:
    return sa.Column(
        "chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), nullable=False
    )


settings = sa.Table(
    "screening_settings",
    metadata,
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("allowed_domains", Json, nullable=False),
    sa.Column("entry_patterns", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

blocklist = sa.Table(
    "screening_blocklist",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    sa.Column("tenant", sa.Text(), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # user | domain
    sa.Column("platform", sa.String(32), nullable=False),  # "" for domains
    sa.Column("value", sa.Text(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    sa.Column("added_by", sa.Text(), nullable=False),
    sa.Column("added_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("tenant", "kind", "platform", "value"),
)

joins = sa.Table(
    "screening_joins",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _chat_pk(),
    sa.Column("user_id", sa.Text(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Index(None, "chat_pk", "at"),
    sa.Index(None, "at"),  # the retention sweep
)

invites = sa.Table(
    "screening_invites",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _chat_pk(),
    sa.Column("inviter_id", sa.Text(), nullable=False),
    sa.Column("invitee_id", sa.Text(), nullable=False),
    sa.Column("invited_at", UtcDateTime(), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("joined_at", UtcDateTime(), nullable=True),
    sa.Column("outcome_at", UtcDateTime(), nullable=False),
    sa.Index(None, "chat_pk", "inviter_id", "invited_at"),
    sa.Index(None, "chat_pk", "invitee_id"),
    sa.Index(None, "outcome", "outcome_at"),  # the retention sweep
)

held = sa.Table(
    "screening_held",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _chat_pk(),
    sa.Column("user_id", sa.Text(), nullable=False),
    sa.Column("display_name", sa.Text(), nullable=False),
    sa.Column("inviter_id", sa.Text(), nullable=False),
    sa.Column("event_id", sa.Text(), nullable=False),
    sa.Column("event_kind", sa.String(64), nullable=False),
    sa.Column("rule_id", sa.Text(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("held_at", UtcDateTime(), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("resolved_at", UtcDateTime(), nullable=True),
    sa.Column("resolved_by", sa.Text(), nullable=False),
    sa.Column("note", sa.Text(), nullable=False),
    # one queue entry per member of a chat: holding them again reopens it
    sa.UniqueConstraint("chat_pk", "user_id"),
    sa.Index(None, "status", "id"),
    sa.Index(None, "chat_pk", "status"),  # a chat's pending count, on every join
    sa.Index(None, "status", "resolved_at"),  # the retention sweep
)

strikes = sa.Table(
    "promo_strikes",
    metadata,
    sa.Column("id", BigId, primary_key=True, autoincrement=True),
    _chat_pk(),
    sa.Column("user_id", sa.Text(), nullable=False),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("rule_id", sa.Text(), nullable=False),
    sa.Index(None, "chat_pk", "user_id", "at"),
    sa.Index(None, "at"),  # the retention sweep
)

questions = sa.Table(
    "promo_questions",
    metadata,
    sa.Column("chat_pk", BigId, sa.ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("message_id", sa.Text(), primary_key=True),
    sa.Column("author_id", sa.Text(), nullable=False),
    sa.Column("asked_at", UtcDateTime(), nullable=False),
    sa.Column("answered_at", UtcDateTime(), nullable=True),
    sa.Index(None, "chat_pk", "asked_at"),
    sa.Index(None, "asked_at"),  # the retention sweep
)
