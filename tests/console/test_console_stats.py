"""The per-rule counts of the console, on hand-made decisions (pure: no store)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from firekeeper.console.stats import Bucket, RuleRef, add_false_positives, count_rules, window
from firekeeper.domain.decisions import Action, ActionType, Decision, RuleMatch, RuleMode

NOW = datetime(2026, 11, 30, 15, 20, tzinfo=UTC)


def _decision(at: datetime, matched: list[tuple[str, RuleMode]], acted: list[str]) -> Decision:
    return Decision(
        event_id=f"e-{at.isoformat()}-{len(matched)}",
        actions=tuple(Action(ActionType.DELETE_MESSAGE, rule_id=r) for r in acted),
        trace=tuple(RuleMatch(r, mode, "", ()) for r, mode in matched),
        ruleset="base",
        ruleset_version="v1",
        decided_at=at,
    )


def test_window_ends_with_the_bucket_holding_now() -> None:
    since, until, starts = window(Bucket.HOUR, 3, NOW)
    assert until == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert since == datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
    assert starts == [since, since + timedelta(hours=1), since + timedelta(hours=2)]
    since, until, starts = window(Bucket.DAY, 2, NOW)
    assert (since, until) == (datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match=r"1\.\.336 hours"):
        window(Bucket.HOUR, 337, NOW)
    with pytest.raises(ValueError, match=r"1\.\.90 days"):
        window(Bucket.DAY, 0, NOW)


def test_matches_actions_and_shadow_are_counted_per_rule_and_bucket() -> None:
    since, until, starts = window(Bucket.HOUR, 3, NOW)
    e, s = RuleMode.ENFORCE, RuleMode.SHADOW
    decisions = [
        _decision(since + timedelta(minutes=5), [("a", e), ("b", s)], ["a", "a"]),  # 2 actions
        _decision(since + timedelta(hours=2, minutes=1), [("a", e)], []),  # matched, no action
        _decision(since + timedelta(hours=2, minutes=2), [("b", s)], []),
        _decision(since - timedelta(seconds=1), [("a", e)], ["a"]),  # before the window
        _decision(until, [("a", e)], ["a"]),  # after it
    ]
    stats = count_rules(decisions, Bucket.HOUR, since, until, starts, limit=100)
    assert stats.decisions == 3 and not stats.truncated
    a, b = stats.totals[("base", "a")], stats.totals[("base", "b")]
    assert (a.matched, a.acted, a.shadow) == (2, 1, 0)  # acted: decisions, not actions
    assert (b.matched, b.acted, b.shadow) == (2, 0, 2)
    assert [c.matched for c in stats.series[("base", "a")]] == [1, 0, 1]
    assert [c.shadow for c in stats.series[("base", "b")]] == [1, 0, 1]
    assert stats.rules() == [("base", "a"), ("base", "b")]


def test_the_scan_stops_at_its_limit_and_says_so() -> None:
    since, until, starts = window(Bucket.DAY, 1, NOW)
    decisions = [
        _decision(since + timedelta(minutes=n), [("a", RuleMode.ENFORCE)], []) for n in range(5)
    ]
    stats = count_rules(decisions, Bucket.DAY, since, until, starts, limit=3)
    assert stats.truncated and stats.decisions == 3


class _Corrections:
    """A provider as the corrections store would answer: one correction per listed time."""

    def __init__(self, corrected: dict[RuleRef, list[datetime]]) -> None:
        self.corrected = corrected
        self.asked: list[tuple[str | None, datetime, datetime]] = []

    def false_positives_by_rule(
        self, *, tenant: str | None, since: datetime, until: datetime
    ) -> Mapping[RuleRef, int]:
        self.asked.append((tenant, since, until))
        return {r: sum(since <= t < until for t in ts) for r, ts in self.corrected.items()}


def test_false_positives_come_from_the_provider_bucket_by_bucket() -> None:
    since, until, starts = window(Bucket.HOUR, 2, NOW)
    decisions = [_decision(since, [("a", RuleMode.ENFORCE)], ["a"])]
    stats = count_rules(decisions, Bucket.HOUR, since, until, starts, limit=10)
    provider = _Corrections(
        {
            ("base", "a"): [since + timedelta(minutes=1), since + timedelta(minutes=70)],
            ("base", "z"): [since + timedelta(minutes=2)],
        }
    )
    add_false_positives(stats, provider, "acme")
    assert provider.asked == [("acme", starts[0], starts[1]), ("acme", starts[1], until)]
    assert stats.totals[("base", "a")].false_positives == 2
    assert [c.false_positives for c in stats.series[("base", "a")]] == [1, 1]
    assert stats.totals[("base", "z")].matched == 0  # corrected, not matched in the window
    assert stats.totals[("base", "z")].false_positives == 1
