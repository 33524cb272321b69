"""Compiling rulesets: inheritance, params, actions, the index, located errors."""

from __future__ import annotations

import hashlib

import pytest

from firekeeper.domain.decisions import ActionType, RuleMode
from firekeeper.domain.events import EventKind
from firekeeper.errors import InvalidParam, RulesetError, UnknownRuleset
from firekeeper.rules.compiler import ActionTemplate, CompiledRuleset, ParamDef
from tests.compiling import compile_sources
from tests.rules.conftest import Compile

BASE = """\
ruleset: base
version: "3"
description: the base
profile:
  kind: hobby
  theme: {keywords: [knit, yarn], languages: [en]}
params:
  hard_cap:
    default: 200
    description: Joins beyond this are denied
  soft_cap: 150
  quiet: 14d
  ratio: 0.5
  strict: false
  label: {default: hello, type: string}
rules:
  - id: size.hard_cap
    on: member.joined
    when: chat.member_count >= params.hard_cap
    reason: The chat is at its hard cap
    priority: 10
    actions:
      - type: deny_join
      - type: notify_admins
        text: "Denied {member.display_name}: cap {params.hard_cap} {{literal}}"
  - id: size.soft_cap
    on: member.joined
    when: join.resulting_count >= params.soft_cap
    mode: shadow
    reason: Soft cap
  - id: promo.link
    on: message.posted
    when: message.domains contains "t.me"
    reason: No promotion links
    actions:
      - {type: delete_message}
      - {type: mute, duration: 10m, target: actor}
"""

CHILD = """\
ruleset: child
extends: base
params:
  soft_cap: 100
  extra: {default: 3, type: number}
rules:
  - id: size.hard_cap
    mode: off
  - id: promo.link
    when: message.domains contains "bit.ly"
  - id: greet
    on: member.joined
    reason: Welcome
    actions: [{type: post_message, text: "Welcome {member.display_name}"}]
"""


def compile_pair() -> tuple[CompiledRuleset, CompiledRuleset]:
    index = compile_sources({"rulesets/base.yaml": BASE, "rulesets/child.yaml": CHILD})
    return index.get("base"), index.get("child")


def test_compiled_ruleset_shape() -> None:
    index = compile_sources({"rulesets/base.yaml": BASE})
    base = index.get("base")
    digest = hashlib.sha256(BASE.encode()).hexdigest()[:12]
    assert base.version == f"3+{digest}"
    assert (base.name, base.kind, base.description, base.extends) == (
        "base",
        "hobby",
        "the base",
        None,
    )
    assert base.source == "rulesets/base.yaml"
    assert base.theme.keywords == ("knit", "yarn")
    assert base.params["hard_cap"] == ParamDef(
        "hard_cap", "int", 200, "Joins beyond this are denied"
    )
    assert base.params["quiet"] == ParamDef("quiet", "duration", 14 * 86400, "")
    assert base.params["ratio"].type == "number"
    assert base.params["strict"].type == "bool"
    assert base.params["label"].default == "hello"
    first = base.rules[0]
    assert (first.id, first.on, first.mode, first.priority) == (
        "size.hard_cap",
        EventKind.MEMBER_JOINED,
        RuleMode.ENFORCE,
        10,
    )
    assert first.fields == ("chat.member_count", "params.hard_cap")
    assert (first.file, first.line) == ("rulesets/base.yaml", 17)
    assert first.actions[0] == ActionTemplate(ActionType.DENY_JOIN)
    assert base.rules[2].actions[1] == ActionTemplate(ActionType.MUTE, "", 600, "actor")
    assert base.rules[1].actions == ()
    assert "base" in index and "nope" not in index and index.names() == ["base"]
    assert index.all() == (base,)
    with pytest.raises(UnknownRuleset, match="no ruleset named 'nope'"):
        index.get("nope")


