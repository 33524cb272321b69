"""Run ruleset test files through the real pipeline and collect results and coverage.

Each test gets a chat of its own in one sandbox store (``firekeeper.tools.sandbox``);
each step's event is evaluated by the pipeline and its decision checked against
the step's ``expect``. Coverage counts, per rule definition (file, line, id),
whether any step matched it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import Action, ActionType, Decision, RuleMode
from firekeeper.errors import Diagnostic, FirekeeperError
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.tools.events import EventContext, build_event, every_of, repeat_of, step_time
from firekeeper.tools.sandbox import Sandbox
from firekeeper.tools.suite import (
    ActionExpect,
    Expect,
    MemberState,
    Suite,
    TestCase,
    is_test_file,
    read_suite,
    unknown_rulesets,
)

_ACTION_TYPES = frozenset(a.value for a in ActionType)
TENANT = "tests"  # every test's chat is in this tenant (the blocklist is per tenant)


@dataclass(frozen=True)
class StepFailure:
    step: int  # 1-based
    line: int
    label: str  # e.g. "member.joined carol at +0s"
    problems: tuple[str, ...]
    decision: Decision | None


@dataclass
class TestResult:
    __test__ = False  # not a pytest test class

    file: str
    name: str
    ruleset: str
    line: int
    status: str = "passed"  # passed | failed | skipped | error
    failures: list[StepFailure] = field(default_factory=list)
    message: str = ""  # the skip reason or the error
    steps: int = 0
    seconds: float = 0.0


@dataclass(frozen=True)
class RuleRef:
    file: str
    line: int
    id: str


@dataclass
class Coverage:
    rules: dict[RuleRef, set[str]] = field(default_factory=dict)  # -> rulesets that have it
    hit: set[RuleRef] = field(default_factory=set)

    @staticmethod
    def of(index: RulesetIndex) -> Coverage:
        cov = Coverage()
        for rs in index.all():
            for rule in rs.rules:
                if rule.mode is not RuleMode.OFF:
                    cov.rules.setdefault(RuleRef(rule.file, rule.line, rule.id), set()).add(rs.name)
        return cov

    def record(self, index: RulesetIndex, decision: Decision) -> None:
        if decision.ruleset not in index:
            return
        by_id = {r.id: r for r in index.get(decision.ruleset).rules}
        for match in decision.trace:
            rule = by_id.get(match.rule_id)
            if rule is not None:
                self.hit.add(RuleRef(rule.file, rule.line, rule.id))

    def restrict(self, index: RulesetIndex, tested: set[str]) -> None:
        """Keep the rules defined in the files of the ``tested`` rulesets: a rule counts once,
        where it is defined, so a child's tests do not list the parent's rules it inherits
        as untested (they count when the parent's tests run too)."""
        files = {index.get(name).source for name in tested if name in index}
        self.rules = {ref: names for ref, names in self.rules.items() if ref.file in files}

    def missing(self) -> list[tuple[RuleRef, list[str]]]:
        return [
            (ref, sorted(names))
            for ref, names in sorted(self.rules.items(), key=lambda kv: (kv[0].file, kv[0].line))
            if ref not in self.hit
        ]


@dataclass
class RunResult:
    results: list[TestResult] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)  # test files that do not parse
    coverage: Coverage = field(default_factory=Coverage)
    files: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return not self.errors and all(r.status in ("passed", "skipped") for r in self.results)


def find_test_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_file() and is_test_file(p.name))


def run_tests(index: RulesetIndex, files: Sequence[Path], *, only: str | None = None) -> RunResult:
    """Run every test of ``files`` on ``index``; ``only``: tests whose name contains it."""
    started = time.perf_counter()
    run = RunResult(coverage=Coverage.of(index), files=[str(f) for f in files])
    suites: list[Suite] = []
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            run.errors.append(Diagnostic(str(path), 0, 0, f"cannot read the file: {exc}"))
            continue
        suite, problems = read_suite(str(path), text)
        run.errors += problems
        if suite is not None:
            run.errors += unknown_rulesets(suite, index)
            suites.append(suite)
    with Sandbox(index) as sandbox:
        for number, suite in enumerate(suites):
            for i, test in suite.tests:
                if only and only.lower() not in test.name.lower():
                    continue
                chat_id = f"{Path(suite.file).stem}-{number}-{i}"
                run.results.append(_run_test(sandbox, suite, i, test, chat_id, run.coverage))
    tested = {suite.ruleset_of(test) for suite in suites for _, test in suite.tests}
    run.coverage.restrict(index, tested)
    run.seconds = time.perf_counter() - started
    return run


def _run_test(
    sandbox: Sandbox, suite: Suite, i: int, test: TestCase, chat_id: str, coverage: Coverage
) -> TestResult:
    ruleset = suite.ruleset_of(test)
    result = TestResult(suite.file, test.name, ruleset, suite.line(("tests", i)))
    if test.skip is not None:
        result.status, result.message = "skipped", test.skip
        return result
    if ruleset not in sandbox.index:
        result.status, result.message = "error", f"no ruleset named {ruleset!r} is loaded"
        return result
    started = time.perf_counter()
    key = ChatKey(suite.header.platform, TENANT, chat_id)
    chat = suite.chat_of(test)
    members = suite.members_of(test)
    try:
        sandbox.use_phishing(suite.phishing_of(test))
        sandbox.seed(key, ruleset, chat, members, suite.header.start)
        blocked = sandbox.blocklist(
            TENANT, suite.blocked_users_of(test), suite.blocked_domains_of(test)
        )
        with blocked, sandbox.reported(key, suite.reported_of(test)):
            _run_steps(sandbox, suite, i, test, key, chat.owner or "", members, result, coverage)
    except FirekeeperError as exc:
        result.status, result.message = "error", str(exc)
    if result.failures and result.status == "passed":
        result.status = "failed"
    result.seconds = time.perf_counter() - started
    return result


