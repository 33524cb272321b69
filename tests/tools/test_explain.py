"""Explanations (which rule matched, which failed on what) and shadow mode at ruleset level."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from firekeeper.api import convert
from firekeeper.area_registry import VOCABULARY
from firekeeper.cli import main
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import RuleMode
from firekeeper.domain.events import Event, Platform
from firekeeper.errors import RulesetError
from firekeeper.metrics import Metrics
from firekeeper.rules.conditions import parse
from firekeeper.rules.explain import explain, unparse
from firekeeper.store.codec import decision_from_json, decision_to_json, event_to_json
from firekeeper.tools.events import EventContext, build_event
from firekeeper.tools.sandbox import Sandbox
from firekeeper.tools.suite import DEFAULT_START, ChatState, MemberState
from tests.compiling import compile_sources

from .support import MINI

KEY = ChatKey(Platform.TELEGRAM, "tests", "chat")


def _sandbox(text: str = MINI) -> Sandbox:
    return Sandbox(compile_sources({"base.yaml": text}))


def _event(step: dict[str, object], n: int = 1) -> Event:
    at = DEFAULT_START + timedelta(seconds=n)
    return build_event(step, EventContext(occurred_at=at, event_id=f"e{n}"))


@pytest.mark.parametrize(
    "text",
    [
        "chat.member_count >= params.hard_cap",
        "a.b and (c.d or not e.f)",
        "not (a.b and c.d)",
        'x.y contains any ["a", "b"] or x.z contains "q"',
        'x.y in [1, 2] and x.z not in ["a"] and known(q.r) and w.v < 7d',
        'message.text matches "\\\\d+"',
    ],
)
def test_unparse_reads_back_as_the_same_condition(text: str) -> None:
    node = parse(text)
    assert _strip(parse(unparse(node))) == _strip(node)


def _strip(node: object) -> object:
    """The AST without positions."""
    if isinstance(node, tuple):
        return tuple(_strip(n) for n in node)
    fields = getattr(node, "__dataclass_fields__", None)
    if fields is None:
        return node
    return (type(node).__name__, *(_strip(getattr(node, f)) for f in fields if f != "pos"))


def test_and_points_at_the_first_false_part_and_or_at_every_branch() -> None:
    index = compile_sources({"base.yaml": MINI})
    rules = index.get("base").rules
    fact = {
        "event": {"kind": "member.joined"},
        "join": {"resulting_count": 2},
        "member": {"is_bot": False, "display_name": "Ann"},
        "params": {"hard_cap": 3, "link_limit": 1},
    }
    types = {"hard_cap": "int", "link_limit": "int"}
    checks = explain(rules, "member.joined", fact, [], types, VOCABULARY)
    cap, bots = checks
    assert not cap.matched and cap.mode is RuleMode.ENFORCE
    ((part,),) = [cap.failed]
    assert part.condition == "join.resulting_count > params.hard_cap"
    assert part.values == (("join.resulting_count", "2"), ("params.hard_cap", "3"))
    assert [f.condition for f in bots.failed] == [
        "member.is_bot",
        'member.display_name contains any ["casino", "crypto"]',
    ]
    assert bots.failed[1].values == (("member.display_name", '"Ann"'),)


def test_the_pipeline_explains_on_request_and_stores_it() -> None:
    with _sandbox() as box:
        box.seed(KEY, "base", ChatState(member_count=3), [], DEFAULT_START)
        plain = box.evaluate(_event({"kind": "member.joined", "member": "m"}, 1))
        assert plain.explanation == ()
        event = _event({"kind": "member.joined", "member": {"id": "b", "bot": True}}, 2)
        box.now = DEFAULT_START
        decision = box.pipeline.evaluate(event, explain=True)
        assert [(c.rule_id, c.matched) for c in decision.explanation] == [
            ("size.hard_cap", True),
            ("bots.no_bots", True),
        ]
        again = box.pipeline.evaluate(event, explain=True)
        assert again.replayed and again.explanation == decision.explanation
    stored = decision_from_json(decision_to_json(decision))
    assert stored.explanation == decision.explanation
    assert convert.decision_from_proto(convert.decision_to_proto(decision)) == decision
    assert "explanation" not in decision_to_json(plain)


def test_a_shadow_ruleset_records_every_match_but_returns_no_action() -> None:
    trial = "ruleset: trial\nextends: base\nmode: shadow\nrules: []\n"
    index = compile_sources({"base.yaml": MINI, "trial.yaml": trial})
    assert {r.mode for r in index.get("trial").rules} == {RuleMode.SHADOW}
    assert index.get("base").rules[0].mode is RuleMode.ENFORCE
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    with Sandbox(index) as box:
        box.seed(KEY, "trial", ChatState(member_count=3), [], DEFAULT_START)
        event = _event({"kind": "member.joined", "member": "m"})
        decision = box.evaluate(event)
    assert decision.actions == ()
    assert [(m.rule_id, m.mode) for m in decision.trace] == [("size.hard_cap", RuleMode.SHADOW)]
    metrics.observe_decision(event, decision, 0.001)
    sample = registry.get_sample_value(
        "firekeeper_rule_matches_total", {"rule": "size.hard_cap", "mode": "shadow"}
    )
    assert sample == 1.0


def test_ruleset_mode_off_is_refused_with_its_location() -> None:
    with pytest.raises(RulesetError) as caught:
        compile_sources({"base.yaml": "mode: off\n" + MINI})
    (d,) = caught.value.diagnostics
    assert (d.line, d.column, d.path) == (1, 7, "mode") and "invalid mode 'off'" in d.message


def test_explain_command_prints_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rulesets = tmp_path / "rulesets"
    rulesets.mkdir()
    (rulesets / "base.yaml").write_text(MINI)
    (tmp_path / "event.yaml").write_text(
        "kind: member.joined\nmember: {id: carol, name: Carol}\nat: 2025-01-06T12:00:00Z\n"
    )
    (tmp_path / "chat.yaml").write_text("chat: {member_count: 1, owner: olga}\n")
    argv = ["explain", str(tmp_path / "event.yaml"), "--rulesets", str(rulesets)]
    assert main([*argv, "--chat", str(tmp_path / "chat.yaml")]) == 0
    out = capsys.readouterr().out
    assert "actions   none" in out
    assert "rules on member.joined: 0 matched of 2" in out
    assert (
        "  no       size.hard_cap\n           false: join.resulting_count > params.hard_cap\n"
        in out
    )
    assert "join.resulting_count = 2, params.hard_cap = 3" in out
    assert main(argv) == 0  # a clean chat: 0 members
    assert main([*argv, "--json"]) == 0
    assert '"explanation": [' in capsys.readouterr().out


def test_explain_takes_an_exported_line_and_says_what_is_wrong_with_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rulesets = tmp_path / "rulesets"
    rulesets.mkdir()
    (rulesets / "base.yaml").write_text(MINI)
    (tmp_path / "bad.yaml").write_text("kind: member.joined\nmembr: x\n")
    assert main(["explain", str(tmp_path / "bad.yaml"), "--rulesets", str(rulesets)]) == 2
    assert "missing required key 'member'" in capsys.readouterr().err
    with _sandbox() as box:
        box.seed(KEY, "base", ChatState(member_count=3), [MemberState(id="olga")], DEFAULT_START)
        event = _event({"kind": "member.joined", "member": "m"})
        decision = box.evaluate(event)
    line = {"event": event_to_json(event), "decision": decision_to_json(decision)}
    (tmp_path / "line.json").write_text(json.dumps(line))
    (tmp_path / "chat.yaml").write_text("chat: {member_count: 3}\n")
    argv = ["explain", str(tmp_path / "line.json"), "--rulesets", str(rulesets)]
    assert main([*argv, "--chat", str(tmp_path / "chat.yaml")]) == 0
    assert "MATCHED  size.hard_cap" in capsys.readouterr().out
