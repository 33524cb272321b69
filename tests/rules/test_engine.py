"""The engine port and matching: every matching rule fires, once, and nothing lingers."""

from __future__ import annotations

import durable_rules_engine

from firekeeper.rules.engine import Matcher, _fired, dumps
from tests.compiling import compile_sources
from tests.rules.conftest import Compile, ruleset_yaml

ALL_FIRE = ruleset_yaml("""\
  - {id: a, on: message.posted, mode: shadow, reason: r, when: message.length > 1}
  - {id: b, on: message.posted, mode: shadow, reason: r, when: message.length > 2}
  - {id: c, on: message.posted, mode: shadow, reason: r}
  - {id: d, on: message.posted, mode: shadow, reason: r, when: message.length > 1000}
  - {id: e, on: message.posted, mode: shadow, reason: r,
     when: "message.length > 1 or message.line_count > 1"}
  - {id: f, on: member.joined, mode: shadow, reason: r}
  - {id: g, on: message.posted, mode: off, reason: r}
  - {id: h, on: message.posted, mode: shadow, reason: r, when: not known(actor.account_age)}
""")


def test_all_matching_rules_fire_in_ruleset_order_once_each(compile_one: Compile) -> None:
    rs = compile_one(ALL_FIRE)
    fact = {"event": {"kind": "message.posted"}, "message": {"length": 10, "line_count": 3}}
    assert [r.id for r in rs.match(fact)] == ["a", "b", "c", "e", "h"]
    aged = {**fact, "actor": {"account_age": 86400}}
    assert [r.id for r in rs.match(aged)] == ["a", "b", "c", "e"]  # no leftover state
    assert [r.id for r in rs.match(fact)] == ["a", "b", "c", "e", "h"]


def test_other_kinds_and_unknown_kinds(compile_one: Compile) -> None:
    rs = compile_one(ALL_FIRE)
    assert [r.id for r in rs.match({"event": {"kind": "member.joined"}})] == ["f"]
    assert rs.match({"event": {"kind": "role.changed"}}) == ()
    assert rs.match({"event": {}}) == ()
    assert rs.match({}) == ()


def test_wrongly_typed_values_count_as_missing(compile_one: Compile) -> None:
    rs = compile_one(ALL_FIRE)
    fact = {
        "event": {"kind": "message.posted"},
        "message": {"length": "10", "line_count": True},
        "actor": {"account_age": float("nan")},
    }
    assert [r.id for r in rs.match(fact)] == ["c", "h"]


def test_matcher_reports_fired_names_and_retracts() -> None:
    kind = {"$eq": {"event.kind": "k"}}
    matcher = Matcher(
        {
            "small": {"all": [{"m": {"$and": [kind, {"$lt": {"a.x": 0.00001}}]}}]},
            "big": {"all": [{"m": {"$and": [kind, {"$gt": {"a.x": 1e16}}]}}]},
            "has": {"all": [{"m": {"$and": [kind, {"$iany": {"a.l": {"$eq": {"$i": "t.me"}}}}]}}]},
        }
    )
    assert matcher.match({"event": {"kind": "k"}, "a": {"x": 1e-06}}) == {"small"}
    assert matcher.match({"event": {"kind": "k"}, "a": {"x": 2e16, "l": ["t.me"]}}) == {
        "big",
        "has",
    }
    for _ in range(3):
        assert matcher.match({"event": {"kind": "k"}, "a": {"x": 5}}) == frozenset()


def test_facts_retracted_by_their_id_leave_nothing_in_the_state() -> None:
    """The port retracts a fact by its id alone; the engine keeps no fact after a match,
    whether rules fired or not, and the same fields match again the same way."""
    kind = {"$eq": {"event.kind": "k"}}
    matcher = Matcher(
        {
            "one": {"all": [{"m": {"$and": [kind, {"$gt": {"a.x": 1}}]}}]},
            "two": {"all": [{"m": {"$and": [kind, {"$gt": {"a.x": 2}}]}}]},
        }
    )
    handle = matcher._handle
    for x, fired in ((5, {"one", "two"}), (2, {"one"}), (0, set()), (5, {"one", "two"})):
        assert matcher.match({"event": {"kind": "k"}, "a": {"x": x}}) == fired
        assert durable_rules_engine.get_facts(handle, "0") == "[]"


def test_dumps_never_writes_exponents() -> None:
    assert dumps({"a": [1e-05, 1e16, 2.5, -3, True, None, 'é"\n']}) == (
        '{"a":[0.00001,10000000000000000,2.5,-3,true,null,"é\\"\\n"]}'
    )


def test_unicode_and_texts_reach_the_engine_intact() -> None:
    text = ruleset_yaml("""\
  - {id: a, on: message.posted, mode: shadow, reason: r, when: 'actor.role == "管理者 \\"x\\""'}
  - {id: b, on: message.posted, mode: shadow, reason: r, when: 'message.text contains "ＢＵＹ"'}
  - {id: c, on: message.posted, mode: shadow, reason: r, when: 'message.domains contains "t.me"'}
  - {id: d, on: message.posted, mode: shadow, reason: r,
     when: 'not message.domains contains "t.me"'}
""")
    rs = compile_sources({"t.yaml": text}).get("t")
    fact = {
        "event": {"kind": "message.posted"},
        "actor": {"role": '管理者 "x"'},
        "message": {"text": "please buy", "domains": []},
    }
    assert [r.id for r in rs.match(fact)] == ["a", "b", "d"]


def test_action_messages_are_read_fast_or_parsed() -> None:
    tail = ',"id":"f7","sid":"0"}}}'
    echoed = '{"r1_0":{"m":{"event":{"kind":"k"},"id":"f7","sid":"0"}}}'
    assert _fired(echoed, "f7", tail) == ["r1_0"]
    reordered = '{"r2_0": {"m": {"sid": "0", "id": "f7"}}, "r3_0": {"m": {"id": "f8"}}}'
    assert _fired(reordered, "f7", tail) == ["r2_0"]
    state = '{"r4_0":{"m":{ "sid":"0", "id":"sid-0", "$s":1}}}'
    assert _fired(state, "f7", tail) == []
