"""Invite screening and monetization timing: the fact sections, from what the area loaded. Pure.

The area (``firekeeper.areas.screening.area``) loads a :class:`TrustContext` under the
chat lock; :func:`sections` turns it and the event into fact fields (see the
fields declared beside it, in
``firekeeper.areas.screening.pure.vocabulary``). Ratios are absent (not zero) while there is
nothing to measure them on, so ``inviter.invitees_removed_ratio >= 0.5`` is
false for an inviter nobody has judged yet.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Any

from firekeeper.domain.events import (
    Event,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    RoleChanged,
)
from firekeeper.rules import house_rules, promo, spam_model, value
from firekeeper.rules.spam_model import SpamModel
from firekeeper.rules.textmatch import PatternError, compile_pattern

LEFT_EARLY_DAYS = 3  # an invitee who leaves by themself within this many days "left early"
SILENT_AFTER_DAYS = 7  # an invitee who has not posted this long after joining is "silent"


@dataclass(frozen=True, slots=True)
class InviterRecord:
    """What became of the people one member invited into this chat."""

    invites_24h: int = 0  # invitations (joins and requests naming them) in the last 24 hours
    invites_7d: int = 0
    invitee_count: int = 0  # every invitation on record
    settled: int = 0  # invitations with an outcome (not waiting on a request or review)
    removed: int = 0  # removed or banned by an admin, or denied at review
    admitted: int = 0  # invitees who got in
    left_early: int = 0  # left by themselves within LEFT_EARLY_DAYS of joining
    aged: int = 0  # admitted at least SILENT_AFTER_DAYS ago
    silent: int = 0  # of those, never posted


@dataclass(frozen=True, slots=True)
class TrustContext:
    """What the screening area loaded for one event."""

    allowed_domains: tuple[str, ...] = ()
    entry_patterns: tuple[str, ...] = ()
    blocked_users: frozenset[str] = frozenset()  # ids among the event's people
    blocked_domains: frozenset[str] = frozenset()  # listed domains among the message's links
    joins_10m: int = 0
    joins_1h: int = 0
    joins_24h: int = 0
    held_joins: int = 0
    review_approved: bool = False
    inviter: InviterRecord | None = None
    strikes_24h: int = 0
    strikes_7d: int = 0
    strikes_30d: int = 0
    substantive_posts: int = 0
    answered_questions: int = 0
    replies_to_open_question: bool = False  # of someone else, not yet answered


def _ratio(part: int, whole: int) -> float | None:
    return None if whole <= 0 else round(part / whole, 4)


def inviter_fields(rec: InviterRecord) -> dict[str, Any]:
    out: dict[str, Any] = {
        "invites_24h": rec.invites_24h,
        "invites_7d": rec.invites_7d,
        "invitee_count": rec.invitee_count,
        "invitees_removed": rec.removed,
    }
    for name, ratio in (
        ("invitees_removed_ratio", _ratio(rec.removed, rec.settled)),
        ("invitees_left_early_ratio", _ratio(rec.left_early, rec.admitted)),
        ("invitees_silent_ratio", _ratio(rec.silent, rec.aged)),
    ):
        if ratio is not None:
            out[name] = ratio
    return out


def answers_match(answers: str, patterns: Collection[str]) -> tuple[bool, int]:
    """(all patterns found, how many were not). A pattern RE2 refuses never matches
    (patterns are checked when they are set, so this only guards old rows)."""
    missing = 0
    for pattern in patterns:
        try:
            found = compile_pattern(pattern).search(answers) is not None
        except PatternError:
            found = False
        missing += not found
    return missing == 0, missing


def _message(
    p: MessagePosted, tc: TrustContext, phishing: Collection[str], spam: SpamModel | None = None
) -> dict[str, dict[str, Any]]:
    def read(text: str) -> promo.PromoSignals:
        return promo.signals(
            text,
            (*p.links, *(a.url for a in p.attachments if a.url)),
            (a.kind for a in p.attachments),
            allowed=tc.allowed_domains,
            phishing=phishing,
            blocked=tc.blocked_domains,
        )

    sig = read(p.text)
    rules = house_rules.states_rules(p.text)
    if sig.promotion and rules and not (sig.has("obfuscated") or sig.has("ad_disclaimer")):
        # A rules notice names what it forbids ("no ads, no DM-me offers"): the signals
        # read what is left once its prohibitions are set aside (firekeeper.rules.house_rules).
        sig = replace(read(house_rules.outside_prohibitions(p.text)), plain_text=sig.plain_text)
    promotion = sig.promotion
    question = value.is_question(sig.plain_text)
    message = {
        "plain_text": sig.plain_text,
        "promo_score": sig.score,
        "promo_signals": list(sig.signals),
        "promotion": promotion,
        "paid_offer": sig.paid_offer,
        "states_rules": rules,
        "ordinary_link": sig.ordinary_link,
        "has_price": sig.has("price"),
        "private_contact_call": sig.has("private_contact"),
        "referral_code": sig.has("referral_code"),
        "earning_pitch": sig.has("earning_pitch"),
        "obfuscated": sig.has("obfuscated"),
        "outside_links": sig.outside_links,
        "shortener_links": sig.shortener_links,
        "payment_links": sig.payment_links,
        "chat_invite_links": sig.chat_invite_links,
        "phishing_links": sig.phishing_links,
        "blocked_links": sig.blocked_links,
        "substantive": value.substantive(
            sig.plain_text, promotion=promotion, is_forward=p.is_forward, is_edit=p.is_edit
        ),
        "is_question": question and not p.is_edit,
        "answers_question": tc.replies_to_open_question
        and not p.is_edit
        and value.answers(sig.plain_text, promotion=promotion),
    }
    learned = spam_model.spam_score(spam, sig.plain_text) if spam is not None else None
    if learned is not None:  # absent: no model loaded, or a language it was not trained on
        message["spam_score"] = round(learned, 4)
    actor = {
        "promo_strikes_24h": tc.strikes_24h,
        "promo_strikes_7d": tc.strikes_7d,
        "promo_strikes_30d": tc.strikes_30d,
    }
    chat = {
        "substantive_posts": tc.substantive_posts,
        "answered_questions": tc.answered_questions,
        "value_delivered": tc.substantive_posts + tc.answered_questions,
    }
    return {"message": message, "actor": actor, "chat": chat}


def _join(
    p: MemberJoined | JoinRequested, tc: TrustContext, phishing: Collection[str]
) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {
        "member": {
            "blocked": p.member.id in tc.blocked_users,
            "review_approved": tc.review_approved,
        },
        "chat": {
            "joins_10m": tc.joins_10m,
            "joins_1h": tc.joins_1h,
            "joins_24h": tc.joins_24h,
            "held_joins": tc.held_joins,
        },
    }
    inviter = p.inviter
    if inviter is not None and inviter.id and inviter.id != p.member.id:
        section = {"blocked": inviter.id in tc.blocked_users}
        section.update(inviter_fields(tc.inviter or InviterRecord()))
        out["inviter"] = section
    if isinstance(p, JoinRequested):
        bio = promo.signals(p.bio, phishing=phishing, blocked=tc.blocked_domains)
        request: dict[str, Any] = {"bio_promo_score": bio.score, "bio_links": len(bio.links)}
        if tc.entry_patterns:
            answers = "\n".join(a.answer for a in p.answers)
            ok, missing = answers_match(answers, tc.entry_patterns)
            request["answers_match"] = ok
            request["answers_missing"] = missing
        out["request"] = request
    return out


def sections(
    event: Event,
    tc: TrustContext | None,
    phishing: Collection[str] = (),
    spam: SpamModel | None = None,
) -> dict[str, dict[str, Any]]:
    """Fact sections for one event; nothing when the area loaded nothing. ``spam``: the
    learned spam model the runtime loaded (``message.spam_score``), if any."""
    if tc is None:
        return {}
    p = event.payload
    out: dict[str, dict[str, Any]] = {}
    if isinstance(p, MessagePosted):
        out = _message(p, tc, phishing, spam)
    elif isinstance(p, MemberJoined | JoinRequested):
        out = _join(p, tc, phishing)
    elif isinstance(p, MemberLeft | RoleChanged):
        out = {"member": {"blocked": p.member.id in tc.blocked_users}}
    actor = event.envelope.actor
    if actor is not None and actor.id:
        out.setdefault("actor", {})["blocked"] = actor.id in tc.blocked_users
    return out
