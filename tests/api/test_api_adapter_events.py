"""What adapters may not send: ticks are made by the service's own scheduler."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firekeeper.api import convert
from firekeeper.api.servicer import _from_adapter
from firekeeper.domain.events import (
    Actor,
    ChatTick,
    Envelope,
    Event,
    MessagePosted,
    Platform,
)
from firekeeper.errors import InvalidEvent

T = datetime(2026, 5, 1, tzinfo=UTC)


def _env(event_id: str, actor: Actor | None) -> Envelope:
    return Envelope(event_id, Platform.TELEGRAM, "acme", "-1", T, actor)


def test_an_adapter_tick_is_refused_with_its_field_path() -> None:
    msg = convert.event_to_proto(Event(_env("x1", None), ChatTick(period_seconds=3600)))
    with pytest.raises(InvalidEvent) as exc:
        _from_adapter(msg, "events[2]")
    assert exc.value.field == "events[2].chat_tick"


def test_tick_ids_are_reserved_for_the_scheduler() -> None:
    ev = Event(_env("tick:-1:3600s:5", Actor(id="u1")), MessagePosted(message_id="m1"))
    with pytest.raises(InvalidEvent) as exc:
        _from_adapter(convert.event_to_proto(ev), "event")
    assert exc.value.field == "event.envelope.event_id"


def test_ordinary_events_pass() -> None:
    ev = Event(_env("tg:1", Actor(id="u1")), MessagePosted(message_id="m1", text="hi"))
    assert _from_adapter(convert.event_to_proto(ev), "event") == ev
