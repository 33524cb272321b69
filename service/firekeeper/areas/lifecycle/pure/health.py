"""Judging a chat's health: a status and a diagnosis per death pose. Pure.

Cadence depends on the kind of group (the article: "many groups originally
have a natural life cycle"), in days:

| kind | quiet | dormant | cemetery | owner silent | why |
|---|---|---|---|---|---|
| goal | 2 | 7 | 21 | 5 | daily check-ins; "if the goal is vague ... the group will be dead" |
| entertainment | 2 | 10 | 30 | 14 | "the topic switches very quickly": quiet fun is dying fun |
| growth | 3 | 14 | 30 | 7 | value must keep coming; "the cold field rate is very high" |
| hobby | 4 | 14 | 30 | 10 | "common enthusiasm is the glue", events are weekly at best |
| work | 5 | 21 | 60 | 14 | lives by necessity, "the power of life and death is not in your hands" |
| family | 7 | 30 | 90 | 30 | "activity is seriously polarized": quiet until the next notice |
| other | 4 | 14 | 30 | 10 | the hobby numbers |

Status, first that applies: ``new`` (nobody has posted and the group is
younger than its quiet days), ``cemetery`` / ``dormant`` (no person has posted
for that many days), ``cooling`` (quiet days passed, or the last week has under
half the messages of the three before, or activity is declining, or only
one person still speaks), ``thriving`` (spoken this week by at least three
people and a tenth of the members, and not falling), else ``steady``.

Decline is a trend, not noise (``decline``): the last two weeks' messages
against the usual week of the (up to six) weeks before them. Declining when
the drop is large relatively (at least 25 % of the usual week) and absolutely
(at least 5 messages a week), beyond the group's own week-to-week variation
(more than twice the usual weeks' standard deviation, taken as at least the
square root of the usual week: counts of messages vary at least that much), and
sustained (each of
the two recent weeks on its own down by half those bars and by more than that
variation). A group at 31, 29, 30, 28, 27 messages a week is steady, one at
20 a week with one holiday week of 5 is steady, 40, 38, 41, 39, 25, 15 is
declining. Needs five watched weeks (two recent, three usual at least).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.health import (
    ChatHealth,
    Diagnosis,
    Finding,
    HealthMetrics,
    HealthStatus,
    Pose,
)


@dataclass(frozen=True, slots=True)
class Cadence:
    quiet: int
    dormant: int
    cemetery: int
    owner_silent: int


CADENCE: dict[str, Cadence] = {
    "goal": Cadence(2, 7, 21, 5),
    "entertainment": Cadence(2, 10, 30, 14),
    "growth": Cadence(3, 14, 30, 7),
    "hobby": Cadence(4, 14, 30, 10),
    "work": Cadence(5, 21, 60, 14),
    "family": Cadence(7, 30, 90, 30),
}
DEFAULT_CADENCE = Cadence(4, 14, 30, 10)

MIN_SCORED = 10  # scored messages before the off-topic share means anything

RECENT_WEEKS = 2  # the weeks judged
MIN_USUAL_WEEKS = 3  # at least this many weeks before them, to know the usual week
DECLINE_MIN_SHARE = 0.25  # of the usual week: the floor; rulesets may ask for more
DECLINE_MIN_MESSAGES = 5  # a week
DECLINE_NOISE_FACTOR = 2.0  # times the usual weeks' standard deviation


@dataclass(frozen=True, slots=True)
class Decline:
    usual_week: int | None  # rounded mean of the usual weeks; None: not assessed
    drop_percent: int | None  # of the usual week lost in the recent weeks (0 when none)
    declining: bool


MATURE_AGE_DAYS = 180  # half a year of life at least
YOUNG_AGE_DAYS = 90  # "the new group must burn firewood": the first three months
MATURE_OTHERS = 5  # people besides the owner who posted in the last 30 days
MATURE_OWNER_SHARE = 0.2  # the owner writes at most a fifth of the messages
MATURE_OWNER_FACTOR = 4  # a mature group's owner is "watch" only after 4x the cadence


def maturity(m: HealthMetrics, kind: str) -> str:
    """``young``, ``established`` or ``mature``. The article: "'rule by doing nothing'
    only applies to mature communities", while a new group needs its owner as tinder.

    Mature: at least half a year old, at least five people besides the owner posted
    in the last 30 days, the owner wrote at most a fifth of those messages (the
    conversation runs without them), and it is neither declining nor gone quiet.
    Young: under three months old. Established: everything between."""
    age = m.age_days
    if age is None or age < YOUNG_AGE_DAYS:
        return "young"
    quiet = (
        m.days_since_last_message is not None and m.days_since_last_message >= cadence(kind).quiet
    )
    runs_alone = m.owner_message_share is None or m.owner_message_share <= MATURE_OWNER_SHARE
    if (
        age >= MATURE_AGE_DAYS
        and m.others_active_30d >= MATURE_OTHERS
        and runs_alone
        and not m.activity_declining
        and not quiet
    ):
        return "mature"
    return "established"


def decline(weeks: Sequence[int], watched_weeks: int) -> Decline:
    """``weeks[0]`` is the last 7 days, ``weeks[i]`` the week ``i`` weeks before;
    only the first ``watched_weeks`` count (weeks before Firekeeper saw the chat, or
    before its imported history, say nothing)."""
    usable = list(weeks[: max(0, watched_weeks)])
    if len(usable) < RECENT_WEEKS + MIN_USUAL_WEEKS:
        return Decline(None, None, False)
    recent, usual = usable[:RECENT_WEEKS], usable[RECENT_WEEKS:]
    base = statistics.fmean(usual)
    if base <= 0:
        return Decline(0, None, False)
    # a steady group's weekly count varies at least like a count of independent events
    # (by its square root; real talk comes in conversations and varies more): a few
    # usual weeks that happened to be alike must not make an ordinary dip look like a
    # trend (19 a week, then 12 and 9, was "falling" in a steady film club)
    noise = max(statistics.pstdev(usual), math.sqrt(base))
    drop = base - statistics.fmean(recent)
    share = max(0.0, drop / base)
    # sustained: each recent week on its own is down by half the bar at least, and by
    # more than the usual variation (one quiet week, a holiday, is not a trend)
    each = max(DECLINE_NOISE_FACTOR * noise, DECLINE_MIN_MESSAGES / 2, base * DECLINE_MIN_SHARE / 2)
    declining = (
        share >= DECLINE_MIN_SHARE
        and drop >= DECLINE_MIN_MESSAGES
        and drop > DECLINE_NOISE_FACTOR * noise
        and all(base - w >= each for w in recent)
    )
    return Decline(round(base), round(share * 100), declining)


def cadence(kind: str) -> Cadence:
    return CADENCE.get(kind, DEFAULT_CADENCE)


def _pct(x: float) -> str:
    return f"{round(x * 100)}%"


def status(m: HealthMetrics, kind: str) -> tuple[HealthStatus, str]:
    c = cadence(kind)
    a = f"a {kind} group" if kind in CADENCE else "a group"
    silent = m.days_since_last_message
    if not m.ever_spoke and (m.age_days is None or m.age_days < c.quiet):
        return HealthStatus.NEW, "nobody has posted yet and the group is new"
    if silent is not None and silent >= c.cemetery:
        return (
            HealthStatus.CEMETERY,
            f"no one has posted for {silent} days; {a} is a cemetery after {c.cemetery}",
        )
    if silent is not None and silent >= c.dormant:
        return (
            HealthStatus.DORMANT,
            f"no one has posted for {silent} days; {a} is dormant after {c.dormant}",
        )
    if silent is not None and silent >= c.quiet:
        return HealthStatus.COOLING, f"no one has posted for {silent} days"
    if m.activity_trend is not None and m.activity_trend < 0.5 and m.messages_prev_21d >= 9:
        return (
            HealthStatus.COOLING,
            f"the last week had {m.messages_7d} messages, under half the weekly "
            f"{round(m.messages_prev_21d / 3)} of the three weeks before",
        )
    if m.activity_declining:
        return (
            HealthStatus.COOLING,
            f"the last two weeks had {m.activity_drop_percent}% fewer messages than the usual "
            f"{m.messages_usual_week} a week",
        )
    if m.monthly_active_posters <= 1 and m.member_count >= 3:
        return HealthStatus.COOLING, "only one person posted in the last 30 days"
    wide = max(3, math.ceil(m.member_count / 10))
    if (
        m.messages_7d > 0
        and m.monthly_active_posters >= wide
        and (m.activity_trend is None or m.activity_trend >= 0.8)
    ):
        return (
            HealthStatus.THRIVING,
            f"{m.monthly_active_posters} people posted in the last 30 days and activity holds",
        )
    return HealthStatus.STEADY, "active, without signs of decline"


def _expansion(m: HealthMetrics, has_theme: bool) -> Diagnosis:
    pose = Pose.UNPLANNED_EXPANSION
    if not has_theme:
        return Diagnosis(pose, Finding.NOT_ASSESSED, _NO_THEME)
    n = m.new_themes_30d
    said = (
        f"{n} announcement{'s' if n != 1 else ''} by the owner or admins of themes or "
        "activities outside the declared theme in the last 30 days"
    )
    finding = Finding.PRESENT if n >= 3 else Finding.WATCH if n >= 1 else Finding.ABSENT
    return Diagnosis(pose, finding, said)


_NO_THEME = "no theme is declared: register the chat's theme (keywords, phrases) to measure it"


def _borderless(m: HealthMetrics, has_theme: bool) -> Diagnosis:
    pose = Pose.BORDERLESS_CHAT
    if not has_theme:
        return Diagnosis(pose, Finding.NOT_ASSESSED, _NO_THEME)
    if m.off_topic_share is None or m.scored_messages_30d < MIN_SCORED:
        return Diagnosis(
            pose,
            Finding.NOT_ASSESSED,
            f"only {m.scored_messages_30d} messages in the last 30 days could be judged on or "
            f"off topic (at least {MIN_SCORED} are needed)",
        )
    share = m.off_topic_share
    said = (
        f"{_pct(share)} of the {m.scored_messages_30d} messages judged in the last 30 days "
        "were off topic"
    )
    finding = Finding.PRESENT if share >= 0.5 else Finding.WATCH if share >= 0.3 else Finding.ABSENT
    return Diagnosis(pose, finding, said)


def _leading(m: HealthMetrics, kind: str) -> Diagnosis:
    pose = Pose.NO_LEADING
    c = cadence(kind)
    owner = m.days_since_owner_spoke
    if owner is None:
        return Diagnosis(
            pose, Finding.NOT_ASSESSED, "the owner is not known: register the chat's owner_id"
        )
    said = f"the owner last posted {owner} days ago"
    admin = m.days_since_admin_spoke
    if admin is not None and admin < owner:
        said += f", an admin {admin} days ago"
    a = f"a {kind} group" if kind in CADENCE else "a group"
    said += f" ({a} needs its owner at least every {c.owner_silent} days)"
    stage = maturity(m, kind)
    if stage == "mature":
        # "rule by doing nothing" is how a mature group runs: its owner's absence is
        # no death pose while the members carry the conversation
        said += (
            f"; a mature group: {m.others_active_30d} others posted in the last 30 days and "
            "the conversation runs without the owner"
        )
        far = owner >= MATURE_OWNER_FACTOR * c.owner_silent
        return Diagnosis(pose, Finding.WATCH if far else Finding.ABSENT, said)
    if owner >= c.owner_silent:
        admins_lead = admin is not None and admin < c.owner_silent
        if stage == "young":
            said += "; a young group needs its owner to keep it going"
        return Diagnosis(pose, Finding.WATCH if admins_lead else Finding.PRESENT, said)
    young = m.age_days is not None and m.age_days < 90
    if owner * 2 >= c.owner_silent and (young or m.activity_declining):
        return Diagnosis(pose, Finding.WATCH, said)
    return Diagnosis(pose, Finding.ABSENT, said)


def _recruiting(m: HealthMetrics) -> Diagnosis:
    pose = Pose.AIMLESS_RECRUITING
    wave = m.joins_30d >= max(10, math.ceil(m.member_count / 5))
    quiet = m.joiners_posted_share
    kept = m.joiner_retention
    parts = [f"{m.joins_30d} joins and {m.leaves_30d} leaves in the last 30 days"]
    if quiet is not None:
        parts.append(f"{_pct(quiet)} of the joiners have posted")
    if kept is not None:
        parts.append(
            f"{_pct(kept)} of the {m.retention_cohort} who joined 7-37 days ago stayed a week"
        )
    said = "; ".join(parts)
    if (wave and quiet is not None and quiet < 0.2) or (
        kept is not None and kept < 0.5 and m.retention_cohort >= 10
    ):
        return Diagnosis(pose, Finding.PRESENT, said)
    if (m.joins_30d >= 10 and quiet is not None and quiet < 0.4) or (
        kept is not None and kept < 0.7 and m.retention_cohort >= 5
    ):
        return Diagnosis(pose, Finding.WATCH, said)
    return Diagnosis(pose, Finding.ABSENT, said)


def _communication(m: HealthMetrics) -> Diagnosis:
    n = m.notices_flagged_30d
    said = (
        f"{n} announcement{'s' if n != 1 else ''} or pinned notice{'s' if n != 1 else ''} in the "
        "last 30 days took over a minute to read or left members to ask what, when or where"
    )
    finding = Finding.PRESENT if n >= 2 else Finding.WATCH if n == 1 else Finding.ABSENT
    return Diagnosis(Pose.NO_DESIGNED_COMMUNICATION, finding, said)


def diagnose(m: HealthMetrics, kind: str, *, has_theme: bool) -> tuple[Diagnosis, ...]:
    """One diagnosis per death pose, in the article's order."""
    return (
        _expansion(m, has_theme),
        _borderless(m, has_theme),
        Diagnosis(
            Pose.PAY_WITHOUT_TRUST,
            Finding.NOT_ASSESSED,
            "promotions are judged message by message by the ruleset's monetization rules; "
            "their matches are in the decision log",
        ),
        _leading(m, kind),
        _recruiting(m),
        _communication(m),
    )


def judge(key: ChatKey, kind: str, m: HealthMetrics, *, has_theme: bool) -> ChatHealth:
    state, reason = status(m, kind)
    return ChatHealth(
        key,
        kind,
        state,
        reason,
        m,
        diagnose(m, kind, has_theme=has_theme),
        maturity=maturity(m, kind),
    )
