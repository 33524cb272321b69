"""How a Pipeline is assembled, shared by the service and the authoring tools.

The service (``firekeeper.app``), ``firekeeper test``, ``replay`` and ``explain``
all build their pipeline here, from every area ``firekeeper.area_registry`` lists, so
a governance area registered there is part of every one of them: a ruleset test runs
the same stages production runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from firekeeper.area_package import AreaContext
from firekeeper.area_registry import Areas, build
from firekeeper.areas.lifecycle.onboarding import import_history
from firekeeper.learned.artefact import shipped
from firekeeper.pipeline import Area, Pipeline, RulesetHolder, StoreTiming
from firekeeper.store import Store


def tools_context() -> AreaContext:
    """What the tools hand the areas: the shipped spam model, no phishing list, no
    metrics, and nothing kept in memory between events."""
    return AreaContext(spam_model=shipped())


def cached_areas() -> AreaContext:
    """The tools' context with the service's in-memory caching (the benchmarks)."""
    return replace(tools_context(), cached=True)


def area_set(rulesets: RulesetHolder | None, context: AreaContext | None = None) -> Areas:
    """Every registered area built for ``context`` (the tools' when none) over
    ``rulesets``."""
    return build(replace(context or tools_context(), rulesets=rulesets))


def governance_areas(
    rulesets: RulesetHolder | None = None, context: AreaContext | None = None
) -> tuple[Area[Any], ...]:
    """Every governance area with state of its own, in evaluation order (the
    registry's); ``context``: what the areas are handed (the tools' when none)."""
    return area_set(rulesets, context).areas


def build_pipeline(
    store: Store,
    rulesets: RulesetHolder,
    *,
    clock: Callable[[], datetime] | None = None,
    timing: StoreTiming | None = None,
    context: AreaContext | None = None,
    areas: Areas | None = None,
    decision_days: int = 0,
    budget_seconds: float | None = None,
    on_over_budget: Callable[[str], None] | None = None,
) -> Pipeline:
    """The pipeline over ``store`` with every governance area; ``budget_seconds``:
    the per-event time budget of the feature stages (none for the tools).

    The areas: ``areas`` when given (built by the caller, who shares something of
    them, e.g. the service's corrections sample cache), else built for ``context``
    (the tools' when none) over ``rulesets``.

    ``decision_days``: the decision log's retention (the service's setting); events
    older than what it pruned are refused. 0 (the tools): every event is evaluated."""
    built = areas if areas is not None else area_set(rulesets, context)
    if clock is None:
        return Pipeline(
            store,
            rulesets,
            timing=timing,
            areas=built.areas,
            decision_days=decision_days,
            budget_seconds=budget_seconds,
            on_over_budget=on_over_budget,
            history=import_history,
        )
    return Pipeline(
        store,
        rulesets,
        clock=clock,
        timing=timing,
        areas=built.areas,
        decision_days=decision_days,
        budget_seconds=budget_seconds,
        on_over_budget=on_over_budget,
        history=import_history,
    )
