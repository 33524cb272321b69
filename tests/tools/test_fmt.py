"""`firekeeper fmt`: one canonical layout for ruleset and test files, comments kept,
meaning unchanged, idempotent; `--check` lists what would change."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from firekeeper.cli import main
from firekeeper.rules.compiler import CompiledRuleset, RulesetIndex
from firekeeper.rulesets_dir import scan
from firekeeper.tools.fmt import format_text
from tests.compiling import compile_sources
from tests.conftest import RULESETS

MESSY = """\
# yaml-language-server: $schema=./ruleset.schema.json
# The club's rules.
rules:
    # size first
    -   reason: "The club is full"   # shown to admins
        actions:
        -   type: deny_join
        when: join.resulting_count > params.cap
        id: size.cap
        on: member.joined
    - {reason: 'No bots', on: member.joined, id: bots, when: member.is_bot, mode: shadow}

    # long conditions keep their lines
    - id: links
      on: message.posted
      when: message.link_count > 2
            and actor.tenure < 1d
      reason: |
        Links from newcomers.
          (indented line)
      actions:
        - type: warn_user
          text: {en: "Please wait", zh-Hans: "请先别发链接"}
params:
  cap: 50   # members
ruleset: club
version: "1"
description: >
  A club.
# the end
"""

CANONICAL = """\
# yaml-language-server: $schema=./ruleset.schema.json
# The club's rules.
ruleset: club
version: "1"
description: >
  A club.
params:
  cap: 50  # members
rules:
  # size first
  - id: size.cap
    on: member.joined
    when: join.resulting_count > params.cap
    reason: The club is full  # shown to admins
    actions:
      - type: deny_join
  - {id: bots, on: member.joined, when: member.is_bot, mode: shadow, reason: No bots}

  # long conditions keep their lines
  - id: links
    on: message.posted
    when: message.link_count > 2
      and actor.tenure < 1d
    reason: |
      Links from newcomers.
        (indented line)
    actions:
      - type: warn_user
        text: {en: Please wait, zh-Hans: 请先别发链接}
# the end
"""


def test_the_canonical_layout() -> None:
    out, problems = format_text("club.yaml", MESSY, tests=False)
    assert problems == []
    assert out == CANONICAL
    assert format_text("club.yaml", CANONICAL, tests=False) == (CANONICAL, [])


def test_test_files_follow_their_own_format() -> None:
    text = """\
tests:
  - steps:
      - expect: {rules: [size.cap], actions: [deny_join]}
        member: carol  # the one too many
        kind: member.joined
    name: full
chat: {member_count: 50, owner: olga}
ruleset: club
"""
    out, problems = format_text("club_test.yaml", text, tests=True)
    assert problems == []
    assert out == (
        "ruleset: club\n"
        "chat: {member_count: 50, owner: olga}\n"
        "tests:\n"
        "  - name: full\n"
        "    steps:\n"  # a step's keys are as written; its expect is a model
        "      - expect: {actions: [deny_join], rules: [size.cap]}\n"
        "        member: carol  # the one too many\n"
        "        kind: member.joined\n"
    )


def _meaning(index: RulesetIndex) -> dict[str, object]:
    """What a compiled ruleset does, without where its text sits (lines, version digest)."""

    def strip(rs: CompiledRuleset) -> object:
        rules = tuple(dataclasses.replace(r, line=0) for r in rs.rules)
        return (rs.name, rs.kind, rs.description, rs.extends, dict(rs.params), rules, rs.theme)

    return {rs.name: strip(rs) for rs in index.all()}


def test_every_shipped_file_keeps_its_meaning_and_formats_once(tmp_path: Path) -> None:
    found = scan(RULESETS)
    before = compile_sources(found.sources)
    formatted: dict[str, str] = {}
    for file, text in found.sources.items():
        out, problems = format_text(file, text, tests=False)
        assert problems == [] and out is not None, [p.render() for p in problems]
        assert format_text(file, out, tests=False) == (out, [])  # fmt twice = fmt once
        formatted[file] = out
    assert _meaning(compile_sources(formatted)) == _meaning(before)
    for path in found.tests:
        text = path.read_text(encoding="utf-8")
        out, problems = format_text(str(path), text, tests=True)  # the data is checked inside
        assert problems == [] and out is not None, [p.render() for p in problems]
        assert format_text(str(path), out, tests=True) == (out, [])


def test_check_lists_what_would_change_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "club.yaml").write_text(MESSY, encoding="utf-8")
    (tmp_path / "tidy.yaml").write_text(CANONICAL.replace("club", "tidy"), encoding="utf-8")
    (tmp_path / "state.yaml").write_text("ruleset: club\nchat: {owner: olga}\n", encoding="utf-8")
    assert main(["fmt", "--check", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        f"would reformat {tmp_path / 'club.yaml'}",
        f"skipped  {tmp_path / 'state.yaml'}: not a ruleset or a ruleset test: it names a ruleset"
        " but has none of `rules:`, `extends:`, `profile:` (a chat state file for explain/replay?)",
    ]
    assert "1 of 3 files would be reformatted" in captured.err
    assert (tmp_path / "club.yaml").read_text(encoding="utf-8") == MESSY
    assert main(["fmt", str(tmp_path / "club.yaml")]) == 0
    assert (tmp_path / "club.yaml").read_text(encoding="utf-8") == CANONICAL
    assert main(["fmt", "--check", str(tmp_path)]) == 0
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_broken_file_is_reported_and_left_as_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = "ruleset: club\nrules:\n  - id: a\n    when: [unclosed\n"
    path = tmp_path / "club.yaml"
    path.write_text(broken, encoding="utf-8")
    assert main(["fmt", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"--> {path}:" in err and "invalid YAML" in err
    assert path.read_text(encoding="utf-8") == broken


def test_hostile_input_is_refused_and_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # an alias bomb (tests/rules/test_hostile.py): refused by the ruleset loader before
    # anything else reads it
    lines = ["ruleset: bomb", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    bomb = "\n".join(lines) + "\nrules: []\n"
    path = tmp_path / "bomb.yaml"
    path.write_text(bomb, encoding="utf-8")
    assert main(["fmt", str(path)]) == 1
    err = capsys.readouterr().err
    assert "anchor &a0 is not allowed" in err and "Traceback" not in err
    assert path.read_text(encoding="utf-8") == bomb


def test_hashes_inside_strings_are_not_comments() -> None:
    # many scalars and many `#` on one line: each `#` is looked up, not scanned against
    # every scalar of the line
    items = ", ".join(['"# not a comment #"'] * 900)
    text = f"ruleset: club\nrules: []\nx: [{items}]  # a comment\n"
    out, problems = format_text("club.yaml", text, tests=False)
    assert problems == []
    assert out is not None and out.endswith("]  # a comment\n")
    assert out.count("# not a comment #") == 900


def test_a_comment_fmt_cannot_place_leaves_the_file(tmp_path: Path) -> None:
    text = "ruleset: club\nrules: [  # a comment inside a flow collection\n]\n"
    out, problems = format_text("club.yaml", text, tests=False)
    assert out is None
    (problem,) = problems
    assert (problem.line, problem.message) == (
        2,
        "fmt leaves this file as it is: a comment inside a [..] or {..} collection",
    )


def test_the_shipped_directory_copy_formats_and_still_passes_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copy = tmp_path / "rulesets"
    shutil.copytree(RULESETS, copy)
    assert main(["fmt", str(copy)]) == 0
    assert main(["fmt", "--check", str(copy)]) == 0
    assert main(["check", str(copy)]) == 0