def test_version_without_label_hashes_ancestors_too() -> None:
    base, child = compile_pair()
    digest = hashlib.sha256(f"{BASE}\0{CHILD}".encode()).hexdigest()[:12]
    assert child.version == digest
    assert base.version != child.version


def test_extends_inherits_overrides_and_disables() -> None:
    _, child = compile_pair()
    assert child.extends == "base" and child.kind == "hobby"
    rules = {r.id: r for r in child.rules}
    assert [r.id for r in child.rules] == ["size.hard_cap", "size.soft_cap", "promo.link", "greet"]
    assert rules["size.hard_cap"].mode is RuleMode.OFF
    assert rules["size.hard_cap"].reason == "The chat is at its hard cap"  # inherited key
    assert rules["size.hard_cap"].file == "rulesets/child.yaml"
    assert rules["size.soft_cap"].file == "rulesets/base.yaml"
    assert rules["promo.link"].fields == ("message.domains",)
    assert len(rules["promo.link"].actions) == 2
    params = child.params
    assert params["soft_cap"] == ParamDef("soft_cap", "int", 100, "")
    assert params["hard_cap"].default == 200
    assert params["extra"] == ParamDef("extra", "number", 3, "")


def test_off_rules_never_match_and_overrides_take_effect() -> None:
    base, child = compile_pair()
    join = {
        "event": {"kind": "member.joined"},
        "chat": {"member_count": 500},
        "join": {"resulting_count": 120},
    }
    base_fact = {**join, "params": base.resolve_params({})}
    child_fact = {**join, "params": child.resolve_params({})}
    assert [r.id for r in base.match(base_fact)] == ["size.hard_cap"]
    assert [r.id for r in child.match(child_fact)] == ["size.soft_cap", "greet"]
    post = {"event": {"kind": "message.posted"}, "message": {"domains": ["bit.ly"]}}
    assert [r.id for r in base.match(post)] == []
    assert [r.id for r in child.match(post)] == ["promo.link"]


def test_resolve_params() -> None:
    base, _ = compile_pair()
    values = base.resolve_params(
        {"hard_cap": "150", "quiet": "6h", "ratio": "1.5", "strict": "true", "label": "'hi'"}
    )
    assert values == {
        "hard_cap": 150,
        "soft_cap": 150,
        "quiet": 21600,
        "ratio": 1.5,
        "strict": True,
        "label": "hi",
    }
    assert base.resolve_params({"quiet": "3600"})["quiet"] == 3600


@pytest.mark.parametrize(
    ("name", "value", "reason"),
    [
        ("nope", "1", "has no such parameter"),
        ("hard_cap", "many", "not a valid int"),
        ("hard_cap", "1.5", "not a valid int"),
        ("quiet", "two weeks", "not a valid duration"),
        ("strict", "maybe", "not a valid bool"),
        ("ratio", "x", "not a valid number"),
    ],
)
def test_invalid_params(name: str, value: str, reason: str) -> None:
    base, _ = compile_pair()
    with pytest.raises(InvalidParam, match=reason) as info:
        base.resolve_params({name: value})
    assert info.value.field == f"params[{name}]"


def errors_of(sources: dict[str, str]) -> list[str]:
    with pytest.raises(RulesetError) as info:
        compile_sources(sources)
    return [f"{d.file}:{d.line}:{d.column} {d.path}: {d.message}" for d in info.value.diagnostics]


def test_extends_errors() -> None:
    found = errors_of(
        {
            "a.yaml": "ruleset: a\nextends: b\n",
            "b.yaml": "ruleset: b\nextends: a\n",
            "c.yaml": "ruleset: c\nextends: bb\n",
            "d.yaml": "ruleset: a\n",
        }
    )
    assert found == [
        "a.yaml:2:10 extends: extends cycle: a -> b -> a",
        "b.yaml:2:10 extends: extends cycle: a -> b -> a",
        "c.yaml:2:10 extends: extends unknown ruleset 'bb'",
        "d.yaml:1:10 ruleset: ruleset 'a' is already defined in a.yaml",
    ]