def _run_steps(
    sandbox: Sandbox,
    suite: Suite,
    i: int,
    test: TestCase,
    key: ChatKey,
    owner: str,
    members: Sequence[MemberState],
    result: TestResult,
    coverage: Coverage,
) -> None:
    header = suite.header
    chat_id = key.chat_id
    names = {m.id: m.name or m.id for m in members}
    previous = None
    for j, raw in enumerate(test.steps):
        when = step_time(raw, header.start, previous)
        decision = None
        every = every_of(raw)
        for n in range(1, repeat_of(raw) + 1):
            when = when if n == 1 else when + every
            ctx = EventContext(
                platform=header.platform,
                tenant=TENANT,
                chat_id=chat_id,
                occurred_at=when,
                event_id=f"{chat_id}-s{j + 1}-{n}",
                owner=owner,
                names=names,
                n=n,
            )
            event = build_event(raw, ctx)
            decision = sandbox.evaluate(event)
            coverage.record(sandbox.index, decision)
            result.steps += 1
        previous = when
        assert decision is not None
        if "expect" in raw:
            expect = Expect.model_validate(raw["expect"])
            problems = check(expect, decision, sandbox, key)
            if problems:
                where = ("tests", i, "steps", j)
                label = f"{raw.get('kind')} at +{_offset(when - header.start)}"
                result.failures.append(
                    StepFailure(j + 1, suite.line(where), label, tuple(problems), decision)
                )


def check(expect: Expect, decision: Decision, sandbox: Sandbox, key: ChatKey) -> list[str]:
    """What the decision (and the stored chat) fails of ``expect``; empty when it passes."""
    problems: list[str] = []
    actions = list(decision.actions)
    wanted = expect.wanted_actions()
    if wanted is not None and not wanted and actions:
        problems.append("expected no actions")
    unmatched = list(actions)
    for want in wanted or []:
        hit = next((a for a in unmatched if _action_matches(want, a)), None)
        if hit is None:
            problems.append(f"expected action {want.describe()}")
        else:
            unmatched.remove(hit)
    if expect.only and wanted and unmatched:
        extra = ", ".join(describe_action(a) for a in unmatched)
        problems.append(f"expected only the listed actions, also got {extra}")
    trace = {m.rule_id: m.mode for m in decision.trace}
    for rule in expect.wanted_rules():
        mode = trace.get(rule.id)
        if mode is None:
            problems.append(f"expected rule {rule.id} to match")
        elif rule.mode is not None and mode.value != rule.mode:
            problems.append(f"expected rule {rule.id} to match in {rule.mode} mode, not {mode}")
    for never in expect.not_:
        if isinstance(never, ActionExpect):
            if any(_action_matches(never, a) for a in actions):
                problems.append(f"expected no action {never.describe()}")
        elif never in _ACTION_TYPES:
            if any(a.type.value == never for a in actions):
                problems.append(f"expected no {never} action")
        elif never in trace:
            problems.append(f"expected rule {never} not to match")
    if expect.chat is not None:
        record = sandbox.chat(key)
        for name, want_value in expect.chat.model_dump(exclude_none=True).items():
            got = getattr(record, name, None)
            if got != want_value:
                problems.append(f"expected chat {name} {want_value} after the step, got {got}")
    return problems


def _action_matches(want: ActionExpect, action: Action) -> bool:
    if action.type != want.type:
        return False
    if want.target is not None and action.target_user_id != want.target:
        return False
    if want.duration is not None and action.duration_seconds != want.duration:
        return False
    return want.text_contains is None or want.text_contains.casefold() in action.text.casefold()


def describe_action(a: Action) -> str:
    out = a.type.value
    if a.target_user_id:
        out += f" -> {a.target_user_id}"
    if a.duration_seconds:
        out += f" for {a.duration_seconds}s"
    if a.text:
        text = re.sub(r"\s+", " ", a.text)
        out += f' "{text[:117] + "..." if len(text) > 120 else text}"'
    return out + f"  [{a.rule_id}]"


def describe_decision(decision: Decision) -> Iterable[str]:
    yield f"decision by {decision.ruleset} {decision.ruleset_version}:"
    if decision.actions:
        for n, a in enumerate(decision.actions):
            yield ("  actions: " if n == 0 else "           ") + describe_action(a)
    else:
        yield "  actions: none"
    matched = (
        ", ".join(
            f"{m.rule_id} ({m.mode}" + (f", silenced by {m.silenced_by})" if m.silenced_by else ")")
            for m in decision.trace
        )
        or "none"
    )
    yield f"  matched: {matched}"


def _offset(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if total and total % size == 0:
            return f"{total // size}{unit}"
    return f"{total}s"
