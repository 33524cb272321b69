"""Every shipped rule speaks Chinese (simplified) and English, without internal names.

The walk covers every reason and every action text of every shipped ruleset (the
profiles inherit the base's texts), as written and as rendered from a fact that
fills every placeholder.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from firekeeper.area_registry import VOCABULARY
from firekeeper.domain.decisions import ActionType
from firekeeper.rules import templates
from firekeeper.rules.compiler import CompiledRuleset
from firekeeper.rules.decide import render
from firekeeper.rules.rulebuild import CompiledRule
from firekeeper.rulesets_dir import load
from tests.conftest import RULESETS

HAN = re.compile(r"[\u4e00-\u9fff]")
LATIN = re.compile(r"[A-Za-z]")
# names as code writes them: hard_cap, payment_link, qr_or_card, chat.member_count
INTERNAL = re.compile(r"\b[a-z]+_[a-z_]+\b|\b(?:chat|actor|member|inviter|params)\.[a-z]")
# fields whose values are internal codes or keyword dumps: never shown to people
NOT_FOR_PEOPLE = {
    "message.promo_signals",
    "chat.theme_keywords",
    "message.theme_hits",
    "notice.problems",
    "notice.missing",
    "message.domains",
    "event.kind",
}
SAMPLE = {"int": 7, "number": 0.5, "duration": 3 * 86400, "bool": True, "list": ["a"]}


def _rulesets() -> list[CompiledRuleset]:
    return list(load(RULESETS).all())


def _texts(rule: CompiledRule) -> list[tuple[str, dict[str, str], ActionType | None]]:
    out: list[tuple[str, dict[str, str], ActionType | None]] = [
        (f"{rule.id} reason", dict(rule.reasons.texts), None)
    ]
    for j, action in enumerate(rule.actions):
        if action.texts.texts:
            out.append((f"{rule.id} actions[{j}]", dict(action.texts.texts), action.type))
    return out


def _fact(text: str, durations: frozenset[str]) -> dict[str, Any]:
    """A fact with a value for every placeholder of ``text`` (people's names in letters
    neither script would count: digits)."""
    fact: dict[str, Any] = {}
    found, error = templates.placeholders(text)
    assert error is None
    for path, _ in found:
        if path == templates.MENTION:
            continue
        field = VOCABULARY.lookup(path)
        type_ = "duration" if path in durations else (field.type if field else "int")
        value = SAMPLE.get(type_, "12")
        node = fact
        *parents, last = path.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value
    return fact


def _letters(text: str) -> tuple[int, int]:
    plain = re.sub(r"\{[^}]*\}", " ", text)
    return len(HAN.findall(plain)), len(LATIN.findall(plain))


def test_the_shipped_rulesets_ship_english_and_simplified_chinese() -> None:
    for rs in _rulesets():
        assert rs.languages == ("en", "zh-Hans"), rs.name


@pytest.mark.parametrize("ruleset", _rulesets(), ids=lambda r: r.name)
def test_every_text_is_in_its_language_and_leaks_no_internal_name(
    ruleset: CompiledRuleset,
) -> None:
    checked = 0
    for rule in ruleset.rules:
        for where, texts, action in _texts(rule):
            assert set(texts) == {"en", "zh-Hans"}, where
            for lang, text in texts.items():
                found, _ = templates.placeholders(text)
                used = {p for p, _ in found}
                assert not used & NOT_FOR_PEOPLE, f"{where} {lang}: shows {used & NOT_FOR_PEOPLE}"
                shown = render(text, _fact(text, rule.durations), lang, rule.durations)
                han, latin = _letters(shown)
                if lang == "zh-Hans":
                    # Chinese: Han characters carry the sentence (a few Latin letters
                    # like "@" handles or "OK" are fine)
                    assert han >= 4 and han > latin, f"{where} zh-Hans is not Chinese: {shown}"
                else:
                    assert han == 0 and latin >= 4, f"{where} en is not English: {shown}"
                leak = INTERNAL.search(re.sub(r"\{mention\}", "", shown))
                assert leak is None, f"{where} {lang} shows {leak.group(0)!r}: {shown}"
                # durations in words ("3 天", "3 days"), never a count of seconds
                assert re.search(r"\d{4,} ?(?:seconds|秒)", shown) is None, f"{where}: {shown}"
                assert "259200" not in shown, f"{where}: {shown}"
                if action is ActionType.WARN_USER:
                    # the adapter fills the mention; the sentence after it starts as one
                    assert text.startswith("{mention} "), where
                    first = text[len("{mention} ") :][0]
                    assert first.isupper() or first.isdigit() or HAN.match(first), where
                elif action is not None:
                    first = shown[0]
                    assert (
                        first.isupper() or first.isdigit() or HAN.match(first) or first in "「“"
                    ), f"{where} {lang}: {shown}"
                checked += 1
    assert checked >= 150  # 46 rules: every reason and text, in both languages


def test_the_quieter_nudge_is_the_default_and_the_public_one_is_a_choice() -> None:
    base = next(r for r in _rulesets() if r.name == "base")
    rules = {r.id: r for r in base.rules}
    assert rules["topic.drift_nudge"].mode.value == "enforce"
    assert [a.type for a in rules["topic.drift_nudge"].actions] == [ActionType.NOTIFY_ADMINS]
    assert rules["topic.drift_nudge_public"].mode.value == "off"
    assert [a.type for a in rules["topic.drift_nudge_public"].actions] == [ActionType.POST_MESSAGE]


def test_durations_render_in_words_in_both_languages() -> None:
    base = next(r for r in _rulesets() if r.name == "base")
    rule = next(r for r in base.rules if r.id == "promo.owner_too_early")
    assert "params.promo_min_age" in rule.durations
    fact = {
        "params": {"promo_min_age": 14 * 86400, "promo_min_value": 20},
        "chat": {"value_delivered": 3},
    }
    zh = render(dict(rule.actions[0].texts.texts)["zh-Hans"], fact, "zh-Hans", rule.durations)
    en = render(dict(rule.actions[0].texts.texts)["en"], fact, "en", rule.durations)
    assert "建群满 14 天" in zh and "1209600" not in zh
    assert "14 days old" in en and "1209600" not in en


@pytest.mark.parametrize("ruleset", _rulesets(), ids=lambda r: r.name)
def test_no_text_shows_empty_brackets_when_a_list_or_name_is_empty(
    ruleset: CompiledRuleset,
) -> None:
    # e.g. a promotion only the learned spam score flagged has no rule signal to list:
    # no reason may then read "()" or "（）"
    empty = {**SAMPLE, "list": [], "text": "", "string": ""}
    for rule in ruleset.rules:
        for where, texts, _ in _texts(rule):
            for lang, text in texts.items():
                fact = _fact(text, rule.durations)
                found, _ = templates.placeholders(text)
                for path, _ in found:
                    field = VOCABULARY.lookup(path)
                    if field is not None and field.type in ("list", "text", "string"):
                        *parents, last = path.split(".")
                        node = fact
                        for part in parents:
                            node = node[part]
                        node[last] = empty[field.type]
                shown = render(text, fact, lang, rule.durations)
                assert re.search(r"[(（]\s*[)）]", shown) is None, f"{where} {lang}: {shown}"
