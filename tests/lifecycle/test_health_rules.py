"""Health status and the diagnosis against the six death poses (pure)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from firekeeper.areas.lifecycle.pure.health import decline, diagnose, judge, maturity, status
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.domain.health import Finding, HealthMetrics, HealthStatus, Pose

NOW = datetime(2025, 3, 1, tzinfo=UTC)
LIVELY = HealthMetrics(
    measured_at=NOW,
    member_count=40,
    posters=20,
    poster_share=0.5,
    daily_active_posters=6,
    monthly_active_posters=15,
    messages_7d=120,
    messages_prev_21d=330,
    activity_trend=1.09,
    days_since_last_message=0,
    days_since_owner_spoke=1,
    days_since_admin_spoke=1,
    off_topic_share=0.1,
    scored_messages_30d=200,
    age_days=200,
    ever_spoke=True,
)


def _find(m: HealthMetrics, pose: Pose, kind: str = "growth", theme: bool = True) -> Finding:
    return next(d for d in diagnose(m, kind, has_theme=theme) if d.pose is pose).finding


def test_a_lively_group_thrives_and_shows_no_death_pose() -> None:
    assert status(LIVELY, "growth")[0] is HealthStatus.THRIVING
    findings = {d.pose: d.finding for d in diagnose(LIVELY, "growth", has_theme=True)}
    assert list(findings) == list(Pose)  # one per pose, in the article's order
    assert findings[Pose.PAY_WITHOUT_TRUST] is Finding.NOT_ASSESSED
    assert all(f is Finding.ABSENT for p, f in findings.items() if p is not Pose.PAY_WITHOUT_TRUST)


@pytest.mark.parametrize(
    ("kind", "silent", "expected"),
    [
        ("growth", 45, HealthStatus.CEMETERY),
        ("growth", 20, HealthStatus.DORMANT),
        ("growth", 4, HealthStatus.COOLING),
        ("family", 45, HealthStatus.DORMANT),  # a family group is quiet between notices
        ("goal", 8, HealthStatus.DORMANT),  # a goal group lives on daily check-ins
        ("work", 45, HealthStatus.DORMANT),
    ],
)
def test_silence_is_judged_by_the_kind_of_group(
    kind: str, silent: int, expected: HealthStatus
) -> None:
    m = replace(LIVELY, days_since_last_message=silent, messages_7d=0, activity_trend=0.0)
    assert status(m, kind)[0] is expected


def test_a_dead_group_is_a_cemetery_and_the_diagnosis_says_why() -> None:
    dead = replace(
        LIVELY,
        days_since_last_message=40,
        days_since_owner_spoke=52,
        days_since_admin_spoke=52,
        messages_7d=0,
        messages_prev_21d=0,
        activity_trend=None,
        monthly_active_posters=0,
        daily_active_posters=0,
    )
    health = judge(ChatKey(Platform.TELEGRAM, "acme", "c"), "growth", dead, has_theme=True)
    assert health.status is HealthStatus.CEMETERY
    assert "40 days" in health.status_reason and "cemetery after 30" in health.status_reason
    leading = next(d for d in health.diagnoses if d.pose is Pose.NO_LEADING)
    assert leading.finding is Finding.PRESENT and "52 days" in leading.evidence


def test_falling_activity_and_a_single_voice_cool_a_group() -> None:
    falling = replace(LIVELY, messages_7d=20, messages_prev_21d=300, activity_trend=0.2)
    state, reason = status(falling, "hobby")
    assert state is HealthStatus.COOLING and "under half" in reason
    alone = replace(LIVELY, monthly_active_posters=1)
    assert status(alone, "hobby") == (
        HealthStatus.COOLING,
        "only one person posted in the last 30 days",
    )
    # three weeks of a message or two fewer is a wobble; a sustained decline cools
    wobble = replace(LIVELY, weeks_falling=3)
    assert status(wobble, "hobby")[0] is not HealthStatus.COOLING
    trend = decline([6, 8, 18, 20, 21, 19, 22, 20], 8)
    declining = replace(
        LIVELY,
        weeks_falling=2,
        messages_usual_week=trend.usual_week,
        activity_drop_percent=trend.drop_percent,
        activity_declining=trend.declining,
    )
    assert status(declining, "hobby") == (
        HealthStatus.COOLING,
        "the last two weeks had 65% fewer messages than the usual 20 a week",
    )


# weekly counts, newest first (weeks[0] is the last 7 days)
@pytest.mark.parametrize(
    ("weeks", "watched", "declining", "usual", "drop"),
    [
        ([27, 28, 30, 29, 31], 5, False, 30, 8),  # the steady group: 31, 29, 30, 28, 27
        ([15, 25, 39, 41, 38, 40], 6, True, 40, 49),  # 40, 38, 41, 39, 25, 15
        ([19, 5, 19, 20, 20, 19, 21, 20], 8, False, 20, 39),  # one holiday week, then back
        ([6, 8, 18, 20, 21, 19, 22, 20], 8, True, 20, 65),  # about 20 a week, then 8 and 6
        ([2, 3, 6, 5, 6, 7], 6, False, 6, 58),  # large share, but 3.5 messages a week
        ([10, 12, 30, 2, 28, 3, 29], 7, False, 18, 40),  # a group that always swings widely
        ([1, 2, 30, 30, 30], 4, False, None, None),  # four weeks watched: not assessed
        ([0, 0, 0, 0, 0, 0], 6, False, 0, None),  # never any messages: nothing to lose
    ],
)
def test_decline_is_a_trend_not_noise(
    weeks: list[int], watched: int, declining: bool, usual: int | None, drop: int | None
) -> None:
    found = decline(weeks, watched)
    assert (found.declining, found.usual_week, found.drop_percent) == (declining, usual, drop)


def test_a_new_group_where_nobody_spoke_yet_is_new() -> None:
    m = HealthMetrics(measured_at=NOW, member_count=3, days_since_last_message=1, age_days=1)
    assert status(m, "growth")[0] is HealthStatus.NEW


def test_owner_absence_is_softened_when_admins_lead() -> None:
    m = replace(LIVELY, days_since_owner_spoke=20, days_since_admin_spoke=2)
    assert _find(m, Pose.NO_LEADING) is Finding.WATCH
    m = replace(LIVELY, days_since_owner_spoke=20, days_since_admin_spoke=20)
    assert _find(m, Pose.NO_LEADING) is Finding.PRESENT
    assert _find(replace(LIVELY, days_since_owner_spoke=None), Pose.NO_LEADING) is (
        Finding.NOT_ASSESSED
    )


def test_topic_poses_need_a_theme_and_enough_judged_messages() -> None:
    drifting = replace(LIVELY, off_topic_share=0.55, new_themes_30d=3)
    assert _find(drifting, Pose.BORDERLESS_CHAT) is Finding.PRESENT
    assert _find(drifting, Pose.UNPLANNED_EXPANSION) is Finding.PRESENT
    assert _find(drifting, Pose.BORDERLESS_CHAT, theme=False) is Finding.NOT_ASSESSED
    few = replace(drifting, scored_messages_30d=4)
    assert _find(few, Pose.BORDERLESS_CHAT) is Finding.NOT_ASSESSED


def test_aimless_recruiting_and_unreadable_notices() -> None:
    wave = replace(LIVELY, joins_30d=25, joiners_posted_share=0.08)
    assert _find(wave, Pose.AIMLESS_RECRUITING) is Finding.PRESENT
    leaky = replace(LIVELY, retention_cohort=12, joiner_retention=0.4)
    assert _find(leaky, Pose.AIMLESS_RECRUITING) is Finding.PRESENT
    assert _find(replace(LIVELY, notices_flagged_30d=1), Pose.NO_DESIGNED_COMMUNICATION) is (
        Finding.WATCH
    )
    assert _find(replace(LIVELY, notices_flagged_30d=2), Pose.NO_DESIGNED_COMMUNICATION) is (
        Finding.PRESENT
    )


def test_maturity_tells_a_self_running_group_from_a_young_one() -> None:
    mature = replace(LIVELY, age_days=400, others_active_30d=14, owner_message_share=0.05)
    assert maturity(mature, "hobby") == "mature"
    assert maturity(replace(mature, age_days=30), "hobby") == "young"
    assert maturity(replace(mature, age_days=120), "hobby") == "established"  # not yet half a year
    assert maturity(replace(mature, others_active_30d=3), "hobby") == "established"
    assert maturity(replace(mature, owner_message_share=0.6), "hobby") == "established"  # owner-led
    assert maturity(replace(mature, activity_declining=True), "hobby") == "established"
    assert maturity(replace(mature, days_since_last_message=5), "hobby") == "established"  # quiet


def test_an_owner_away_from_a_mature_group_is_no_death_pose_but_is_in_a_young_one() -> None:
    away = replace(LIVELY, days_since_owner_spoke=25, days_since_admin_spoke=25)
    mature = replace(away, age_days=400, others_active_30d=14, owner_message_share=0.0)
    young = replace(away, age_days=40, others_active_30d=14, owner_message_share=0.0)
    found = {
        stage: next(d for d in diagnose(m, "hobby", has_theme=True) if d.pose is Pose.NO_LEADING)
        for stage, m in (("mature", mature), ("young", young))
    }
    assert found["mature"].finding is Finding.ABSENT
    assert "a mature group: 14 others posted" in found["mature"].evidence
    assert found["young"].finding is Finding.PRESENT
    assert "a young group needs its owner" in found["young"].evidence
    # much longer (4x the hobby cadence of 10 days): worth watching even when mature
    long_gone = replace(mature, days_since_owner_spoke=45)
    assert _find(long_gone, Pose.NO_LEADING, "hobby") is Finding.WATCH
    key = ChatKey(Platform.TELEGRAM, "t", "c")
    assert judge(key, "hobby", mature, has_theme=True).maturity == "mature"
    assert judge(key, "hobby", young, has_theme=True).maturity == "young"
