"""Values of invite screening: the review queue, the tenant blocklist, a chat's screening settings.

Pure data, no I/O. The store keeps them (``firekeeper.areas.screening.tables``), the API
converts them (``firekeeper.api.screening_convert``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform


class HeldStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    WITHDRAWN = "withdrawn"  # the member left before anyone decided


class Resolution(enum.StrEnum):
    APPROVE = "approve"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class HeldJoin:
    """A join a rule held for review, waiting for an admin (or already decided)."""

    id: int
    chat: ChatKey
    user_id: str
    display_name: str
    inviter_id: str
    event_id: str  # the event whose decision held the join
    event_kind: str  # member.joined or join.requested: what the adapter must undo or answer
    rule_id: str
    reason: str
    held_at: datetime
    status: HeldStatus = HeldStatus.PENDING
    resolved_at: datetime | None = None
    resolved_by: str = ""
    note: str = ""


class BlockKind(enum.StrEnum):
    USER = "user"  # a (platform, user id): blocked in every chat of the tenant on that platform
    DOMAIN = "domain"  # a domain and its subdomains: blocked on every platform


@dataclass(frozen=True, slots=True)
class BlockEntry:
    kind: BlockKind
    value: str  # user id, or a normalized domain
    platform: Platform | None = None  # users only
    note: str = ""
    added_by: str = ""
    added_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChatScreening:
    """Per-chat settings that are lists, so they do not fit ruleset params.

    ``allowed_domains``: the chat's own domains; links to them are never
    promotion signals. ``entry_patterns``: RE2 patterns that the answers to the
    entry questions must all match (search semantics; write ``(?i)`` for case
    folding and alternatives for the group's languages: ``(?i)rust|锈``).
    """

    chat: ChatKey
    allowed_domains: tuple[str, ...] = ()
    entry_patterns: tuple[str, ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class HeldPage:
    items: tuple[HeldJoin, ...]
    next_after: int = 0  # 0: no more


@dataclass(frozen=True, slots=True)
class BlockPage:
    items: tuple[BlockEntry, ...] = field(default=())
    next_after: int = 0
