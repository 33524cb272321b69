"""Per ruleset and rule: how often it matched, acted, ran in shadow and was corrected as a
false positive, in time buckets (hours or days), counted from the decision log.

Pure: the caller hands in the stored decisions (``Store.export_decisions``, the read
``firekeeper export`` makes) and the false-positive counts of a ``FalsePositives``
provider; nothing here touches the store.

- *matched*: decisions whose trace names the rule (enforce or shadow);
- *acted*: decisions that returned at least one action the rule asked for;
- *shadow*: decisions in which the rule matched in shadow mode (actions not returned);
- *false positives*: decisions an admin corrected as wrongly acted on, per the provider.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from firekeeper.domain.decisions import Decision, RuleMode

RuleRef = tuple[str, str]  # (ruleset name, rule id)


class FalsePositives(Protocol):
    """The corrections store's per-rule read, narrowed to what the console shows.

    ``false_positives_by_rule`` answers, for decisions decided in ``[since, until)``
    (of ``tenant``, or of every tenant when ``None``), how many an admin corrected as
    false positives, keyed by the (ruleset, rule id) whose actions were corrected.
    """

    def false_positives_by_rule(
        self, *, tenant: str | None, since: datetime, until: datetime
    ) -> Mapping[RuleRef, int]: ...


class Bucket(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"

    @property
    def width(self) -> timedelta:
        return timedelta(hours=1) if self is Bucket.HOUR else timedelta(days=1)

    def floor(self, at: datetime) -> datetime:
        at = at.astimezone(UTC)
        if self is Bucket.HOUR:
            return at.replace(minute=0, second=0, microsecond=0)
        return at.replace(hour=0, minute=0, second=0, microsecond=0)


MAX_BUCKETS = {Bucket.HOUR: 24 * 14, Bucket.DAY: 90}


@dataclass
class Counts:
    matched: int = 0
    acted: int = 0
    shadow: int = 0
    false_positives: int = 0


@dataclass
class RuleStats:
    """Counts per rule, in total and per bucket (``starts[i]`` opens bucket ``i``)."""

    bucket: Bucket
    since: datetime
    until: datetime
    starts: list[datetime]
    decisions: int = 0  # decisions counted
    truncated: bool = False  # the scan stopped at its limit before the window's end
    totals: dict[RuleRef, Counts] = field(default_factory=dict)
    series: dict[RuleRef, list[Counts]] = field(default_factory=dict)

    def rules(self) -> list[RuleRef]:
        """Every rule counted, most matched first (then by name)."""
        return sorted(self.totals, key=lambda r: (-self.totals[r].matched, r))

    def _slot(self, rule: RuleRef, index: int) -> tuple[Counts, Counts]:
        if rule not in self.totals:
            self.totals[rule] = Counts()
            self.series[rule] = [Counts() for _ in self.starts]
        return self.totals[rule], self.series[rule][index]


def window(bucket: Bucket, count: int, now: datetime) -> tuple[datetime, datetime, list[datetime]]:
    """The last ``count`` buckets up to and including the one holding ``now``."""
    if not 1 <= count <= MAX_BUCKETS[bucket]:
        raise ValueError(f"must be 1..{MAX_BUCKETS[bucket]} {bucket.value}s")
    until = bucket.floor(now) + bucket.width
    since = until - bucket.width * count
    return since, until, [since + bucket.width * i for i in range(count)]


def count_rules(
    decisions: Iterable[Decision],
    bucket: Bucket,
    since: datetime,
    until: datetime,
    starts: list[datetime],
    *,
    limit: int,
) -> RuleStats:
    """Count ``decisions`` (each by its ``decided_at``) into the buckets ``starts``;
    decisions outside ``[since, until)`` are ignored, and at most ``limit`` are read."""
    stats = RuleStats(bucket, since, until, starts)
    width = bucket.width
    for n, decision in enumerate(decisions):
        if n >= limit:
            stats.truncated = True
            break
        at = decision.decided_at
        if not since <= at < until:
            continue
        index = int((at - since) / width)
        stats.decisions += 1
        ruleset = decision.ruleset
        acted = {a.rule_id for a in decision.actions}
        seen: set[str] = set()
        for match in decision.trace:
            if match.rule_id in seen:
                continue
            seen.add(match.rule_id)
            total, slot = stats._slot((ruleset, match.rule_id), index)
            total.matched += 1
            slot.matched += 1
            if match.mode is RuleMode.SHADOW:
                total.shadow += 1
                slot.shadow += 1
        for rule_id in acted:
            total, slot = stats._slot((ruleset, rule_id), index)
            total.acted += 1
            slot.acted += 1
    return stats


def add_false_positives(stats: RuleStats, provider: FalsePositives, tenant: str | None) -> None:
    """Ask ``provider`` for each bucket's corrections and add them to ``stats``."""
    for index, start in enumerate(stats.starts):
        counts = provider.false_positives_by_rule(
            tenant=tenant, since=start, until=start + stats.bucket.width
        )
        for rule, n in counts.items():
            if n <= 0:
                continue
            total, slot = stats._slot(rule, index)
            total.false_positives += n
            slot.false_positives += n
