"""A populated store for the console's tests: the real pipeline (``Sandbox``, the one
``firekeeper replay`` uses) decides a small, known history of one chat.

The history: a member posts the same text five times (``flood.repeat_warn`` acts on
the third, ``flood.repeat`` on the third to fifth), a brand-new account joins
(``screen.new_account``), and a chat update reports a member count far off
(``size.count_drift``, a shadow rule).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from firekeeper.areas.lifecycle.admin import LifecycleService
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import (
    Actor,
    ChatUpdated,
    Envelope,
    Event,
    MemberJoined,
    MessagePosted,
    Platform,
)
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.rulesets_dir import load
from firekeeper.tools.sandbox import Sandbox
from tests.conftest import RULESETS

KEY = ChatKey(Platform.TELEGRAM, "acme", "-100777")
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3)


def history(key: ChatKey = KEY, start: datetime = START, prefix: str = "h") -> list[Event]:
    def env(n: int, actor: Actor) -> Envelope:
        at = start + timedelta(minutes=n)
        return Envelope(f"{prefix}-{n}", key.platform, key.tenant, key.chat_id, at, actor)

    ann = Actor(id="ann", display_name="Ann")
    newbie = Actor(id="newbie", display_name="New", account_created_at=start - timedelta(days=1))
    events = [
        Event(env(n, ann), MessagePosted(message_id=f"{prefix}-m{n}", text="anyone up for a walk?"))
        for n in range(5)
    ]
    events.append(Event(env(6, newbie), MemberJoined(member=newbie)))
    events.append(Event(env(7, ann), ChatUpdated(platform_member_count=500)))
    return events


@functools.cache
def rulesets() -> RulesetIndex:
    return load(RULESETS)


@contextmanager
def populated() -> Iterator[tuple[Sandbox, LifecycleService, list[tuple[Event, Decision]]]]:
    """A sandbox whose store holds the decisions on ``history()``, with those decisions."""
    with Sandbox(rulesets()) as sandbox:
        decided = [(e, sandbox.evaluate(e)) for e in history()]
        health = LifecycleService(sandbox.store, sandbox.rulesets, clock=lambda: sandbox.now)
        yield sandbox, health, decided
