"""How a Pipeline is assembled, shared by the service and the authoring tools.

The service (``firekeeper.app``), ``firekeeper test``, ``replay`` and ``explain``
all build their pipeline here, so a governance area added to
:func:`governance_areas` is part of every one of them: a ruleset test runs the
same stages production runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from firekeeper.areas.corrections.area import CorrectionsArea, SampleCache
from firekeeper.areas.corrections.features import ReportedSamples
from firekeeper.areas.lifecycle.area import LifecycleArea, Loaded
from firekeeper.areas.lifecycle.onboarding import import_history
from firekeeper.areas.screening.area import ScreeningArea
from firekeeper.areas.screening.features import TrustContext
from firekeeper.learned.artefact import shipped
from firekeeper.pipeline import Area, Pipeline, RulesetHolder, StoreTiming
from firekeeper.store import Store


def governance_areas(
    rulesets: RulesetHolder | None = None,
    *,
    screening: ScreeningArea | None = None,
    corrections: CorrectionsArea | None = None,
) -> tuple[Area[Any], ...]:
    """Every governance area with state of its own, in evaluation order.

    Add a new area here (not in ``firekeeper.app``) so the tools run it too.
    ``rulesets``: the loaded rulesets, for areas that read a ruleset's profile.
    ``screening``: the screening area as the service configures it (phishing list,
    metrics, spam model); the tools get one without a phishing list, with the shipped
    spam model.
    ``corrections``: the corrections area with the sample cache the service shares with
    its Corrections API; the tools get one that checks the store at every message.
    """
    # typed as Area[their state], so the type checker holds each load, stage and write
    # to one state type
    lifecycle: Area[Loaded] = LifecycleArea(rulesets)
    trust: Area[TrustContext | None] = screening or ScreeningArea(spam_model=shipped())
    reported: Area[ReportedSamples | None] = corrections or CorrectionsArea(
        SampleCache(ttl_seconds=0)
    )
    return (lifecycle, trust, reported)


def build_pipeline(
    store: Store,
    rulesets: RulesetHolder,
    *,
    clock: Callable[[], datetime] | None = None,
    timing: StoreTiming | None = None,
    screening: ScreeningArea | None = None,
    corrections: CorrectionsArea | None = None,
    decision_days: int = 0,
    budget_seconds: float | None = None,
    on_over_budget: Callable[[str], None] | None = None,
) -> Pipeline:
    """The pipeline over ``store`` with every governance area; ``budget_seconds``:
    the per-event time budget of the feature stages (none for the tools).

    ``decision_days``: the decision log's retention (the service's setting); events
    older than what it pruned are refused. 0 (the tools): every event is evaluated."""
    areas = governance_areas(rulesets, screening=screening, corrections=corrections)
    if clock is None:
        return Pipeline(
            store,
            rulesets,
            timing=timing,
            areas=areas,
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
        areas=areas,
        decision_days=decision_days,
        budget_seconds=budget_seconds,
        on_over_budget=on_over_budget,
        history=import_history,
    )
