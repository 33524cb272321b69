"""Chats and members as the store keeps them, and what an event changes.

These are immutable snapshots. The pipeline loads them inside the event's
transaction, the pure core computes new snapshots (``firekeeper.rules.state``),
and the store writes those back in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from firekeeper.domain.events import Platform, Role


@dataclass(frozen=True, slots=True)
class ChatKey:
    platform: Platform
    tenant: str
    chat_id: str

    def __str__(self) -> str:
        return f"{self.platform.value}/{self.tenant}/{self.chat_id}"


@dataclass(frozen=True, slots=True)
class ChannelTheme:
    """The theme of one channel, forum topic or thread (by its id); it replaces the
    chat's theme there. No keywords, phrases or examples: a free-talk channel, not scored."""

    channel_id: str
    keywords: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Theme:
    """What a group is about: keywords, phrases, and example messages written the way
    its members talk about it (firekeeper.areas.lifecycle.pure.theme_vocab), in its languages."""

    keywords: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    channels: tuple[ChannelTheme, ...] = ()  # per-channel themes, see ChannelTheme
    examples: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatRecord:
    key: ChatKey
    ruleset: str = ""  # empty: the default ruleset for its kind
    kind: str = "unspecified"  # work, hobby, growth, family, entertainment, goal, unspecified
    theme: Theme = field(default_factory=Theme)
    created_at: datetime | None = None
    params: tuple[tuple[str, str], ...] = ()  # overrides, sorted by name; values as YAML scalars
    member_count: int = 0
    title: str = ""
    message_count: int = 0
    last_message_at: datetime | None = None
    owner_id: str = ""
    events_processed: int = 0
    registered: bool = False  # True once RegisterChat was called; False if created by an event
    # Languages (firekeeper.rules.language): the one declared at registration (BCP 47,
    # "" when none), the one detected from the chat's messages ("" until it can tell),
    # and the weighted letter counts by script the detection keeps, sorted by script.
    language: str = ""
    detected_language: str = ""
    language_evidence: tuple[tuple[str, float], ...] = ()

    def param_overrides(self) -> dict[str, str]:
        return dict(self.params)


@dataclass(frozen=True, slots=True)
class MemberRecord:
    user_id: str
    display_name: str = ""
    is_bot: bool = False
    role: Role = Role.MEMBER
    is_member: bool = False
    joined_at: datetime | None = None  # the latest join
    first_joined_at: datetime | None = None
    left_at: datetime | None = None
    inviter_id: str = ""
    message_count: int = 0
    last_seen_at: datetime | None = None
    invited_count: int = 0
    account_created_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ChatContext:
    """What the store knows that an event's evaluation may use."""

    chat: ChatRecord
    # by user id: the actor, the subject member, the inviter (those the store knows)
    members: dict[str, MemberRecord]
    # The theme of the ruleset this event is evaluated with (its profile), set by
    # the pipeline; areas use it when the chat registered no theme of its own.
    profile_theme: Theme | None = None
    # The language the event's texts are written in for people (one of the
    # ruleset's), set by the pure core before the feature stages run.
    language: str = ""


@dataclass(frozen=True, slots=True)
class StateChanges:
    """New snapshots to write in the event's transaction (only changed rows)."""

    chat: ChatRecord
    members: tuple[MemberRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class ChatRegistration:
    key: ChatKey
    ruleset: str = ""
    kind: str = "unspecified"
    theme: Theme = field(default_factory=Theme)
    created_at: datetime | None = None
    params: dict[str, str] = field(default_factory=dict)
    title: str = ""
    member_count: int | None = None
    owner_id: str = ""
    language: str = ""  # BCP 47, e.g. zh-Hans; "" = detect it from the chat's messages
