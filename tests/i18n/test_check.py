"""`firekeeper check` finds a missing translation where it is missing (file:line)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from firekeeper.errors import RulesetError
from tests.compiling import compile_sources

RULESET = """\
ruleset: demo
languages: [en, zh-Hans]
rules:
  - id: size.cap
    on: member.joined
    when: join.resulting_count > 10
    reason:
      en: "Full."
      zh-Hans: "满员了。"
    actions:
      - type: deny_join
      - type: notify_admins
        text:
          en: "The group is full."
"""


def _errors(sources: dict[str, str]) -> list[str]:
    with pytest.raises(RulesetError) as err:
        compile_sources(sources)
    return [d.render() for d in err.value.diagnostics]


def test_a_text_without_one_of_the_languages_is_a_located_error() -> None:
    (error,) = _errors({"demo.yaml": RULESET})
    assert "no zh-Hans translation of this text" in error
    assert "--> demo.yaml:14:" in error  # the text mapping of the second action
    assert "rules[0].actions[1].text" in error


def test_a_plain_string_in_a_ruleset_of_two_languages_is_an_error() -> None:
    source = RULESET.replace(
        '    reason:\n      en: "Full."\n      zh-Hans: "满员了。"\n', '    reason: "Full."\n'
    )
    errors = _errors({"demo.yaml": source})
    assert any(
        "this reason is in one language only; the ruleset ships en, zh-Hans" in e
        and "demo.yaml:7:" in e
        for e in errors
    ), errors


def test_an_unknown_language_and_a_bad_tag_are_named() -> None:
    source = RULESET.replace(
        '          en: "The group is full."', '          en: "Full."\n          zh-hans: "满了"'
    )
    source = source.replace("languages: [en, zh-Hans]", "languages: [en, zh-Hans, 'not a tag']")
    errors = "\n".join(_errors({"demo.yaml": source}))
    assert "invalid language tag 'not a tag'" in errors and "demo.yaml:2:" in errors
    assert "'zh-hans' is not one of this ruleset's languages" in errors
    assert "did you mean 'zh-Hans'?" in errors


def test_a_ruleset_adding_a_language_needs_it_in_every_inherited_rule() -> None:
    base = RULESET.replace(
        '          en: "The group is full."', '          en: "Full."\n          zh-Hans: "满了"'
    )
    child = "ruleset: child\nextends: demo\nlanguages: [en, zh-Hans, ja]\n"
    errors = _errors({"demo.yaml": base, "child.yaml": child})
    assert len(errors) == 2  # the reason and the text, each where it is written
    assert all("no ja translation" in e and "--> demo.yaml:" in e for e in errors)
    assert all("redefine rule 'size.cap' in 'child'" in e for e in errors)


def test_texts_in_one_language_need_no_mapping() -> None:
    single = (
        "ruleset: one\nrules:\n"
        "  - {id: a, on: member.joined, reason: Because., actions: [{type: deny_join}]}\n"
    )
    (compiled,) = compile_sources({"one.yaml": single}).all()
    assert compiled.languages == ("en",)
    assert compiled.rules[0].reasons.texts == (("en", "Because."),)


def test_the_check_command_prints_the_location(tmp_path: Path) -> None:
    (tmp_path / "demo.yaml").write_text(RULESET, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "firekeeper.cli", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    out = done.stdout + done.stderr
    assert "no zh-Hans translation of this text" in out
    assert f"{tmp_path / 'demo.yaml'}:13:" in out or "demo.yaml:14:" in out
