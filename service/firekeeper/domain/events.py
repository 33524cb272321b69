"""Normalized chat events, as adapters report them.

These mirror ``proto/firekeeper/v1/firekeeper.proto`` but are plain frozen
dataclasses: the API layer converts protobuf messages to these and nothing past
it sees generated types. Times are timezone-aware ``datetime`` values in UTC.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime


class Platform(enum.StrEnum):
    TELEGRAM = "telegram"
    DISCORD = "discord"
    WECOM = "wecom"
    SLACK = "slack"
    MATRIX = "matrix"
    OTHER = "other"


class Role(enum.StrEnum):
    MEMBER = "member"
    ADMIN = "admin"
    OWNER = "owner"
    RESTRICTED = "restricted"


class JoinMethod(enum.StrEnum):
    UNKNOWN = "unknown"
    INVITE_LINK = "invite_link"
    ADDED_BY_MEMBER = "added_by_member"
    JOIN_REQUEST = "join_request"
    QR_CODE = "qr_code"
    SELF = "self"


class LeaveReason(enum.StrEnum):
    UNKNOWN = "unknown"
    LEFT = "left"
    REMOVED = "removed"
    BANNED = "banned"


class EventKind(enum.StrEnum):
    """The value of a rule's ``on:`` key."""

    MESSAGE_POSTED = "message.posted"
    MEMBER_JOINED = "member.joined"
    JOIN_REQUESTED = "join.requested"
    MEMBER_LEFT = "member.left"
    CHAT_UPDATED = "chat.updated"
    ROLE_CHANGED = "role.changed"
    CHAT_TICK = "chat.tick"


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    display_name: str = ""
    is_bot: bool = False
    role: Role = Role.MEMBER
    account_created_at: datetime | None = None
    language_code: str = ""
    is_premium: bool = False


@dataclass(frozen=True, slots=True)
class Envelope:
    event_id: str
    platform: Platform
    tenant: str
    chat_id: str
    occurred_at: datetime
    actor: Actor | None
    channel_id: str = ""
    thread_id: str = ""


@dataclass(frozen=True, slots=True)
class Attachment:
    # image, video, audio, voice, file, sticker, link_card, mini_program,
    # contact_card, qr_code, poll, location, story, other
    kind: str
    url: str = ""
    title: str = ""
    description: str = ""
    file_name: str = ""


@dataclass(frozen=True, slots=True)
class Mention:
    user_id: str = ""
    everyone: bool = False
    role_id: str = ""


@dataclass(frozen=True, slots=True)
class MessagePosted:
    message_id: str
    text: str = ""
    links: tuple[str, ...] = ()
    mentions: tuple[Mention, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    reply_to_message_id: str = ""
    reply_to_user_id: str = ""
    is_forward: bool = False
    forwarded_from: str = ""
    is_announcement: bool = False
    is_pinned_notice: bool = False
    is_edit: bool = False

    kind = EventKind.MESSAGE_POSTED


@dataclass(frozen=True, slots=True)
class MemberJoined:
    member: Actor
    inviter: Actor | None = None
    method: JoinMethod = JoinMethod.UNKNOWN
    invite_link: str = ""

    kind = EventKind.MEMBER_JOINED


@dataclass(frozen=True, slots=True)
class EntryAnswer:
    question: str
    answer: str


@dataclass(frozen=True, slots=True)
class JoinRequested:
    member: Actor
    answers: tuple[EntryAnswer, ...] = ()
    bio: str = ""
    invite_link: str = ""
    inviter: Actor | None = None

    kind = EventKind.JOIN_REQUESTED


@dataclass(frozen=True, slots=True)
class MemberLeft:
    member: Actor
    reason: LeaveReason = LeaveReason.UNKNOWN
    removed_by: Actor | None = None

    kind = EventKind.MEMBER_LEFT


@dataclass(frozen=True, slots=True)
class ChatUpdated:
    title: str = ""
    announcement_text: str = ""
    platform_member_count: int | None = None
    title_changed: bool = False
    announcement_changed: bool = False

    kind = EventKind.CHAT_UPDATED


@dataclass(frozen=True, slots=True)
class RoleChanged:
    member: Actor
    old_role: Role = Role.MEMBER
    new_role: Role = Role.MEMBER

    kind = EventKind.ROLE_CHANGED


@dataclass(frozen=True, slots=True)
class ChatTick:
    """Time passing, from the service's own scheduler (never from an adapter's clock).

    One per chat per period; the envelope's ``event_id`` is
    ``tick:<chat_id>:<period_seconds>s:<period_index>``, so a tick is evaluated
    once however many replicas or restarts try; the envelope has no actor and
    ``occurred_at`` is the start of the period.
    """

    period_seconds: int
    period_index: int = 0

    kind = EventKind.CHAT_TICK


Payload = (
    MessagePosted | MemberJoined | JoinRequested | MemberLeft | ChatUpdated | RoleChanged | ChatTick
)


@dataclass(frozen=True, slots=True)
class Event:
    envelope: Envelope
    payload: Payload = field()

    @property
    def kind(self) -> EventKind:
        return self.payload.kind
