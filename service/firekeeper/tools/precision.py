"""``firekeeper precision``: run the healthy and dying group scenarios through the real
pipeline and print, per rule, its actions on healthy groups and the poses it caught.

Every scenario gets a chat of its own on one fresh store (a temporary SQLite file,
or ``--store URL``): it is registered as ``RegisterChat`` registers it, its history
imported as ``ImportChatHistory`` imports it, then its days run in order: at each
day's start the scheduler's round for that day (``firekeeper.scheduler.run_ticks``,
a one-day period, so the time-driven rules run), then the day's events through the
pipeline ``firekeeper.wiring.build_pipeline`` builds for the service, with every
governance area. The pipeline's clock is the time of the event it evaluates.

A healthy group must draw no action at all; a dying group must draw an action from
each rule its scenario expects. Exit status: 0 when both hold, 1 when not, 2 when a
scenario or ruleset cannot be read.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType

from firekeeper.domain.decisions import Action, Decision
from firekeeper.domain.events import Event
from firekeeper.errors import Diagnostic, RulesetError
from firekeeper.pipeline import DEFAULT_RULESET, RulesetHolder
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.scheduler import ChatSelection, run_ticks
from firekeeper.store import Store, create_store
from firekeeper.tools.scenario import (
    DAY,
    DEFAULT_START,
    POSES,
    Expanded,
    Scenario,
    check_pools,
    expand,
    read_scenarios,
)
from firekeeper.wiring import build_pipeline

TICK_SECONDS = DAY  # the rules count days; one round a day decides what hourly rounds would
SCENARIO_SUFFIXES = (".yaml", ".yml")
KDCONV = Path("kdconv_zh_dialogues") / "dialogues.jsonl"


def shipped_scenarios() -> Path:
    """The scenarios that ship with Firekeeper (package data ``firekeeper/scenarios``)."""
    from importlib import resources

    return Path(str(resources.files("firekeeper").joinpath("scenarios"))).resolve()


def default_scenarios() -> Path:
    """``./scenarios`` when it exists, else the shipped scenarios."""
    here = Path.cwd() / "scenarios"
    return here if here.is_dir() else shipped_scenarios()


@dataclass(frozen=True)
class Loaded:
    scenarios: tuple[Scenario, ...]
    pools: Mapping[str, Sequence[str]]


def load_scenarios(directory: Path) -> tuple[Loaded, list[Diagnostic]]:
    """Every scenario and pools file of ``directory`` (sorted by name); problems located."""
    if not directory.is_dir():
        problem = Diagnostic(str(directory), 0, 0, "scenarios directory does not exist")
        return Loaded((), {}), [problem]
    scenarios: list[Scenario] = []
    pools: dict[str, list[str]] = {}
    problems: list[Diagnostic] = []
    names: dict[str, str] = {}
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        if not path.name.endswith(SCENARIO_SUFFIXES):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Diagnostic(str(path), 0, 0, f"cannot read the file: {exc}"))
            continue
        scenario, own_pools, found = read_scenarios(str(path), text)
        problems += found
        for name, texts in own_pools.items():
            if name in pools:
                problems.append(Diagnostic(str(path), 0, 0, f"pool {name!r} is defined twice"))
            pools[name] = texts
        if scenario is not None:
            if scenario.name in names:
                problems.append(
                    Diagnostic(
                        str(path),
                        scenario.line(),
                        1,
                        f"scenario {scenario.name!r} is also in {names[scenario.name]}",
                    )
                )
            names[scenario.name] = str(path)
            scenarios.append(scenario)
    return Loaded(tuple(scenarios), MappingProxyType(pools)), problems


def read_dialogues(root: Path | None) -> dict[str, list[list[str]]] | None:
    """The KdConv dialogues by domain (thu-coai/KdConv, Apache-2.0, as kept in the shared
    datasets: ``{"domain", "dialogue", "messages"}`` per line); None when not found."""
    if root is None:
        return None
    path = root / KDCONV
    if not path.is_file():
        return None
    out: dict[str, list[list[str]]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                messages = [str(m) for m in row.get("messages", []) if str(m).strip()]
                out.setdefault(str(row["domain"]), []).append(messages)
    return out


def _ruleset_name(index: RulesetIndex, kind: str) -> str:
    """The ruleset a chat of ``kind`` registered without one gets (as the pipeline chooses)."""
    return kind if kind in index else DEFAULT_RULESET


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class Acted:
    """An action a scenario drew, with the moment and origin of the event behind it."""

    day: int
    at: datetime
    origin: str  # "talk 2", "moment 4", "tick"
    action: Action


@dataclass
class ScenarioResult:
    scenario: Scenario
    events: int = 0
    ticks: int = 0
    acted: list[Acted] = field(default_factory=list)
    skipped: str = ""  # why it did not run (its dataset is missing)

    @property
    def rules_acted(self) -> Counter[str]:
        return Counter(a.action.rule_id for a in self.acted)

    @property
    def missed(self) -> list[str]:
        got = self.rules_acted
        return [r for r in self.scenario.spec.expect if not got[r]]

    @property
    def ok(self) -> bool:
        if self.skipped:
            return True
        return not self.acted if self.scenario.healthy else not self.missed


@dataclass
class PrecisionRun:
    results: list[ScenarioResult] = field(default_factory=list)
    rules: list[str] = field(default_factory=list)  # every rule id of the rulesets used

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    def ran(self) -> list[ScenarioResult]:
        return [r for r in self.results if not r.skipped]


def run_precision(
    index: RulesetIndex,
    loaded: Loaded,
    *,
    store_url: str | None = None,
    dialogues: Mapping[str, Sequence[Sequence[str]]] | None = None,
    only: str | None = None,
) -> PrecisionRun:
    """Run every scenario (``only``: those whose name contains it) on a fresh store."""
    import tempfile

    run = PrecisionRun()
    tmp = None
    if store_url is None:
        tmp = tempfile.TemporaryDirectory(prefix="firekeeper-precision-")
        store_url = f"sqlite:///{Path(tmp.name) / 'firekeeper.db'}"
    store = create_store(store_url)
    try:
        store.migrate()
        now = [DEFAULT_START]  # each event and round sets it to its own time
        pipeline = build_pipeline(
            store,
            RulesetHolder(index),
            clock=lambda: now[0],
        )
        # a tenant of this run's own: a store used before never answers with old decisions
        tenant = f"precision-{uuid.uuid4().hex[:8]}"
        used: set[str] = set()
        for scenario in loaded.scenarios:
            if only and only.lower() not in scenario.name.lower():
                continue
            result = ScenarioResult(scenario)
            run.results.append(result)
            needs = scenario.datasets()
            if needs and dialogues is None:
                result.skipped = "needs the KdConv dialogues (--datasets DIR)"
                continue
            plan = expand(scenario, tenant=tenant, pools=loaded.pools, dialogues=dialogues or {})
            used.add(plan.registration.ruleset or _ruleset_name(index, plan.registration.kind))
            pipeline.register_chat(plan.registration)
            pipeline.import_history(plan.key, plan.history)
            _run_days(plan, result, pipeline.evaluate, store, now)
        run.rules = sorted({rule.id for name in used for rule in index.get(name).rules})
    finally:
        store.close()
        if tmp is not None:
            tmp.cleanup()
    return run


def _run_days(
    plan: Expanded,
    result: ScenarioResult,
    judge: Callable[[Event], Decision],
    store: Store,
    now: list[datetime],
) -> None:
    key = plan.key
    selection = ChatSelection(key.tenant, key.platform, key.chat_id)
    steps = list(plan.steps)
    n = 0
    for day in range(plan.days + 1):
        day_start = plan.start + timedelta(days=day)
        now[0] = day_start
        ticks = run_ticks(
            store, judge, period_seconds=TICK_SECONDS, at=day_start, selection=selection
        )
        for outcome in ticks.outcomes:
            if outcome.error is not None:
                raise outcome.error
            assert outcome.decision is not None
            result.ticks += 1
            _record(result, day, day_start, "tick", outcome.decision)
        day_end = day_start + timedelta(days=1)
        while n < len(steps) and steps[n].at < day_end and day < plan.days:
            step = steps[n]
            now[0] = step.at
            decision = judge(step.event)
            result.events += 1
            _record(result, day, step.at, step.origin, decision)
            n += 1


def _record(result: ScenarioResult, day: int, at: datetime, origin: str, d: Decision) -> None:
    for action in d.actions:
        result.acted.append(Acted(day, at, origin, action))


# ------------------------------------------------------------------ the table


def render(run: PrecisionRun, *, show: int = 0) -> Iterable[str]:
    """The per-rule table, then each scenario's line (``show``: that many of the actions
    each failing scenario drew, with their day, time and origin)."""
    ran = run.ran()
    healthy = [r for r in ran if r.scenario.healthy]
    dying = [r for r in ran if not r.scenario.healthy]
    hits: dict[str, Counter[str]] = {}
    for r in healthy:
        for rule, count in r.rules_acted.items():
            hits.setdefault(rule, Counter())[r.scenario.name] = count
    caught: dict[str, list[str]] = {}
    for r in dying:
        acted = r.rules_acted
        for rule in r.scenario.spec.expect:
            if acted[rule]:
                caught.setdefault(rule, []).append(str(r.scenario.spec.pose))
    rules = sorted(set(run.rules) | set(hits) | set(caught))
    width = max([len(r) for r in rules] + [4])
    yield f"{'rule':<{width}}  {'healthy actions':>15}  healthy groups hit / poses caught"
    for rule in rules:
        on_healthy = hits.get(rule, Counter())
        total = sum(on_healthy.values())
        groups = ", ".join(f"{name} ({n})" for name, n in sorted(on_healthy.items()))
        poses = ", ".join(sorted(set(caught.get(rule, []))))
        detail = "; ".join(x for x in (groups, f"caught: {poses}" if poses else "") if x)
        yield f"{rule:<{width}}  {total:>15}  {detail or '-'}"
    yield ""
    yield f"healthy groups ({len(healthy)}):"
    for r in healthy:
        s = r.scenario.spec
        verdict = "ok" if r.ok else f"FAIL  {len(r.acted)} actions"
        yield (
            f"  {verdict:<18} {s.scenario:<34} {s.group.kind:<13} {s.group.language:<7}"
            f" {s.weeks}w {r.events} events"
        )
    yield f"dying groups ({len(dying)}):"
    for r in dying:
        s = r.scenario.spec
        verdict = "caught" if r.ok else "MISSED " + ", ".join(r.missed)
        yield f"  {verdict:<18} {s.scenario:<34} {s.pose}: expects {', '.join(s.expect)}"
    skipped = [r for r in run.results if r.skipped]
    for r in skipped:
        yield f"skipped {r.scenario.name}: {r.skipped}"
    by_pose = {pose: [r for r in dying if r.scenario.spec.pose == pose] for pose in POSES}
    yield ""
    yield "poses: " + ", ".join(
        f"{pose} {sum(1 for r in rs if r.ok)}/{len(rs)}" for pose, rs in by_pose.items()
    )
    bad_healthy = sum(len(r.acted) for r in healthy)
    yield (
        f"healthy: {bad_healthy} actions on {sum(1 for r in healthy if r.acted)} of"
        f" {len(healthy)} groups; dying: {sum(1 for r in dying if r.ok)} of {len(dying)} caught"
    )
    if show:
        for r in ran:
            if r.ok:
                continue
            yield ""
            yield f"{r.scenario.name} ({r.scenario.file}):"
            shown = r.acted if r.scenario.healthy else []
            for a in shown[:show]:
                text = " ".join(a.action.text.split())
                yield (
                    f"  day {a.day} {a.at:%H:%M} {a.origin:<10} {a.action.rule_id}:"
                    f" {a.action.type.value} {text[:100]}"
                )
            if r.missed:
                yield f"  no action from {', '.join(r.missed)}"


def command(
    rulesets: Path,
    scenarios: Path,
    *,
    store_url: str | None,
    datasets: Path | None,
    only: str | None,
    show: int,
) -> int:
    """The command: 0 when every healthy group is left alone and every pose caught, 1 when
    not, 2 when the rulesets or scenarios cannot be read."""
    import sys

    from firekeeper.rulesets_dir import load

    try:
        index = load(rulesets)
    except RulesetError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    loaded, problems = load_scenarios(scenarios)
    dialogues = read_dialogues(datasets)
    domains = set(dialogues) if dialogues is not None else None
    for scenario in loaded.scenarios:
        problems += check_pools(scenario, loaded.pools, domains)
        for rule in scenario.spec.expect:
            name = scenario.spec.group.ruleset or _ruleset_name(index, scenario.spec.group.kind)
            if name not in index:
                problems.append(
                    scenario.doc.diagnostic(("group",), f"no ruleset named {name!r} is loaded")
                )
            elif rule not in {r.id for r in index.get(name).rules}:
                problems.append(
                    scenario.doc.diagnostic(("expect",), f"ruleset {name} has no rule {rule!r}")
                )
    if not loaded.scenarios and not problems:
        problems.append(Diagnostic(str(scenarios), 0, 0, "no scenario files in the directory"))
    if problems:
        print(str(RulesetError(problems)), file=sys.stderr)
        return 2
    run = run_precision(index, loaded, store_url=store_url, dialogues=dialogues, only=only)
    for line in render(run, show=show):
        print(line)
    return 0 if run.ok else 1
