"""The invite screening and monetization timing area: store I/O around the pure features.

    load    (under the chat lock)  the chat's screening settings, blocklist hits,
                                   join windows, the inviter's record, the review
                                   queue, the actor's promo strikes, value delivered
    enrich  (pure)                 firekeeper.areas.screening.pure.features.sections
    write   (same transaction)     the join log, the invitation and its outcome,
                                   held joins into the review queue, a strike when a
                                   promo.* rule acted, value counters, open questions

In a batch, all of it is read once for all its chats (the invitations: those to or by
the batch's people) and written at its end (``store.screening_tx.ScreeningBatch``).

A **strike** is recorded for the actor of a message when an enforced rule
whose id starts with ``promo.`` returned an action (one per message). Rulesets
climb their escalation ladder on ``actor.promo_strikes_7d`` / ``_30d``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

from firekeeper.areas.screening import queries as q
from firekeeper.areas.screening.pure.features import TrustContext, sections
from firekeeper.areas.screening.tables import Outcome
from firekeeper.domain.chats import ChatContext
from firekeeper.domain.decisions import ActionType, Decision
from firekeeper.domain.events import (
    Event,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    RoleChanged,
)
from firekeeper.domain.screening import HeldStatus
from firekeeper.rules import features
from firekeeper.rules.evaluate import Evaluation
from firekeeper.rules.facts import people_ids
from firekeeper.rules.spam_model import SpamModel
from firekeeper.rules.state import admitted
from firekeeper.store import ChatTx

NAME = "screening"
STRIKE_PREFIX = "promo."
_REFUSING = frozenset({ActionType.DENY_JOIN, ActionType.REMOVE, ActionType.BAN})


class ScreeningObserver(Protocol):
    """Metrics the area reports (``metrics.ScreeningMetrics`` implements it)."""

    def observe_promo_signals(self, signals: Sequence[str]) -> None: ...

    def observe_join_held(self) -> None: ...


class _Quiet:
    def observe_promo_signals(self, signals: Sequence[str]) -> None:
        return None

    def observe_join_held(self) -> None:
        return None


def _message_domains(p: MessagePosted) -> tuple[str, ...]:
    given = (*p.links, *(a.url for a in p.attachments if a.url))
    return features.domains(features.of(p.text).plain_links(given))


class ScreeningArea:
    """One per process; stateless between events (safe to share between threads)."""

    name = NAME

    def __init__(
        self,
        *,
        phishing_domains: Collection[str] = frozenset(),
        observer: ScreeningObserver | None = None,
        spam_model: SpamModel | None = None,
    ) -> None:
        self._phishing = frozenset(phishing_domains)
        self._spam_model = spam_model  # loaded by the runtime (firekeeper.learned.artefact)
        self._observer: ScreeningObserver = observer or _Quiet()

    # ------------------------------------------------------------ load (I/O)
    def load(self, tx: ChatTx, event: Event, ctx: ChatContext) -> TrustContext | None:
        p = event.payload
        if not isinstance(
            p, MessagePosted | MemberJoined | JoinRequested | MemberLeft | RoleChanged
        ):
            return None
        env = event.envelope
        pk, now = tx.chat_pk, env.occurred_at
        kept = tx.pending(q.ScreeningBatch)
        allowed, patterns = kept.chat_settings(pk)
        found: dict[str, Any] = {
            "allowed_domains": allowed,
            "entry_patterns": patterns,
            "blocked_users": kept.blocked_users(env.tenant, env.platform, people_ids(event)),
        }
        if isinstance(p, MessagePosted):
            found["blocked_domains"] = kept.blocked_domains(env.tenant, _message_domains(p))
            if env.actor is not None:
                s24, s7, s30 = kept.strike_counts(pk, env.actor.id, now)
                found |= {"strikes_24h": s24, "strikes_7d": s7, "strikes_30d": s30}
                found["replies_to_open_question"] = kept.open_question(
                    pk, p.reply_to_message_id, env.actor.id
                )
            found["substantive_posts"], found["answered_questions"] = kept.value_counts(pk)
        elif isinstance(p, MemberJoined | JoinRequested):
            found["joins_10m"], found["joins_1h"], found["joins_24h"] = kept.join_counts(pk, now)
            found["held_joins"] = kept.held_count(pk)
            found["review_approved"] = kept.review_approved(pk, p.member.id)
            if p.inviter is not None and p.inviter.id and p.inviter.id != p.member.id:
                found["inviter"] = kept.inviter_record(tx, p.inviter.id, now)
            if isinstance(p, JoinRequested):
                bio = features.domains(features.of(p.bio).plain_links())
                found["blocked_domains"] = kept.blocked_domains(env.tenant, bio)
        return TrustContext(**found)

    # ------------------------------------------------------------ enrich (pure)
    def enrich(
        self, event: Event, ctx: ChatContext, loaded: TrustContext | None
    ) -> Mapping[str, Mapping[str, Any]]:
        return sections(event, loaded, self._phishing, self._spam_model)

    # ------------------------------------------------------------ write (I/O)
    def write(
        self, tx: ChatTx, event: Event, loaded: TrustContext | None, result: Evaluation
    ) -> None:
        p = event.payload
        if isinstance(p, MessagePosted):
            self._write_message(tx, event, p, result)
        elif isinstance(p, MemberJoined | JoinRequested):
            self._write_join(tx, event, p, result)
        elif isinstance(p, MemberLeft):
            at = event.envelope.occurred_at
            leave = result.fact.get("leave", {})
            by_admin = bool(leave.get("by_admin")) if isinstance(leave, Mapping) else False
            kept = tx.pending(q.ScreeningBatch)
            kept.invitee_left(tx, p.member.id, at, by_admin=by_admin)
            kept.close_pending(tx.chat_pk, p.member.id, HeldStatus.WITHDRAWN, at)

    def _write_message(
        self, tx: ChatTx, event: Event, p: MessagePosted, result: Evaluation
    ) -> None:
        env = event.envelope
        pk, at = tx.chat_pk, env.occurred_at
        message = result.fact.get("message", {})
        if not isinstance(message, Mapping):
            return
        actor = env.actor
        struck = next(
            (a.rule_id for a in result.decision.actions if a.rule_id.startswith(STRIKE_PREFIX)),
            None,
        )
        if actor is not None and struck is not None:
            tx.pending(q.ScreeningBatch).add_strike(pk, actor.id, at, struck)
        answers = bool(message.get("answers_question"))
        substantive = int(bool(message.get("substantive")))
        tx.pending(q.ScreeningBatch).add_value(pk, substantive, int(answers))
        if answers:
            tx.pending(q.ScreeningBatch).answered(pk, p.reply_to_message_id, at)
        if message.get("is_question") and p.message_id and actor is not None:
            tx.pending(q.ScreeningBatch).ask(pk, p.message_id, actor.id, at)
        signals = list(message.get("promo_signals", ()))
        tx.after_commit(lambda: self._observer.observe_promo_signals(signals))

    def _write_join(
        self, tx: ChatTx, event: Event, p: MemberJoined | JoinRequested, result: Evaluation
    ) -> None:
        env = event.envelope
        pk, at = tx.chat_pk, env.occurred_at
        member = p.member.id
        decision = result.decision
        kept = tx.pending(q.ScreeningBatch)
        kept.log_join(pk, member, at)
        refused = _targets(decision, member, _REFUSING)
        held_by = None if refused else _hold_of(decision, member)
        inviter = p.inviter.id if p.inviter is not None else ""
        if inviter and inviter != member:
            if refused:
                outcome = Outcome.REFUSED
            elif held_by is not None:
                outcome = Outcome.HELD
            else:
                joined = isinstance(p, MemberJoined) and admitted(decision, member)
                outcome = Outcome.JOINED if joined else Outcome.REQUESTED
            kept.record_invite(tx, inviter, member, at, outcome)
        if held_by is not None:
            reason = next((m.reason for m in decision.trace if m.rule_id == held_by), "")
            kept.hold(
                pk,
                {
                    "user_id": member,
                    "display_name": p.member.display_name,
                    "inviter_id": inviter,
                    "event_id": env.event_id,
                    "event_kind": event.kind.value,
                    "rule_id": held_by,
                    "reason": reason,
                    "held_at": at,
                },
            )
            tx.after_commit(self._observer.observe_join_held)
        elif isinstance(p, MemberJoined) and not refused:
            # let in on the platform (an admin approved there): the queue entry is settled
            kept.close_pending(pk, member, HeldStatus.APPROVED, at)


def _targets(decision: Decision, member: str, types: frozenset[ActionType]) -> bool:
    return any(a.type in types and a.target_user_id in ("", member) for a in decision.actions)


def _hold_of(decision: Decision, member: str) -> str | None:
    """The rule that held this member for review, if one did."""
    for a in decision.actions:
        if a.type == ActionType.HOLD_FOR_REVIEW and a.target_user_id in ("", member):
            return a.rule_id
    return None
