"""One event through the pure core: fact -> matches -> decision -> state changes.

The feature stages may run under a time :class:`Budget`. The fact itself
(``build_fact``: the event's fields, links and text shape, all bounded) is
always built, and the matcher, the decision and the state changes always run;
the areas' feature stages run in order while the budget lasts. Once it has run
out, each remaining stage still runs, but on the event without its texts
(message text, bio, announcement text): what it reads from the store
(blocklists, join windows, inviter records, strikes, windows) is all there,
only its text checks (promotion signals, topic, notice, value) are not run.
Those stages are named in ``Decision.skipped_stages``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from firekeeper.domain.chats import ChatContext, StateChanges
from firekeeper.domain.copying import evolve
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import ChatUpdated, Event, JoinRequested, MessagePosted
from firekeeper.rules import language
from firekeeper.rules.decide import _Rule, decide
from firekeeper.rules.facts import build_fact
from firekeeper.rules.state import changes_for


class Matching(Protocol):
    """What evaluation needs of a compiled ruleset (firekeeper.rules.compiler.CompiledRuleset)."""

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> str: ...
    @property
    def languages(self) -> tuple[str, ...]: ...
    def match(self, fact: Mapping[str, object]) -> Sequence[_Rule]: ...


Enricher = Callable[[Event, ChatContext], Mapping[str, Mapping[str, Any]]]
"""A governance area's pure feature stage: from the event (and what the area
loaded, which the pipeline binds in) to fact sections, e.g. ``{"promo": {...}, "inviter":
{...}}``. Sections merge into the fact; fields must be in the vocabulary."""


@dataclass(frozen=True, slots=True)
class Budget:
    """How long one event's feature stages may take. ``clock`` is a monotonic clock in
    seconds (the pipeline's; the core reads no clock of its own), ``deadline`` a
    reading of it."""

    clock: Callable[[], float]
    deadline: float

    def spent(self) -> bool:
        return self.clock() >= self.deadline


@dataclass(frozen=True, slots=True)
class Evaluation:
    decision: Decision
    changes: StateChanges
    fact: Mapping[str, Any]
    over_budget: bool = False  # the feature stages ran past the budget


def without_text(event: Event) -> Event:
    """The event with the texts the built-in checks read emptied (links and ids kept)."""
    p = event.payload
    if isinstance(p, MessagePosted):
        return replace(event, payload=replace(p, text=""))
    if isinstance(p, JoinRequested):
        return replace(event, payload=replace(p, bio=""))
    if isinstance(p, ChatUpdated):
        return replace(event, payload=replace(p, announcement_text=""))
    return event


def evaluate(
    ruleset: Matching,
    event: Event,
    ctx: ChatContext,
    params: Mapping[str, Any],
    decided_at: datetime,
    enrichers: Mapping[str, Enricher] | None = None,
    *,
    budget: Budget | None = None,
) -> Evaluation:
    """``enrichers``: the areas' feature stages by area name, run in order.

    The stages, each a function of its own (``firekeeper bench`` times them one by
    one): :func:`start` (the chat's language and the fact), :func:`run_features`
    (the areas' sections), the ruleset's ``match``, :func:`decision`, :func:`changes`."""
    started = start(ruleset, event, ctx, params)
    run_features(started, event, enrichers, budget)
    matched = ruleset.match(started.fact)
    made = decision(ruleset, event, started, matched, decided_at)
    return Evaluation(made, changes(event, started, made), started.fact, started.over_budget)


@dataclass(slots=True)
class Started:
    """What the first stage made: the context with the chat's language, and the fact
    that the feature stages complete."""

    ctx: ChatContext
    choice: language.Choice
    fact: dict[str, Any]
    skipped: list[str] = field(default_factory=list)  # feature stages run without texts
    over_budget: bool = False


def start(ruleset: Matching, event: Event, ctx: ChatContext, params: Mapping[str, Any]) -> Started:
    """The chat's language (detection updated by the event) and the event's own fact."""
    ctx, choice = _with_language(event, ctx, ruleset.languages)
    fact = build_fact(event, ctx, params)
    fact["chat"]["language"] = choice.language
    return Started(ctx, choice, fact)


def run_features(
    started: Started,
    event: Event,
    enrichers: Mapping[str, Enricher] | None,
    budget: Budget | None = None,
) -> None:
    """The areas' feature stages, in order, their sections merged into the fact."""
    fact, ctx, skipped = started.fact, started.ctx, started.skipped
    for name, enrich in (enrichers or {}).items():
        seen = event
        if budget is not None and budget.spent():
            seen = without_text(event)
            skipped.append(name)
        for section, values in enrich(seen, ctx).items():
            fact.setdefault(section, {}).update(values)
    started.over_budget = bool(skipped) or (budget is not None and budget.spent())


def decision(
    ruleset: Matching,
    event: Event,
    started: Started,
    matched: Sequence[_Rule],
    decided_at: datetime,
) -> Decision:
    """The decision on the rules that matched, its texts in the chat's language."""
    choice = started.choice
    return decide(
        event,
        matched,
        started.fact,
        ruleset.name,
        ruleset.version,
        decided_at,
        choice.language,
        language_source=choice.source,
        skipped_stages=tuple(started.skipped),
    )


def changes(event: Event, started: Started, made: Decision) -> StateChanges:
    """What the event changes in the stored state (``started.ctx.chat`` carries the
    updated language detection, so the changes keep it)."""
    return changes_for(event, made, started.ctx)


def _with_language(
    event: Event, ctx: ChatContext, languages: Sequence[str]
) -> tuple[ChatContext, language.Choice]:
    """The context with the chat's detection updated by the event's message (a person's,
    not an edit) and the language chosen for its texts."""
    chat = ctx.chat
    p = event.payload
    actor = event.envelope.actor
    if isinstance(p, MessagePosted) and not p.is_edit and not (actor and actor.is_bot):
        evidence = language.Evidence.of(chat.language_evidence).add(p.text)
        chat = evolve(
            chat, detected_language=evidence.language(), language_evidence=evidence.pairs()
        )
    choice = language.choose(chat.language, chat.detected_language, languages)
    return evolve(ctx, chat=chat, language=choice.language), choice
