"""``firekeeper replay``: recorded events through one or two ruleset versions, and the diff.

Each version runs in a sandbox of its own (a fresh SQLite store with every
governance area), so both see the same events from the same starting state.
A chat is seeded from the state file when its first event arrives. Without a
second version, a file exported from the decision log is compared with the
decisions it recorded.

Two decisions differ when their actions differ in type, target or duration
(not in text, the rule that asked, or order: a changed threshold changes the
texts that quote it, which is not a change of behaviour).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import Action, Decision, RuleMode
from firekeeper.errors import FirekeeperError
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.tools.inputs import Recorded, StateFile, chat_key
from firekeeper.tools.runner import describe_action
from firekeeper.tools.sandbox import Sandbox

MAX_LISTED = 10_000  # differences kept in the report


@dataclass
class Version:
    label: str  # A, B or recorded
    source: str  # the rulesets directory, or the events file
    rulesets: list[tuple[str, str]] = field(default_factory=list)
    matches: Counter[str] = field(default_factory=Counter)  # rule -> events it matched
    shadow: Counter[str] = field(default_factory=Counter)  # rule -> shadow matches
    actions: Counter[str] = field(default_factory=Counter)  # rule -> actions returned
    errors: int = 0

    def count(self, decision: Decision) -> None:
        for m in decision.trace:
            self.matches[m.rule_id] += 1
            if m.mode is RuleMode.SHADOW:
                self.shadow[m.rule_id] += 1
        for a in decision.actions:
            self.actions[a.rule_id] += 1


@dataclass(frozen=True)
class Difference:
    line: int
    event_id: str
    kind: str
    chat: str
    actions: tuple[tuple[str, ...], ...]  # per version, described


@dataclass
class Report:
    file: str
    versions: list[Version]
    events: int = 0
    chats: int = 0
    differing: int = 0
    differences: list[Difference] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def rules(self) -> list[str]:
        seen: set[str] = set()
        for v in self.versions:
            seen |= set(v.matches) | set(v.actions)
        return sorted(seen)

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "events": self.events,
            "chats": self.chats,
            "versions": [
                {"label": v.label, "source": v.source, "rulesets": dict(v.rulesets)}
                for v in self.versions
            ],
            "rules": [
                {
                    "rule": rule,
                    **{
                        v.label: {
                            "matches": v.matches[rule],
                            "shadow_matches": v.shadow[rule],
                            "actions": v.actions[rule],
                        }
                        for v in self.versions
                    },
                }
                for rule in self.rules()
            ],
            "differing_events": self.differing,
            "differences": [
                {
                    "line": d.line,
                    "event_id": d.event_id,
                    "kind": d.kind,
                    "chat": d.chat,
                    **{
                        v.label: list(acts)
                        for v, acts in zip(self.versions, d.actions, strict=True)
                    },
                }
                for d in self.differences
            ],
            "errors": self.errors,
        }


class _Side:
    """One version: a sandbox on its rulesets (or the recorded decisions)."""

    def __init__(self, version: Version, index: RulesetIndex | None, state: StateFile) -> None:
        self.version = version
        self.state = state
        self.sandbox = Sandbox(index) if index is not None else None
        self.seeded: set[ChatKey] = set()
        if index is not None:
            version.rulesets = [(rs.name, rs.version) for rs in index.all()]

    def decide(self, item: Recorded) -> Decision | None:
        if self.sandbox is None:
            return item.recorded
        key = chat_key(item.event)
        if key not in self.seeded:
            self.seeded.add(key)
            setup = self.state.setup_for(key.chat_id)
            ruleset = setup.ruleset or (item.recorded.ruleset if item.recorded else "")
            if ruleset and ruleset not in self.sandbox.index:
                ruleset = ""  # the recorded ruleset is not in this version: the kind's default
            self.sandbox.seed(
                key, ruleset, setup.chat, setup.members, item.event.envelope.occurred_at
            )
        return self.sandbox.evaluate(item.event)

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()


def replay(
    items: Iterable[Recorded],
    sides: list[tuple[Version, RulesetIndex | None]],
    state: StateFile,
    *,
    file: str = "",
    tick: Callable[[], object] = lambda: None,
) -> Report:
    """Run every event through every version; ``None`` as an index: the recorded decisions."""
    report = Report(file, [v for v, _ in sides])
    runners = [_Side(v, index, state) for v, index in sides]
    chats: set[ChatKey] = set()
    try:
        for item in items:
            report.events += 1
            chats.add(chat_key(item.event))
            outcomes: list[tuple[tuple[str, str, int], ...] | None] = []
            decisions: list[Decision | None] = []
            for side in runners:
                try:
                    decision = side.decide(item)
                except FirekeeperError as exc:
                    side.version.errors += 1
                    report.errors.append(f"line {item.line} ({side.version.label}): {exc}")
                    decision = None
                if decision is not None:
                    side.version.count(decision)
                outcomes.append(None if decision is None else _signature(decision.actions))
                decisions.append(decision)
            tick()
            if len(runners) > 1 and len(set(outcomes)) > 1:
                report.differing += 1
                if len(report.differences) < MAX_LISTED:
                    env = item.event.envelope
                    report.differences.append(
                        Difference(
                            item.line,
                            env.event_id,
                            item.event.kind.value,
                            f"{env.platform.value}/{env.tenant}/{env.chat_id}",
                            tuple(
                                _described(d.actions) if d is not None else ("(no decision)",)
                                for d in decisions
                            ),
                        )
                    )
    finally:
        for side in runners:
            side.close()
    report.chats = len(chats)
    return report


def _signature(actions: Iterable[Action]) -> tuple[tuple[str, str, int], ...]:
    return tuple(sorted((a.type.value, a.target_user_id, a.duration_seconds) for a in actions))


def _described(actions: Iterable[Action]) -> tuple[str, ...]:
    return tuple(describe_action(a).rsplit("  [", 1)[0] for a in actions)


def render(report: Report, *, listed: int = 50) -> str:
    out: list[str] = []
    out.append(f"replayed {report.events} events of {report.chats} chats from {report.file}")
    for v in report.versions:
        names = ", ".join(f"{n}@{ver}" for n, ver in v.rulesets) or "decisions in the file"
        out.append(f"  {v.label}: {v.source}  ({names})")
    labels = [v.label for v in report.versions]
    rules = report.rules()
    width = max([len("rule"), *(len(r) for r in rules)])
    head = f"{'rule':<{width}}"
    for label in labels:
        head += f"  {'matches ' + label:>18}  {'actions ' + label:>10}"
    out += ["", head, "-" * len(head)]
    for rule in rules:
        row = f"{rule:<{width}}"
        for v in report.versions:
            shadow = v.shadow[rule]
            matches = f"{v.matches[rule]}" + (f" ({shadow} shadow)" if shadow else "")
            row += f"  {matches:>18}  {v.actions[rule]:>10}"
        out.append(row)
    if not rules:
        out.append("(no rule matched any event)")
    if len(report.versions) > 1:
        out.append("")
        out.append(f"events whose actions differ: {report.differing} of {report.events}")
        for d in report.differences[:listed]:
            out.append(f"  line {d.line}  {d.event_id}  {d.kind}  {d.chat}")
            for label, acts in zip(labels, d.actions, strict=True):
                out.append(f"    {label}: {'; '.join(acts) if acts else 'no actions'}")
        if report.differing > listed:
            out.append(f"  ... and {report.differing - listed} more (--json lists them all)")
    if report.errors:
        out.append("")
        out.append(f"errors: {len(report.errors)}")
        out += [f"  {e}" for e in report.errors[:listed]]
    return "\n".join(out) + "\n"
