"""The JSON codecs round-trip every domain value the store keeps, and name what is malformed."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from firekeeper.domain.chats import Theme
from firekeeper.domain.events import EventKind
from firekeeper.store.codec import (
    CodecError,
    decision_from_json,
    decision_to_json,
    event_from_json,
    event_to_json,
    params_from_json,
    params_to_json,
    theme_from_json,
    theme_to_json,
)
from tests.store.samples import T0, decision, event, every_payload


def _through_json(data: dict[str, Any]) -> Any:
    """What comes back from a JSON column: only plain JSON types survive."""
    return json.loads(json.dumps(data))


def test_the_samples_cover_every_event_kind() -> None:
    assert {p.kind for p in every_payload()} == set(EventKind)


@pytest.mark.parametrize("payload", every_payload(), ids=lambda p: p.kind.value)
def test_every_payload_kind_round_trips(payload: Any) -> None:
    original = event("e-1", payload)
    assert event_from_json(_through_json(event_to_json(original))) == original


def test_an_event_without_an_actor_round_trips() -> None:
    original = event("e-1")
    original = replace(original, envelope=replace(original.envelope, actor=None))
    assert event_from_json(_through_json(event_to_json(original))) == original


def test_non_utc_offsets_keep_the_instant() -> None:
    plus8 = T0.astimezone(timezone(timedelta(hours=8)))
    decoded = event_from_json(_through_json(event_to_json(event("e-1", at=plus8))))
    assert decoded.envelope.occurred_at == T0


def test_a_decision_round_trips_and_replayed_is_not_stored() -> None:
    original = decision("e-1")
    data = _through_json(decision_to_json(original))
    assert "replayed" not in data
    assert decision_from_json(data) == original
    assert decision_from_json(data, replayed=True).replayed is True


def test_theme_and_params_round_trip() -> None:
    theme = Theme(keywords=("书",), phrases=("book club", "reading"), languages=("zh",))
    assert theme_from_json(_through_json(theme_to_json(theme))) == theme
    params = (("a", "1"), ("b", "x y"))
    assert params_from_json(_through_json(params_to_json(params))) == params
    assert params_from_json({"z": "1", "a": "2"}) == (("a", "2"), ("z", "1"))


def test_absent_optional_keys_take_their_defaults() -> None:
    data = {
        "v": 1,
        "kind": "member.joined",
        "envelope": {
            "event_id": "e",
            "platform": "discord",
            "occurred_at": "2025-03-01T12:00:00+00:00",
        },
        "payload": {"member": {"id": "u"}},
    }
    decoded = event_from_json(data)
    assert decoded.envelope.actor is None
    assert decoded.envelope.tenant == ""
    assert decoded.payload.kind is EventKind.MEMBER_JOINED


@pytest.mark.parametrize(
    ("path", "value", "where"),
    [
        (("payload", "member", "id"), 5, "payload.member.id"),
        (("payload", "member", "role"), "emperor", "payload.member.role"),
        (("envelope", "occurred_at"), "yesterday", "envelope.occurred_at"),
        (("envelope", "occurred_at"), "2025-03-01T12:00:00", "envelope.occurred_at"),
        (("payload", "member"), None, "payload.member"),
        (("kind",), "member.teleported", "kind"),
        (("v",), 2, "v"),
    ],
)
def test_malformed_json_names_the_path(path: tuple[str, ...], value: Any, where: str) -> None:
    data = _through_json(event_to_json(event("e-1", every_payload()[1])))
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(CodecError) as info:
        event_from_json(data)
    assert info.value.path == where
    assert where in str(info.value)


def test_malformed_decision_names_the_path() -> None:
    data = _through_json(decision_to_json(decision("e-1")))
    data["trace"][0]["values"][1] = ["only-one"]
    with pytest.raises(CodecError, match=r"trace\[0\]\.values\[1\]"):
        decision_from_json(data)
    data = _through_json(decision_to_json(decision("e-1")))
    data["actions"][1]["duration_seconds"] = True
    with pytest.raises(CodecError, match=r"actions\[1\]\.duration_seconds"):
        decision_from_json(data)


def test_naive_times_are_refused_when_encoding() -> None:
    naive = datetime(2025, 3, 1, 12, 0)
    with pytest.raises(CodecError, match="naive"):
        event_to_json(event("e-1", at=naive))
