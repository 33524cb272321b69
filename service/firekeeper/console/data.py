"""What the console shows, read through the functions the API and the tools already use:

- chat health: ``LifecycleService.chat_health`` (``firekeeper.v1.Health/GetChatHealth``);
- a chat's latest decisions, with trace and explanation: ``Store.recent_decisions``;
- per-rule counts over time: ``Store.decisions_between`` (the read of ``firekeeper export``,
  ``Store.export_decisions``, without the events) counted by ``firekeeper.console.stats``,
  plus a ``FalsePositives`` provider;
- the replay diff: ``firekeeper.tools.replay.replay`` (``firekeeper replay``), the decision
  log of one chat against the rulesets serving now.

Every read is blocking; the web app runs them on the console's own threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Protocol

from firekeeper.console.stats import (
    Bucket,
    FalsePositives,
    RuleStats,
    add_false_positives,
    count_rules,
    window,
)
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event
from firekeeper.domain.health import ChatHealth
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.store.repository import Store
from firekeeper.tools.inputs import Recorded, StateFile
from firekeeper.tools.replay import Report, Version, replay

MAX_COUNTED = 200_000  # decisions read for one rules page
MAX_REPLAYED = 2_000  # events replayed for one diff


class HealthReader(Protocol):
    def chat_health(self, key: ChatKey, now: datetime | None = None) -> ChatHealth: ...


@dataclass(frozen=True)
class ReplayResult:
    report: Report
    since: datetime
    truncated: bool  # more events than MAX_REPLAYED were recorded in the window


def _utcnow() -> datetime:
    return datetime.now(UTC)


class ConsoleData:
    def __init__(
        self,
        store: Store,
        health: HealthReader,
        rulesets: Callable[[], RulesetIndex],
        *,
        false_positives: FalsePositives | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._store = store
        self._health = health
        self._rulesets = rulesets
        self.false_positives = false_positives
        self._clock = clock or _utcnow

    def now(self) -> datetime:
        return self._clock()

    def rule_stats(
        self, tenant: str | None, bucket: Bucket, count: int, *, platforms: frozenset[str] | None
    ) -> RuleStats:
        """``count`` buckets up to now, of one tenant (None: all), of ``platforms`` (None:
        all); false positives from the provider when there is one."""
        since, until, starts = window(bucket, count, self._clock())
        decisions = self._store.decisions_between(since, until, tenant=tenant, platforms=platforms)
        stats = count_rules(decisions, bucket, since, until, starts, limit=MAX_COUNTED)
        if self.false_positives is not None:
            add_false_positives(stats, self.false_positives, tenant)
        return stats

    def chat_health(self, key: ChatKey) -> ChatHealth:
        return self._health.chat_health(key)

    def recent(self, key: ChatKey, limit: int) -> list[tuple[Event, Decision]]:
        return self._store.recent_decisions(key, limit=limit)

    def replay(self, key: ChatKey, hours: int) -> ReplayResult:
        """The chat's decisions of the last ``hours`` as recorded, against the rulesets
        serving now, each event replayed in a fresh sandbox from the same start."""
        since = self._clock() - timedelta(hours=hours)
        pairs = self._store.export_decisions(chat=key, since=since)
        items = [
            Recorded(event, decision, line=n + 1)
            for n, (event, decision) in enumerate(islice(pairs, MAX_REPLAYED + 1))
        ]
        truncated = len(items) > MAX_REPLAYED
        items = items[:MAX_REPLAYED]
        sides: list[tuple[Version, RulesetIndex | None]] = [
            (Version("recorded", "the decision log"), None),
            (Version("serving", "the rulesets serving now"), self._rulesets()),
        ]
        report = replay(items, sides, StateFile(), file=f"chat {key}")
        sides[0][0].rulesets = sorted(
            {(i.recorded.ruleset, i.recorded.ruleset_version) for i in items if i.recorded}
        )
        return ReplayResult(report, since, truncated)
