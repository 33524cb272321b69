"""The per-event time budget through the real pipeline: what is skipped, said, stored, logged."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from prometheus_client import CollectorRegistry

from firekeeper.config import ConfigError, Settings
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.decisions import ActionType
from firekeeper.domain.events import Actor, Envelope, Event, MessagePosted, Platform
from firekeeper.metrics import Metrics
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.store import Store
from firekeeper.wiring import governance_areas
from tests.conftest import RULESETS
from tests.core.builders import T0

KEY = ChatKey(Platform.TELEGRAM, "acme", "-100555")
SPAM = "Earn $500 daily from home with my trading platform, DM me now: https://bit.ly/x1"


class _Clock:
    """A monotonic clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def _pipeline(store: Store, step: float, overruns: list[str]) -> Pipeline:
    holder = RulesetHolder(load(RULESETS))
    p = Pipeline(
        store,
        holder,
        areas=governance_areas(holder),
        budget_seconds=0.25,
        monotonic=_Clock(step),
        on_over_budget=overruns.append,
    )
    p.register_chat(
        ChatRegistration(key=KEY, kind="hobby", member_count=30, created_at=T0 - timedelta(days=1))
    )
    return p


def _message(eid: str, text: str) -> Event:
    actor = Actor(id="spammer", display_name="S")
    env = Envelope(eid, KEY.platform, KEY.tenant, KEY.chat_id, T0, actor)
    return Event(env, MessagePosted(message_id=eid, text=text))


def test_within_the_budget_the_promotion_is_caught(store: Store) -> None:
    overruns: list[str] = []
    p = _pipeline(store, step=0.001, overruns=overruns)
    decision = p.evaluate(_message("m1", SPAM))
    assert ActionType.DELETE_MESSAGE in [a.type for a in decision.actions]
    assert decision.skipped_stages == () and overruns == []


def test_past_the_budget_later_stages_skip_their_text_checks_and_the_decision_says_so(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    overruns: list[str] = []
    p = _pipeline(store, step=1.0, overruns=overruns)  # every reading is a second later
    with caplog.at_level(logging.WARNING, logger="firekeeper.pipeline"):
        decision = p.evaluate(_message("m1", SPAM))
    assert decision.skipped_stages == ("lifecycle", "screening", "corrections")
    # the promotion signals were not read, so no promo rule acted on the text
    assert not [a for a in decision.actions if a.rule_id.startswith("promo.")]
    assert overruns == ["message.posted"]
    (record,) = [r for r in caplog.records if "time budget" in r.getMessage()]
    assert record.__dict__["skipped_stages"] == ["lifecycle", "screening", "corrections"]
    assert record.__dict__["event_id"] == "m1"
    logged = " ".join(str(v) for v in record.__dict__.values())
    assert "Earn" not in logged and "bit.ly" not in logged  # no message text in the log
    again = p.evaluate(_message("m1", SPAM))  # a retry returns what was stored
    assert again.replayed and again.skipped_stages == ("lifecycle", "screening", "corrections")
    assert overruns == ["message.posted"]  # and is not counted again


def test_the_budget_is_a_setting_with_a_clear_error() -> None:
    env = {"FIREKEEPER_EVALUATION_BUDGET_SECONDS": "0.5"}
    assert Settings.from_env(env).evaluation_budget_seconds == 0.5
    assert Settings().evaluation_budget_seconds == 0.25
    for bad in ("soon", "0", "-1", "nan", "120"):
        with pytest.raises(ConfigError, match="FIREKEEPER_EVALUATION_BUDGET_SECONDS"):
            Settings.from_env({"FIREKEEPER_EVALUATION_BUDGET_SECONDS": bad})


def test_overruns_are_counted_by_event_kind_only() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    name = "firekeeper_evaluation_over_budget_total"
    assert registry.get_sample_value(name, {"kind": "message.posted"}) == 0.0
    metrics.observe_over_budget("message.posted")
    metrics.observe_over_budget("not-a-kind")  # never a new label
    assert registry.get_sample_value(name, {"kind": "message.posted"}) == 1.0
    assert registry.get_sample_value(name, {"kind": "not-a-kind"}) is None
