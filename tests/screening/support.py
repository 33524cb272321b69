"""Builders for the screening integration tests: a chat, events, a store-backed pipeline."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry

from firekeeper.area_package import AreaContext
from firekeeper.area_registry import metrics as area_metrics
from firekeeper.areas.screening.admin import ScreeningAdmin
from firekeeper.areas.screening.metrics import ScreeningMetrics
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.events import (
    Actor,
    EntryAnswer,
    Envelope,
    Event,
    JoinMethod,
    JoinRequested,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    Platform,
)
from firekeeper.metrics import Metrics
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.store import Store, create_store
from firekeeper.wiring import build_pipeline
from tests.conftest import RULESETS
from tests.core.builders import T0

KEY = ChatKey(Platform.TELEGRAM, "acme", "-100555")
INDEX = load(RULESETS)
OLGA = Actor(id="olga", display_name="Olga")
BEN = Actor(id="ben", display_name="Ben")
PHISHING = frozenset({"steamcomrnunity.ru", "discord-nitro.gift"})
SUBSTANTIVE = (
    "Notes from this week's ride: three intervals of eight minutes at threshold, cadence "
    "around ninety, and the route along the river is open again. I'll post the map later."
)

_ids = itertools.count(1)


def eid(prefix: str = "e") -> str:
    return f"{prefix}{next(_ids)}"


def env(actor: Actor | None, at: datetime, key: ChatKey = KEY, event_id: str = "") -> Envelope:
    return Envelope(event_id or eid(), key.platform, key.tenant, key.chat_id, at, actor)


def post(actor: Actor, text: str, at: datetime, key: ChatKey = KEY, **kw: object) -> Event:
    e = env(actor, at, key)
    return Event(e, MessagePosted(message_id=e.event_id, text=text, **kw))  # type: ignore[arg-type]


def joined(member: str, at: datetime, inviter: Actor | None = None, key: ChatKey = KEY) -> Event:
    who = Actor(id=member, display_name=member.title())
    method = JoinMethod.ADDED_BY_MEMBER if inviter else JoinMethod.INVITE_LINK
    return Event(env(inviter or who, at, key), MemberJoined(who, inviter=inviter, method=method))


def requested(
    member: str, at: datetime, *answers: str, inviter: Actor | None = None, key: ChatKey = KEY
) -> Event:
    who = Actor(id=member, display_name=member.title())
    ans = tuple(EntryAnswer(f"q{i}", a) for i, a in enumerate(answers))
    return Event(env(who, at, key), JoinRequested(who, answers=ans, inviter=inviter))


def removed(member: str, at: datetime, by: Actor = OLGA) -> Event:
    who = Actor(id=member)
    return Event(env(by, at), MemberLeft(who, reason=LeaveReason.REMOVED, removed_by=by))


def register(
    p: Pipeline,
    *,
    kind: str = "hobby",
    age: timedelta = timedelta(days=90),
    count: int = 50,
    key: ChatKey = KEY,
) -> None:
    p.register_chat(
        ChatRegistration(
            key=key, kind=kind, created_at=T0 - age, member_count=count, owner_id="olga"
        )
    )


class Service:
    """What the service wires: a pipeline with the screening area, the admin port, metrics."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.registry = CollectorRegistry()
        self.metrics = Metrics(self.registry)
        observed = area_metrics(self.metrics)  # the screening area's own among them
        areas = AreaContext(phishing_domains=PHISHING, metrics=observed)
        self.pipeline = build_pipeline(store, RulesetHolder(INDEX), clock=lambda: T0, context=areas)
        self.admin = ScreeningAdmin(store, clock=lambda: T0 + timedelta(days=1))
        observed.of(ScreeningMetrics).track_review_queue(self.admin.queue_depth)

    def sample(self, name: str, **labels: str) -> float:
        value = self.registry.get_sample_value(name, labels)
        return 0.0 if value is None else value


@contextmanager
def service(url: str) -> Iterator[Service]:
    """A service on ``url``; leaving the block closes the store (a restart, for the next one)."""
    store = create_store(url)
    store.migrate()
    try:
        yield Service(store)
    finally:
        store.close()
