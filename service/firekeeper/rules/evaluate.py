"""One event through the pure core: fact -> matches -> decision -> state changes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from firekeeper.domain.chats import ChatContext, StateChanges
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event
from firekeeper.rules.decide import _Rule, decide
from firekeeper.rules.facts import build_fact
from firekeeper.rules.state import changes_for


class Matching(Protocol):
    """What evaluation needs of a compiled ruleset (firekeeper.rules.compiler.CompiledRuleset)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    def match(self, fact: Mapping[str, object]) -> Sequence[_Rule]: ...


Enricher = Callable[[Event, ChatContext], Mapping[str, Mapping[str, Any]]]
"""A governance area's pure feature stage: from the event and what the area
loaded (``ctx.extra``) to fact sections, e.g. ``{"promo": {...}, "inviter":
{...}}``. Sections merge into the fact; fields must be in the vocabulary."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    decision: Decision
    changes: StateChanges
    fact: Mapping[str, Any]


def evaluate(
    ruleset: Matching,
    event: Event,
    ctx: ChatContext,
    params: Mapping[str, Any],
    decided_at: datetime,
    enrichers: Sequence[Enricher] = (),
) -> Evaluation:
    fact = build_fact(event, ctx, params)
    for enrich in enrichers:
        for section, values in enrich(event, ctx).items():
            fact.setdefault(section, {}).update(values)
    matched = ruleset.match(fact)
    decision = decide(event, matched, fact, ruleset.name, ruleset.version, decided_at)
    return Evaluation(decision, changes_for(event, decision, ctx), fact)
