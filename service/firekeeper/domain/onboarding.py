"""A group's history from before Firekeeper saw it, as an adapter reads it from the
platform (``Governance.ImportChatHistory``): its members with their join dates, roles,
message counts and last messages, and its messages per day for the last weeks, so
tenure gates, maturity, health and decline are right from the first event.

Importing is a merge that can be repeated (docs/lifecycle.md#onboarding): the same
history twice changes nothing the second time, and what the service has seen live
always wins over what the import says about the same days and members.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from firekeeper.domain.events import Role

MAX_MEMBERS = 10_000  # per call; a larger group is imported in several calls
MAX_DAYS = 120  # the days of activity the store keeps (firekeeper.areas.lifecycle.queries)


@dataclass(frozen=True, slots=True)
class MemberHistory:
    user_id: str
    display_name: str = ""
    role: Role = Role.MEMBER
    is_bot: bool = False
    joined_at: datetime | None = None  # first join; the member's tenure counts from it
    message_count: int = 0  # all time
    last_message_at: datetime | None = None
    messages_30d: int = 0  # in the 30 days before the history's ``as_of``


@dataclass(frozen=True, slots=True)
class DayActivity:
    day: date  # UTC
    messages: int


@dataclass(frozen=True, slots=True)
class ChatHistory:
    as_of: datetime  # when the adapter read it
    members: tuple[MemberHistory, ...] = ()
    days: tuple[DayActivity, ...] = ()
    # the value the group delivered before (firekeeper.rules.value: substantive posts,
    # answered questions), when the adapter can count it in the history; 0: unknown
    substantive_posts: int = 0
    answered_questions: int = 0


@dataclass(frozen=True, slots=True)
class ImportSummary:
    members_added: int
    members_updated: int  # known already: merged (live values win)
    days_imported: int
    days_skipped: int  # days the service has counted live already
    watched_since: datetime  # health and decline now count from here
