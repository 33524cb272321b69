"""A chat's health as measured from the store, and what the service makes of it.

Pure data. ``firekeeper.areas.lifecycle.health_queries`` measures :class:`HealthMetrics`,
``firekeeper.areas.lifecycle.pure.health`` judges them (status and diagnoses), the API converts
:class:`ChatHealth` to ``firekeeper.v1.ChatHealth``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from firekeeper.domain.chats import ChatKey


class HealthStatus(enum.StrEnum):
    NEW = "new"  # too young to judge, nothing said yet
    THRIVING = "thriving"
    STEADY = "steady"
    COOLING = "cooling"  # quieter than its kind's cadence, or falling
    DORMANT = "dormant"  # silent past its kind's cadence
    CEMETERY = "cemetery"  # the article's "digital cemetery"


class Pose(enum.StrEnum):
    """The article's six death poses, in its order."""

    UNPLANNED_EXPANSION = "unplanned_expansion"
    BORDERLESS_CHAT = "borderless_chat"
    PAY_WITHOUT_TRUST = "pay_without_trust"
    NO_LEADING = "no_leading"
    AIMLESS_RECRUITING = "aimless_recruiting"
    NO_DESIGNED_COMMUNICATION = "no_designed_communication"


class Finding(enum.StrEnum):
    PRESENT = "present"
    WATCH = "watch"
    ABSENT = "absent"
    NOT_ASSESSED = "not_assessed"


@dataclass(frozen=True, slots=True)
class HealthMetrics:
    """Measured at ``measured_at``; windows are rolling days ending then. Posters are
    people, not bots. ``None``: not measurable (no members, no messages to divide by)."""

    measured_at: datetime
    member_count: int = 0
    posters: int = 0
    poster_share: float | None = None
    daily_active_posters: int = 0
    monthly_active_posters: int = 0
    retention_cohort: int = 0
    joiner_retention: float | None = None
    joins_30d: int = 0
    leaves_30d: int = 0
    joiners_posted_share: float | None = None
    top3_share: float | None = None
    messages_7d: int = 0
    messages_prev_21d: int = 0
    activity_trend: float | None = None
    weeks_falling: int = 0
    days_since_last_message: int | None = None
    days_since_owner_spoke: int | None = None
    days_since_admin_spoke: int | None = None
    off_topic_share: float | None = None
    scored_messages_30d: int = 0
    new_themes_30d: int = 0
    notices_flagged_30d: int = 0
    age_days: int | None = None
    ever_spoke: bool = False  # anyone has posted since Firekeeper first saw the chat
    # decline as a trend (firekeeper.areas.lifecycle.pure.health.decline): the weekly
    # messages of the last two weeks against the weeks before; None when too few weeks were watched
    messages_usual_week: int | None = None
    activity_drop_percent: int | None = None
    activity_declining: bool = False
    # does conversation run without the owner: people other than the owner who posted
    # in the last 30 days, and the owner's share of those days' messages
    others_active_30d: int = 0
    owner_message_share: float | None = None

    @property
    def net_joins_30d(self) -> int:
        return self.joins_30d - self.leaves_30d


@dataclass(frozen=True, slots=True)
class Diagnosis:
    pose: Pose
    finding: Finding
    evidence: str


@dataclass(frozen=True, slots=True)
class ChatHealth:
    key: ChatKey
    kind: str
    status: HealthStatus
    status_reason: str
    metrics: HealthMetrics
    diagnoses: tuple[Diagnosis, ...]
    # young | established | mature (firekeeper.areas.lifecycle.pure.health.maturity)
    maturity: str = ""
