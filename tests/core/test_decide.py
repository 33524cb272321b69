from dataclasses import dataclass, field

from firekeeper.domain.decisions import ActionType, RuleMode
from firekeeper.rules.decide import decide, render
from firekeeper.rules.facts import build_fact
from tests.core.builders import T0, chat, ctx, join, message


@dataclass(frozen=True)
class T:
    type: ActionType
    text: str = ""
    duration_seconds: int = 0
    target: str = ""


@dataclass(frozen=True)
class R:
    id: str
    actions: tuple[T, ...]
    mode: RuleMode = RuleMode.ENFORCE
    reason: str = "because"
    priority: int = 0
    fields: tuple[str, ...] = field(default=("chat.member_count",))


def test_render_fills_fields_and_marks_unknown() -> None:
    fact = {"chat": {"member_count": 5, "kind": "hobby"}, "params": {"hard_cap": 9}}
    assert render("{chat.member_count}/{params.hard_cap} {actor.account_age}", fact) == "5/9 ?"


def test_shadow_rules_are_traced_but_do_not_act() -> None:
    ev = message()
    fact = build_fact(ev, ctx(), {})
    rules = [
        R("a", (T(ActionType.DELETE_MESSAGE),)),
        R("s", (T(ActionType.BAN),), mode=RuleMode.SHADOW),
    ]
    d = decide(ev, rules, fact, "base", "v1", T0)
    assert [a.type for a in d.actions] == [ActionType.DELETE_MESSAGE]
    assert d.actions[0].target_message_id == "m1"
    assert [(m.rule_id, m.mode) for m in d.trace] == [
        ("a", RuleMode.ENFORCE),
        ("s", RuleMode.SHADOW),
    ]
    assert d.trace[0].values == (("chat.member_count", "10"),)


def test_priority_order_dedup_and_stronger_action_wins() -> None:
    ev = join("u9")
    fact = build_fact(ev, ctx(chat(member_count=3)), {})
    rules = [
        R("low", (T(ActionType.APPROVE_JOIN), T(ActionType.NOTIFY_ADMINS, "hi"))),
        R("high", (T(ActionType.DENY_JOIN), T(ActionType.NOTIFY_ADMINS, "hi")), priority=10),
        R("other", (T(ActionType.NOTIFY_ADMINS, "second notice"),)),
    ]
    d = decide(ev, rules, fact, "base", "v1", T0)
    assert [(a.type, a.rule_id) for a in d.actions] == [
        (ActionType.DENY_JOIN, "high"),
        (ActionType.NOTIFY_ADMINS, "high"),
        (ActionType.NOTIFY_ADMINS, "other"),
    ]
    assert d.actions[0].target_user_id == "u9"
