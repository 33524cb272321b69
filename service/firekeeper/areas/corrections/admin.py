"""What admins' corrections do: check them, store them once, teach the tenant's samples.

A correction names a chat, a kind, the admin who made it (their member id in that
chat) and, except for a missed spam given as text, the event whose decision it
corrects:

    not_spam        a message a rule acted on was fine: a false positive of each rule
                    that acted; its text becomes a ham sample of the tenant
    missed_spam     a message no rule caught was spam: its text (the stored event's,
                    or the one given) becomes a spam sample
    join_was_fine   a join a rule held, denied or removed was fine: a false positive
                    of those rules (no sample)

Guards against poisoning, all checked under the chat's lock before anything is
written: the reporter must be the chat's owner or an admin in the stored
membership (:class:`NotAnAdmin`, PERMISSION_DENIED); a correction of a decision
needs that decision stored for this chat (:class:`DecisionNotFound`); a ham sample is
always the text the service itself saw and acted on, never a text the caller
supplies; and a text reported as spam by an admin outranks the same text reported as
ham (``firekeeper.areas.corrections.pure.features``). The same correction twice is stored once
(``stored=False`` the second time).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from firekeeper.areas.corrections import queries as q
from firekeeper.areas.corrections.area import SampleCache
from firekeeper.areas.corrections.pure.features import HAM, SPAM, digest, normalize
from firekeeper.domain.chats import ChatRecord, MemberRecord
from firekeeper.domain.corrections import (
    CorrectionKind,
    CorrectionOutcome,
    CorrectionRequest,
    RuleCorrections,
)
from firekeeper.domain.decisions import ActionType, Decision
from firekeeper.domain.events import Event, JoinRequested, MemberJoined, MessagePosted, Role
from firekeeper.errors import (
    ChatNotFound,
    DecisionNotFound,
    InvalidEvent,
    NotAnAdmin,
    NotCorrectable,
)
from firekeeper.store import Store

MAX_ID_CHARS = 256
MAX_NOTE_CHARS = 2000
MAX_TEXT_CHARS = 16 * 1024
MAX_LANG_CHARS = 35
# actions that are not a judgement on the member or the message
_NEUTRAL = frozenset({ActionType.APPROVE_JOIN, ActionType.POST_MESSAGE, ActionType.MESSAGE_USER})


class CorrectionObserver(Protocol):
    """Metrics (``metrics.CorrectionsMetrics`` implements it)."""

    def observe_correction(self, kind: str, ruleset: str, rule_ids: Sequence[str]) -> None: ...


class _Quiet:
    def observe_correction(self, kind: str, ruleset: str, rule_ids: Sequence[str]) -> None:
        return None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _bounded(value: str, path: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidEvent(path, f"too long: {len(value)} characters, at most {limit}")
    return value


def check_request(req: CorrectionRequest) -> CorrectionRequest:
    """The request's own bounds (the chat and the decision are checked in the store)."""
    if not req.reporter_id.strip():
        raise InvalidEvent("reporter_id", "required: the member id of the admin who corrected")
    _bounded(req.reporter_id, "reporter_id", MAX_ID_CHARS)
    _bounded(req.event_id, "event_id", MAX_ID_CHARS)
    _bounded(req.note, "note", MAX_NOTE_CHARS)
    _bounded(req.lang, "lang", MAX_LANG_CHARS)
    _bounded(req.text, "text", MAX_TEXT_CHARS)
    if req.kind == CorrectionKind.MISSED_SPAM:
        if req.event_id and req.text:
            raise InvalidEvent(
                "text", "give the event id of the stored message or its text, not both"
            )
        if not req.event_id and not normalize(req.text):
            raise InvalidEvent(
                "text",
                "required without an event id: the missed message's text (letters or digits)",
            )
    else:
        if not req.event_id:
            raise InvalidEvent(
                "event_id", f"required for {req.kind.value}: the corrected decision's event"
            )
        if req.text:
            raise InvalidEvent(
                "text", f"only for missed_spam: {req.kind.value} uses the stored event's text"
            )
    return req


def is_admin(chat: ChatRecord, record: MemberRecord | None, user_id: str) -> bool:
    """The chat's recorded owner, or a current member whose stored role is admin or owner."""
    if chat.owner_id and user_id == chat.owner_id:
        return True
    return record is not None and record.is_member and record.role in (Role.ADMIN, Role.OWNER)