def test_inherited_param_keeps_its_type() -> None:
    child = (
        "ruleset: x\nextends: base\nparams:\n  hard_cap: lots\n"
        "  soft_cap: {default: a, type: string}\n"
    )
    found = errors_of({"rulesets/base.yaml": BASE, "rulesets/x.yaml": child})
    assert found == [
        "rulesets/x.yaml:4:13 params.hard_cap: invalid default for 'hard_cap' (int): "
        "expected a whole number",
        "rulesets/x.yaml:5:32 params.soft_cap.type: parameter 'soft_cap' is int in the parent "
        "ruleset, not string",
    ]


def test_action_errors(compile_one: Compile) -> None:
    text = """\
ruleset: t
rules:
  - id: a
    on: chat.updated
    reason: r
    actions:
      - {type: delete_message}
      - {type: warn_user}
      - {type: ban, text: bye}
      - {type: mute, duration: soon}
      - {type: remove, target: inviter}
      - {type: pause_invites, duration: 1h, target: actor}
      - {type: notify_admins, text: "hi {message.text} {params.x}"}
  - id: b
    on: message.posted
    reason: r
  - id: c
    on: message.posted
    mode: enforce
    reason: r
    actions: []
  - id: d
    on: message.posted
  - id: e
    on: member.left
    mode: shadow
    reason: "{member.display_name} left; {message.length} {"
"""
    found = errors_of({"t.yaml": text})
    assert found == [
        "t.yaml:7:16 rules[0].actions[0].type: "
        "delete_message does not apply to chat.updated events",
        "t.yaml:8:9 rules[0].actions[1]: warn_user needs `text`",
        "t.yaml:9:27 rules[0].actions[2].text: ban takes no text",
        "t.yaml:10:32 rules[0].actions[3].duration: invalid duration 'soon'",
        "t.yaml:11:32 rules[0].actions[4].target: there is no inviter on chat.updated events",
        "t.yaml:12:53 rules[0].actions[5].target: pause_invites takes no target",
        "t.yaml:13:42 rules[0].actions[6].text: "
        "message.text is not available on chat.updated events",
        "t.yaml:13:57 rules[0].actions[6].text: unknown placeholder {params.x}",
        "t.yaml:14:9 rules[1].id: an enforced rule needs at least one action",
        "t.yaml:21:14 rules[2].actions: an enforced rule needs at least one action",
        "t.yaml:22:9 rules[3].id: missing required key 'reason'",
        "t.yaml:27:43 rules[4].reason: message.length is not available on member.left events",
        "t.yaml:27:59 rules[4].reason: unclosed '{' in the text (write {{ for a brace)",
    ]


def test_spec_errors() -> None:
    text = """\
ruleset: Bad Name
version: [1]
rules:
  - id: 9lives
    on: message.sent
    reason: r
  - just a string
"""
    found = errors_of({"t.yaml": text})
    assert found == [
        "t.yaml:1:10 ruleset: invalid ruleset 'Bad Name'",
        "t.yaml:2:10 version: invalid version: expected a string, an integer or a number",
    ]
    text = text.replace("Bad Name", "ok").replace("version: [1]\n", "")
    assert errors_of({"t.yaml": text}) == [
        "t.yaml:3:9 rules[0].id: invalid id '9lives'",
        "t.yaml:4:9 rules[0].on: invalid on 'message.sent'",
        "t.yaml:6:5 rules[1]: a rule must be a mapping",
    ]


def test_yaml_keeps_on_and_off_as_strings_and_rejects_duplicate_keys(compile_one: Compile) -> None:
    rs = compile_one("ruleset: t\nrules:\n  - {id: a, on: message.posted, mode: off, reason: r}\n")
    assert rs.rules[0].mode is RuleMode.OFF
    found = errors_of({"t.yaml": "ruleset: t\nruleset: u\n"})
    assert found == ["t.yaml:2:1 ruleset: duplicate key 'ruleset'"]
