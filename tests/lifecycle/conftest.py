"""A pipeline with every governance area over a migrated store, on a clock the test moves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from firekeeper.areas.lifecycle.admin import LifecycleService
from firekeeper.domain.chats import ChatRegistration
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event, Platform
from firekeeper.domain.outbox import OutboxItem
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.scheduler import TickScheduler
from firekeeper.store import Store, create_store
from firekeeper.store.leader import AlwaysLeader
from firekeeper.wiring import build_pipeline
from tests.conftest import RULESETS
from tests.lifecycle.builders import KEY, T0

INDEX = load(RULESETS)


@dataclass
class World:
    store: Store
    pipeline: Pipeline
    service: LifecycleService
    now: datetime = T0
    seen: set[str] = field(default_factory=set)

    def at(self, when: datetime) -> None:
        self.now = when

    def clock(self) -> datetime:
        return self.now

    def evaluate(self, event: Event) -> Decision:
        self.now = max(self.now, event.envelope.occurred_at)
        return self.pipeline.evaluate(event)

    def register(self, reg: ChatRegistration) -> None:
        self.pipeline.register_chat(reg)

    def scheduler(self, period: timedelta = timedelta(hours=1)) -> TickScheduler:
        return TickScheduler(
            self.store,
            self.pipeline.evaluate,
            AlwaysLeader(),
            period_seconds=int(period.total_seconds()),
            clock=self.clock,
        )

    def tick(self, when: datetime) -> None:
        self.at(when)
        assert self.scheduler().run_once() is not None

    def new_outbox(self, owner: str = "adapter") -> list[OutboxItem]:
        """Items the adapter has not seen yet (it acks as it goes)."""
        items = self.service.claim(Platform.TELEGRAM, KEY.tenant, owner)
        self.service.ack(Platform.TELEGRAM, KEY.tenant, [int(i.id) for i in items])
        fresh = [i for i in items if i.id not in self.seen]
        self.seen.update(i.id for i in items)
        return fresh


@pytest.fixture
def world(store_url: str) -> Iterator[World]:
    store = create_store(store_url)
    store.migrate()
    holder = RulesetHolder(INDEX)
    w = World(store, build_pipeline(store, holder), LifecycleService(store, holder))
    w.pipeline = build_pipeline(store, holder, clock=w.clock)
    w.service = LifecycleService(store, holder, clock=w.clock)
    yield w
    store.close()