def _acting_rules(decision: Decision) -> tuple[str, ...]:
    """The rules that judged the message or member (neutral actions left out), in order."""
    out: list[str] = []
    for a in decision.actions:
        if a.type not in _NEUTRAL and a.rule_id and a.rule_id not in out:
            out.append(a.rule_id)
    return tuple(out)


def _language(req: CorrectionRequest, event: Event | None) -> str:
    if req.lang:
        return req.lang
    actor = event.envelope.actor if event is not None else None
    return (actor.language_code if actor is not None else "")[:MAX_LANG_CHARS]


class CorrectionsAdmin:
    """The Corrections API's port onto the store. Every method may block on I/O."""

    def __init__(
        self,
        store: Store,
        cache: SampleCache | None = None,
        *,
        observer: CorrectionObserver | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._store = store
        self._cache = cache
        self._observer: CorrectionObserver = observer or _Quiet()
        self._clock = clock

    def report(self, req: CorrectionRequest) -> CorrectionOutcome:
        check_request(req)
        key = req.chat
        if self._store.get_chat(key) is None:
            raise ChatNotFound(str(key))
        now = self._clock()
        with self._store.chat_transaction(key) as tx:
            reporter = req.reporter_id.strip()
            if not is_admin(tx.chat, tx.members([reporter]).get(reporter), reporter):
                raise NotAnAdmin(str(key), reporter)
            values: dict[str, Any] = {
                "tenant": key.tenant,
                "platform": key.platform.value,
                "chat_id": key.chat_id,
                "kind": req.kind.value,
                "event_id": req.event_id,
                "reporter_id": reporter,
                "note": req.note,
                "reported_at": now,
            }
            if req.event_id:
                found = q.decided(tx.connection, key.tenant, key.platform, req.event_id)
                if found is None or found[0] != tx.chat_pk:
                    raise DecisionNotFound(str(key), req.event_id)
                _pk, event, decision, decided_at = found
                values |= self._of_decision(req, event, decision, decided_at)
            else:  # missed spam, given as text
                values |= {
                    "dedupe_key": f"text:{digest(normalize(req.text))}",
                    "ruleset": tx.chat.ruleset,
                    "rule_ids": [],
                    "label": SPAM,
                    "text": req.text,
                    "lang": _language(req, None),
                    "decided_at": None,
                    "counted_at": now,
                }
            correction, new = q.record(tx.connection, values)
            if new:
                tx.after_commit(lambda: self._stored(correction.chat.tenant, req.kind, values))
        return CorrectionOutcome(correction, new)

    def _stored(self, tenant: str, kind: CorrectionKind, values: dict[str, Any]) -> None:
        if self._cache is not None:
            self._cache.invalidate(tenant)
        self._observer.observe_correction(kind.value, values["ruleset"], values["rule_ids"])

    def _of_decision(
        self, req: CorrectionRequest, event: Event, decision: Decision, decided_at: datetime
    ) -> dict[str, Any]:
        p = event.payload
        eid = req.event_id
        rules = _acting_rules(decision)
        if req.kind == CorrectionKind.JOIN_WAS_FINE:
            if not isinstance(p, MemberJoined | JoinRequested):
                raise NotCorrectable(
                    eid, f"join_was_fine corrects a join, this was {event.kind.value}"
                )
            if not rules:
                raise NotCorrectable(eid, "no rule held, denied or removed this join")
            label, text = "", ""
        else:
            if not isinstance(p, MessagePosted):
                raise NotCorrectable(
                    eid, f"{req.kind.value} corrects a message, this was {event.kind.value}"
                )
            text = p.text
            if req.kind == CorrectionKind.NOT_SPAM:
                if not rules:
                    raise NotCorrectable(
                        eid, "no rule acted on this message: there is nothing to undo"
                    )
                label = HAM
            else:
                label, rules = SPAM, ()
            if not normalize(text):
                label = ""  # no letters or digits: nothing to match against later
        return {
            "dedupe_key": f"event:{eid}",
            "ruleset": decision.ruleset,
            "rule_ids": list(rules),
            "label": label,
            "text": text if label else "",
            "lang": _language(req, event),
            "decided_at": decided_at,
            "counted_at": decided_at,
        }

    def rule_report(
        self,
        tenant: str | None = None,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[RuleCorrections]:
        """Per rule: actions, false positives and missed spam (every tenant when None)."""
        return q.false_positives_by_rule(self._store, tenant=tenant, since=since, until=until)
