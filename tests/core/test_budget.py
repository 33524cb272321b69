"""The time budget of one event's feature stages, in the pure core (no clock of its own)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from firekeeper.domain.chats import ChatContext
from firekeeper.domain.events import Actor, ChatUpdated, Event, JoinRequested, MessagePosted
from firekeeper.rules.evaluate import Budget, Enricher, evaluate, without_text
from tests.core.builders import T0, ctx, event, message


class _NoRules:
    name = "none"
    version = "1"
    languages = ("en",)

    def match(self, fact: Mapping[str, object]) -> Sequence[Any]:
        return []


class _Clock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _stages(clock: _Clock, seen: list[str], cost: float) -> dict[str, Enricher]:
    def stage(name: str) -> Enricher:
        def run(e: Event, c: ChatContext) -> Mapping[str, Mapping[str, Any]]:
            p = e.payload
            seen.append(f"{name}:{p.text if isinstance(p, MessagePosted) else ''}")
            clock.now += cost
            return {name: {"ran": True}}

        return run

    return {"first": stage("first"), "second": stage("second"), "third": stage("third")}


def test_stages_after_the_budget_ran_out_run_without_the_text() -> None:
    clock, seen = _Clock(), []
    budget = Budget(clock, clock.now + 0.25)
    stages = _stages(clock, seen, cost=0.2)
    result = evaluate(_NoRules(), message("buy now"), ctx(), {}, T0, stages, budget=budget)
    assert seen == ["first:buy now", "second:buy now", "third:"]
    assert result.decision.skipped_stages == ("third",)
    assert result.over_budget
    # every stage's sections are in the fact, the skipped one's computed without text
    assert all(result.fact[name]["ran"] for name in stages)
    assert result.fact["message"]["text"] == "buy now"  # the fact keeps the text for rules


def test_within_the_budget_nothing_is_skipped() -> None:
    clock, seen = _Clock(), []
    budget = Budget(clock, clock.now + 0.25)
    result = evaluate(
        _NoRules(), message("hi"), ctx(), {}, T0, _stages(clock, seen, 0.01), budget=budget
    )
    assert seen == ["first:hi", "second:hi", "third:hi"]
    assert result.decision.skipped_stages == ()
    assert not result.over_budget


def test_a_last_stage_that_overruns_counts_as_over_budget_with_nothing_skipped() -> None:
    clock, seen = _Clock(), []
    budget = Budget(clock, clock.now + 0.25)
    result = evaluate(
        _NoRules(), message("hi"), ctx(), {}, T0, _stages(clock, seen, 0.1), budget=budget
    )
    assert result.decision.skipped_stages == ()
    assert result.over_budget


def test_without_a_budget_every_stage_reads_the_text() -> None:
    clock, seen = _Clock(), []
    result = evaluate(_NoRules(), message("hi"), ctx(), {}, T0, _stages(clock, seen, 5.0))
    assert seen == ["first:hi", "second:hi", "third:hi"] and not result.over_budget


def test_without_text_empties_only_the_texts() -> None:
    posted = event(MessagePosted(message_id="m1", text="t", links=("https://x.example",)), eid="m1")
    p = without_text(posted).payload
    assert isinstance(p, MessagePosted) and p.text == "" and p.links == ("https://x.example",)
    request = event(JoinRequested(member=Actor(id="u2"), bio="long bio"))
    assert isinstance(r := without_text(request).payload, JoinRequested) and r.bio == ""
    assert r.member.id == "u2"
    updated = event(ChatUpdated(announcement_text="notice", announcement_changed=True))
    u = without_text(updated).payload
    assert isinstance(u, ChatUpdated) and u.announcement_text == "" and u.announcement_changed
