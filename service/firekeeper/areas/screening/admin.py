"""What admins do through the Screening API: the review queue, the blocklist, chat settings.

Resolving a held join answers with a :class:`Decision` the adapter carries out
like any other: ``approve_join`` or ``deny_join`` on the member, with the
original event's kind beside it (a held ``member.joined`` member is already in:
approving counts them in; denying removes them). Resolving again the same way
returns the same answer; the other way is refused (``AlreadyResolved``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from firekeeper.areas.screening import queries as q
from firekeeper.areas.screening import review
from firekeeper.areas.screening.tables import Outcome
from firekeeper.domain.chats import ChatKey, StateChanges
from firekeeper.domain.decisions import Action, ActionType, Decision, RuleMatch, RuleMode
from firekeeper.domain.events import EventKind, Platform
from firekeeper.domain.screening import (
    BlockEntry,
    BlockKind,
    BlockPage,
    ChatScreening,
    HeldJoin,
    HeldPage,
    HeldStatus,
    Resolution,
)
from firekeeper.errors import AlreadyResolved, ChatNotFound, HeldJoinNotFound, InvalidEvent
from firekeeper.rules import domains as dl
from firekeeper.rules.textmatch import PatternError, compile_pattern
from firekeeper.store import ChatTx, Store

MAX_PAGE = 500
MAX_ENTRIES = 1000
MAX_DOMAINS = 200
MAX_PATTERNS = 20
MAX_PATTERN_CHARS = 1000

_STATUS = {Resolution.APPROVE: HeldStatus.APPROVED, Resolution.DENY: HeldStatus.DENIED}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def page_size(limit: int, path: str = "limit") -> int:
    if limit < 0 or limit > MAX_PAGE:
        raise InvalidEvent(path, f"must be 0 (the default, 100) to {MAX_PAGE}, not {limit}")
    return limit or 100


def check_entries(entries: Sequence[BlockEntry], path: str = "entries") -> list[BlockEntry]:
    """Entries as stored: user ids with their platform, domains normalized."""
    if not entries:
        raise InvalidEvent(path, "required: at least one entry")
    if len(entries) > MAX_ENTRIES:
        raise InvalidEvent(path, f"{len(entries)} entries, at most {MAX_ENTRIES} per call")
    out = []
    for i, e in enumerate(entries):
        if e.kind == BlockKind.USER:
            if e.platform is None:
                raise InvalidEvent(f"{path}[{i}].platform", "required for a user entry")
            if not e.value.strip():
                raise InvalidEvent(f"{path}[{i}].value", "required: the platform user id")
            out.append(replace(e, value=e.value.strip()))
        else:
            domain = dl.normalize(e.value)
            if not domain:
                raise InvalidEvent(f"{path}[{i}].value", f"{e.value!r} is not a domain")
            out.append(replace(e, value=domain, platform=None))
    return out


def check_settings(s: ChatScreening) -> ChatScreening:
    if len(s.allowed_domains) > MAX_DOMAINS:
        raise InvalidEvent("allowed_domains", f"at most {MAX_DOMAINS} domains")
    if len(s.entry_patterns) > MAX_PATTERNS:
        raise InvalidEvent("entry_patterns", f"at most {MAX_PATTERNS} patterns")
    domains: list[str] = []
    for i, raw in enumerate(s.allowed_domains):
        d = dl.normalize(raw)
        if not d:
            raise InvalidEvent(f"allowed_domains[{i}]", f"{raw!r} is not a domain")
        if d not in domains:
            domains.append(d)
    for i, pattern in enumerate(s.entry_patterns):
        path = f"entry_patterns[{i}]"
        if not pattern.strip():
            raise InvalidEvent(path, "empty pattern")
        if len(pattern) > MAX_PATTERN_CHARS:
            raise InvalidEvent(path, f"longer than {MAX_PATTERN_CHARS} characters")
        try:
            compile_pattern(pattern)
        except PatternError as exc:
            raise InvalidEvent(path, f"not a valid RE2 pattern: {exc}") from None
    return replace(s, allowed_domains=tuple(domains))


class ScreeningAdmin:
    """The Screening API's port onto the store. Every method may block on I/O."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self._store = store
        self._clock = clock

    # ------------------------------------------------------------ review queue
    def list_held(
        self,
        tenant: str,
        *,
        platform: Platform | None = None,
        chat_id: str = "",
        include_resolved: bool = False,
        limit: int = 0,
        after: int = 0,
    ) -> HeldPage:
        if not tenant:
            raise InvalidEvent("tenant", "required")
        statuses = tuple(HeldStatus) if include_resolved else (HeldStatus.PENDING,)
        with review.transaction(self._store, "list held joins", write=False) as conn:
            return review.list_held(
                conn,
                tenant,
                platform=platform,
                chat_id=chat_id,
                statuses=statuses,
                limit=page_size(limit),
                after=after,
            )

    def resolve(
        self, key: ChatKey, user_id: str, resolution: Resolution, admin_id: str, note: str = ""
    ) -> tuple[HeldJoin, Decision]:
        if not user_id:
            raise InvalidEvent("user_id", "required")
        if self._store.get_chat(key) is None:
            raise ChatNotFound(str(key))
        now = self._clock()
        wanted = _STATUS[resolution]
        with self._store.chat_transaction(key) as tx:
            entry = review.get_held(tx.connection, tx.chat_pk, user_id)
            if entry is None:
                raise HeldJoinNotFound(str(key), user_id)
            if entry.status == HeldStatus.PENDING:
                review.set_status(tx.connection, entry.id, wanted, now, admin_id, note)
                self._settle(tx, entry, resolution, now)
                entry = replace(
                    entry, status=wanted, resolved_at=now, resolved_by=admin_id, note=note
                )
            elif entry.status != wanted:
                raise AlreadyResolved(str(key), user_id, entry.status.value)
        return entry, _decision(entry, resolution)

    def _settle(self, tx: ChatTx, entry: HeldJoin, resolution: Resolution, now: datetime) -> None:
        conn, pk = tx.connection, tx.chat_pk
        joined_event = entry.event_kind == EventKind.MEMBER_JOINED.value
        if resolution == Resolution.DENY:
            q.resolve_invite(conn, pk, entry.user_id, now, Outcome.DENIED)
            return
        q.resolve_invite(
            conn, pk, entry.user_id, now, Outcome.JOINED if joined_event else Outcome.REQUESTED
        )
        if not joined_event:
            return  # the platform's member.joined, after the adapter approves, counts them
        # The member has been in since the held join; the store counted them out.
        people = tx.members([entry.user_id, entry.inviter_id])
        record = people.get(entry.user_id)
        if record is None or record.is_member:
            return
        changed = [
            replace(
                record,
                is_member=True,
                joined_at=entry.held_at,
                first_joined_at=record.first_joined_at or entry.held_at,
                left_at=None,
            )
        ]
        inviter = people.get(entry.inviter_id)
        if inviter is not None and inviter.user_id != record.user_id:
            changed.append(replace(inviter, invited_count=inviter.invited_count + 1))
        chat = replace(tx.chat, member_count=tx.chat.member_count + 1)
        tx.apply(StateChanges(chat=chat, members=tuple(changed)))

    # ------------------------------------------------------------ blocklist
    def add_blocklist(self, tenant: str, entries: Sequence[BlockEntry]) -> int:
        if not tenant:
            raise InvalidEvent("tenant", "required")
        checked = check_entries(entries)
        with review.transaction(self._store, "add blocklist entries", write=True) as conn:
            return review.add_entries(conn, tenant, checked, self._clock())

    def remove_blocklist(self, tenant: str, entries: Sequence[BlockEntry]) -> int:
        if not tenant:
            raise InvalidEvent("tenant", "required")
        checked = check_entries(entries)
        with review.transaction(self._store, "remove blocklist entries", write=True) as conn:
            return review.remove_entries(conn, tenant, checked)

    def list_blocklist(
        self, tenant: str, *, kind: BlockKind | None = None, limit: int = 0, after: int = 0
    ) -> BlockPage:
        if not tenant:
            raise InvalidEvent("tenant", "required")
        with review.transaction(self._store, "list the blocklist", write=False) as conn:
            return review.list_entries(conn, tenant, kind=kind, limit=page_size(limit), after=after)

    # ------------------------------------------------------------ chat settings
    def get_settings(self, key: ChatKey) -> ChatScreening:
        with review.transaction(self._store, f"read screening of {key}", write=False) as conn:
            known, domains, patterns, updated = review.settings_of(conn, key)
        if not known:
            raise ChatNotFound(str(key))
        return ChatScreening(key, domains, patterns, updated)

    def set_settings(self, wanted: ChatScreening) -> ChatScreening:
        checked = check_settings(wanted)
        now = self._clock()
        with self._store.chat_transaction(checked.chat) as tx:
            review.save_settings(
                tx.connection, tx.chat_pk, checked.allowed_domains, checked.entry_patterns, now
            )
        return replace(checked, updated_at=now)

    def queue_depth(self) -> int:
        return review.queue_depth(self._store)


def _decision(entry: HeldJoin, resolution: Resolution) -> Decision:
    approve = resolution == Resolution.APPROVE
    rule = "review.approve" if approve else "review.deny"
    who = entry.resolved_by or "an admin"
    reason = f"{'approved' if approve else 'denied'} by {who} from the review queue"
    if entry.note:
        reason += f": {entry.note}"
    action = Action(
        type=ActionType.APPROVE_JOIN if approve else ActionType.DENY_JOIN,
        rule_id=rule,
        target_user_id=entry.user_id,
        chat_id=entry.chat.chat_id,
    )
    return Decision(
        event_id=f"review:{entry.id}:{entry.status.value}",
        actions=(action,),
        trace=(RuleMatch(rule, RuleMode.ENFORCE, reason, (("member.id", f'"{entry.user_id}"'),)),),
        ruleset="",
        ruleset_version="",
        decided_at=entry.resolved_at or entry.held_at,
    )
