"""`firekeeper check` reports every problem of a directory in one run: unreadable
files, YAML, schema, conditions, templates, rulesets built on a broken parent, and
the test files beside the rulesets."""

from __future__ import annotations

from pathlib import Path

import pytest

from firekeeper.cli import main

from .support import MINI, TESTS, write

BROKEN = """\
ruleset: club
descripton: the schema does not know this key
rules:
  - id: trust.links
    on: message.posted
    when: message.link_count > 0 and actor.tenure < 14
    reason: "Links from {actor.nmae}"
    actions:
      - type: delete_message
"""

CHILD = """\
ruleset: readers
extends: club
rules:
  - id: readers.long
    on: message.postd
    when: message.length > 1h
    reason: Too long
"""

BAD_TESTS = """\
ruleset: club
tests:
  - name: links
    stpes: []
"""


def at(text: str, line: int, needle: str) -> int:
    """The 1-based column of ``needle`` on 1-based ``line`` of ``text``."""
    return text.splitlines()[line - 1].index(needle) + 1


def test_every_stage_of_every_file_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"club.yaml": BROKEN, "readers.yaml": CHILD, "club_test.yaml": BAD_TESTS})
    (tmp_path / "latin1.yaml").write_bytes("ruleset: l\ndescription: caf\xe9\n".encode("latin-1"))
    assert main(["check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    club, readers, tests = (str(tmp_path / n) for n in ("club", "readers", "club_test"))
    expected = [
        (f"{club}.yaml:2:1", "unknown key 'descripton'"),
        (f"{club}.yaml:6:{at(BROKEN, 6, '14')}", "actor.tenure is a duration: the bare number 14"),
        (f"{club}.yaml:7:{at(BROKEN, 7, 'actor.nmae')}", "unknown placeholder {actor.nmae}"),
        (f"{tmp_path / 'latin1.yaml'}:2:17", "invalid UTF-8 (byte 0xe9)"),
        (f"{readers}.yaml:5:9", "invalid on 'message.postd'"),
        (
            f"{readers}.yaml:6:{at(CHILD, 6, '1h')}",
            "message.length is a count (int), not a duration",
        ),
        # a misspelt `on` hides nothing else of the rule
        (f"{readers}.yaml:4:9", "an enforced rule needs at least one action"),
        (f"{tests}.yaml:3:5", "missing required key 'steps'"),
        (f"{tests}.yaml:4:5", "unknown key 'stpes'"),
    ]
    for where, message in expected:
        assert f"{message}" in err and f"--> {where}" in err, (where, message, err)
    assert "did you mean 14d?" in err
    assert err.startswith(f"{len(expected)} errors in rulesets:"), err


def test_a_test_file_naming_an_unknown_ruleset_fails_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        tmp_path,
        {"base.yaml": MINI, "base_test.yaml": TESTS.replace("ruleset: base", "ruleset: bsae")},
    )
    assert main(["check", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no ruleset named 'bsae' is loaded" in err
    assert f"--> {tmp_path / 'base_test.yaml'}:1:" in err


def test_a_clean_directory_still_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, {"base.yaml": MINI, "base_test.yaml": TESTS})
    assert main(["check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ok  base" in out and "tests    1 *_test.yaml files" in out
