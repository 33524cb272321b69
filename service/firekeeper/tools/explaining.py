"""``firekeeper explain``: evaluate one event with its explanation and print it readably."""

from __future__ import annotations

import re
from collections.abc import Iterator

from firekeeper.area_registry import VOCABULARY
from firekeeper.domain.decisions import Decision, RuleCheck
from firekeeper.domain.events import Event
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.rules.explain import duration_text
from firekeeper.tools.inputs import ChatSetup, Recorded, chat_key
from firekeeper.tools.runner import describe_action
from firekeeper.tools.sandbox import Sandbox


def explain_event(index: RulesetIndex, item: Recorded, setup: ChatSetup) -> Decision:
    """The decision on ``item.event`` in a fresh sandbox seeded with ``setup``, explained."""
    event = item.event
    ruleset = setup.ruleset or (item.recorded.ruleset if item.recorded else "")
    with Sandbox(index) as sandbox:
        sandbox.seed(
            chat_key(event), ruleset, setup.chat, setup.members, event.envelope.occurred_at
        )
        sandbox.now = event.envelope.occurred_at
        return sandbox.pipeline.evaluate(event, explain=True)


def render(event: Event, decision: Decision, index: RulesetIndex) -> str:
    return "\n".join(_lines(event, decision, index)) + "\n"


def _lines(event: Event, decision: Decision, index: RulesetIndex) -> Iterator[str]:
    env = event.envelope
    who = env.actor.id if env.actor else "nobody"
    yield f"event     {event.kind.value} {env.event_id} by {who} at {env.occurred_at.isoformat()}"
    yield f"chat      {env.platform.value}/{env.tenant}/{env.chat_id}"
    yield f"ruleset   {decision.ruleset} {decision.ruleset_version}"
    if decision.language:
        why = _LANGUAGE_SOURCES.get(decision.language_source, decision.language_source)
        yield f"language  {decision.language} ({why})"
    params: dict[str, str] = {}
    if decision.ruleset in index:
        params = {n: p.type for n, p in index.get(decision.ruleset).params.items()}
    yield ""
    yield "actions" if decision.actions else "actions   none"
    for a in decision.actions:
        yield f"  {describe_action(a)}"
    yield ""
    checks = decision.explanation
    matched = sum(c.matched for c in checks)
    yield f"rules on {event.kind.value}: {matched} matched of {len(checks)}"
    for check in checks:
        yield from _check(check, decision, params)


_LANGUAGE_SOURCES = {
    "declared": "declared at registration",
    "detected": "detected from the chat's messages",
    "default": "the ruleset's default: none declared or detected that it ships",
}


def _check(check: RuleCheck, decision: Decision, params: dict[str, str]) -> Iterator[str]:
    mode = "" if check.mode.value == "enforce" else f" ({check.mode.value}: actions not returned)"
    if check.matched:
        yield f"  MATCHED  {check.rule_id}{mode}"
        reason = next((m.reason for m in decision.trace if m.rule_id == check.rule_id), "")
        if reason:
            yield f"           because: {reason}"
        if check.values:
            yield f"           with {_values(check.values, params)}"
        return
    yield f"  no       {check.rule_id}{mode}"
    for failed in check.failed:
        yield f"           false: {failed.condition}"
        if failed.values:
            yield f"                  {_values(failed.values, params)}"


def _values(values: tuple[tuple[str, str], ...], params: dict[str, str]) -> str:
    return ", ".join(f"{path} = {_value(path, text, params)}" for path, text in values)


def _value(path: str, text: str, params: dict[str, str]) -> str:
    """The JSON value, with durations also in days/hours (``1209600 (2w)``)."""
    if path.startswith("params."):
        type_ = params.get(path.removeprefix("params."), "")
    else:
        field = VOCABULARY.lookup(path)
        type_ = field.type if field else ""
    if type_ == "duration" and re.fullmatch(r"\d+", text):
        return f"{text} ({duration_text(int(text))})"
    if text == "absent":
        return "absent (not known)"
    return text if len(text) <= 80 else text[:77] + "..."
