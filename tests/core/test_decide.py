from dataclasses import dataclass, field

from firekeeper.domain.decisions import ActionType, RuleMode
from firekeeper.rules.decide import decide, render
from firekeeper.rules.facts import build_fact
from firekeeper.rules.language import Localized
from tests.core.builders import T0, chat, ctx, join, message


@dataclass(frozen=True)
class T:
    type: ActionType
    text: str = ""
    duration_seconds: int = 0
    target: str = ""
    texts: Localized = field(default_factory=Localized.none)


@dataclass(frozen=True)
class R:
    id: str
    actions: tuple[T, ...]
    mode: RuleMode = RuleMode.ENFORCE
    reason: str = "because"
    priority: int = 0
    fields: tuple[str, ...] = field(default=("chat.member_count",))
    reasons: Localized = field(default_factory=Localized.none)
    durations: frozenset[str] = frozenset()


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


def test_texts_come_in_the_chosen_language_with_durations_in_words() -> None:
    texts = Localized.of({"en": "wait {params.age}", "zh-Hans": "请等 {params.age}"})
    reasons = Localized.of({"en": "too new", "zh-Hans": "太新了"})
    rule = R(
        "r",
        (T(ActionType.NOTIFY_ADMINS, "wait {params.age}", texts=texts),),
        reason="too new",
        reasons=reasons,
        durations=frozenset({"params.age"}),
    )
    event = message("hi")
    fact = build_fact(event, ctx(chat()), {"age": 3 * 86400})
    zh = decide(event, [rule], fact, "base", "1", T0, language="zh-Hans")
    assert [a.text for a in zh.actions] == ["请等 3 天"]
    assert zh.trace[0].reason == "太新了"
    assert zh.language == "zh-Hans"
    en = decide(event, [rule], fact, "base", "1", T0, language="en")
    assert [a.text for a in en.actions] == ["wait 3 days"]
    default = decide(event, [rule], fact, "base", "1", T0)
    assert [a.text for a in default.actions] == ["wait 3 days"]  # the first language


def test_mention_is_left_for_the_adapter_and_names_the_member() -> None:
    rule = R("r", (T(ActionType.WARN_USER, "{mention} please stop, {actor.display_name}"),))
    event = message("hi")
    fact = build_fact(event, ctx(chat()), {})
    fact["actor"]["display_name"] = "{mention}"  # a name can never fake the placeholder
    (action,) = decide(event, [rule], fact, "base", "1", T0).actions
    assert action.text == "{mention} please stop, { mention }"
    assert action.mention_user_id == action.target_user_id != ""


def test_shares_read_as_percentages_and_booleans_in_words() -> None:
    fact = {"chat": {"off_topic_share": 0.6, "title_changed": True}}
    assert render("{chat.off_topic_share} {chat.title_changed}", fact, "zh-Hans") == "60% 是"
    assert render("{chat.off_topic_share} {chat.title_changed}", fact, "en") == "60% yes"


def test_a_person_without_a_name_is_named_by_their_id() -> None:
    fact = {"member": {"id": "Rose", "display_name": ""}}
    assert render("已拒绝 {member.display_name} 入群", fact, "zh-Hans") == "已拒绝 Rose 入群"
