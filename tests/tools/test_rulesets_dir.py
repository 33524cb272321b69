"""A rulesets directory: which files are rulesets, tests or neither; the shipped rulesets
as package data and as the parents ``extends`` may borrow."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from firekeeper.errors import RulesetError
from firekeeper.metrics import Metrics
from firekeeper.pipeline import RulesetHolder
from firekeeper.reload import Reloader, fingerprint
from firekeeper.rulesets_dir import (
    default_dir,
    load,
    not_a_ruleset,
    read_sources,
    scan,
    shipped_dir,
    shipped_sources,
)
from tests.compiling import compile_sources
from tests.conftest import REPO, RULESETS

from .support import MINI, TESTS

CLUB = """\
ruleset: reading-club
extends: hobby
params:
  hard_cap: 120
"""

# The chat state file of `firekeeper explain --chat` (firekeeper.tools.inputs): it names
# a ruleset but is not one.
CHAT_STATE = "ruleset: hobby\nchat: {member_count: 150, age: 30d, owner: olga}\n"
EVENT = "kind: member.joined\nmember: carol\n"


def _check(directory: Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "firekeeper.cli", "check", str(directory)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=cwd,
    )


def test_rulesets_tests_and_other_files_are_told_apart(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(MINI)
    (tmp_path / "base_test.yaml").write_text(TESTS)
    (tmp_path / "club.yml").write_text(CLUB)
    (tmp_path / "chat.yaml").write_text(CHAT_STATE)
    (tmp_path / "join.yaml").write_text(EVENT)
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "list.yaml").write_text("- 1\n- 2\n")
    (tmp_path / "event.json").write_text("{}")
    (tmp_path / "broken.yaml").write_text("ruleset: [unclosed\n")
    found = scan(tmp_path)
    assert sorted(Path(p).name for p in found.sources) == ["base.yaml", "broken.yaml", "club.yml"]
    assert [p.name for p in found.tests] == ["base_test.yaml"]
    reasons = {s.path.name: s.reason for s in found.skipped}
    assert set(reasons) == {"chat.yaml", "join.yaml", "empty.yaml", "list.yaml"}
    assert "none of `rules:`, `extends:`, `profile:`" in reasons["chat.yaml"]
    assert "no top-level `ruleset:` key" in reasons["join.yaml"]
    assert "kind, member" in reasons["join.yaml"]
    assert reasons["empty.yaml"] == "empty"
    assert reasons["list.yaml"] == "its top level is not a mapping"


def test_a_yaml_file_that_does_not_parse_is_compiled_so_its_error_is_reported() -> None:
    assert not_a_ruleset("ruleset: [unclosed\n") is None
    assert not_a_ruleset("ruleset: x\nprofile: {kind: hobby}\n") is None
    assert not_a_ruleset("ruleset: x\nrules: []\n") is None


def test_check_lists_the_skipped_files_and_why(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(MINI)
    (tmp_path / "chat.yaml").write_text(CHAT_STATE)
    (tmp_path / "join.yaml").write_text(EVENT)
    (tmp_path / "base_test.yaml").write_text(TESTS)
    run = _check(tmp_path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(line.startswith("ok  base ") for line in lines), run.stdout
    assert "skipped  chat.yaml: not a ruleset: it names a ruleset but has none of" in lines[1]
    assert "skipped  join.yaml: not a ruleset: no top-level `ruleset:` key" in lines[2]
    assert "tests    1 *_test.yaml files" in run.stdout


def test_a_directory_of_inputs_only_is_an_error_that_says_what_a_ruleset_is(tmp_path: Path) -> None:
    (tmp_path / "join.yaml").write_text(EVENT)
    with pytest.raises(RulesetError) as caught:
        read_sources(tmp_path)
    assert "a ruleset is a .yaml file with `ruleset:`" in str(caught.value)


def test_an_explain_input_in_the_directory_does_not_block_a_hot_reload(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(MINI)
    registry = CollectorRegistry()
    holder = RulesetHolder(load(tmp_path))
    reloader = Reloader(
        tmp_path, holder, Metrics(registry), fingerprint=fingerprint(read_sources(tmp_path))
    )
    (tmp_path / "join.yaml").write_text(EVENT)
    (tmp_path / "chat.yaml").write_text(CHAT_STATE)
    (tmp_path / "base.yaml").write_text(MINI.replace("hard_cap: 3", "hard_cap: 4"))
    result = reloader.reload()
    assert result.ok and result.changed, result
    assert holder.index.get("base").resolve_params({})["hard_cap"] == 4
    rejected = registry.get_sample_value("firekeeper_ruleset_reloads_total", {"result": "rejected"})
    assert rejected == 0


def test_extends_takes_a_parent_the_directory_lacks_from_the_shipped_rulesets(
    tmp_path: Path,
) -> None:
    (tmp_path / "club.yaml").write_text(CLUB)
    index = load(tmp_path)
    club = index.get("reading-club")
    assert club.extends == "hobby"
    assert club.parent_source == str(shipped_dir() / "hobby.yaml")
    assert club.resolve_params({})["hard_cap"] == 120
    shipped_hobby = load(RULESETS).get("hobby")
    assert {r.id for r in club.rules} == {r.id for r in shipped_hobby.rules}
    assert index.names() == ["reading-club"]  # the borrowed parent is not served on its own


def test_check_says_which_parent_was_used(tmp_path: Path) -> None:
    (tmp_path / "club.yaml").write_text(CLUB)
    run = _check(tmp_path)
    assert run.returncode == 0, run.stderr
    assert f"extends hobby from the shipped rulesets: {shipped_dir() / 'hobby.yaml'}" in run.stdout


def test_a_parent_in_the_directory_wins_over_the_shipped_one(tmp_path: Path) -> None:
    (tmp_path / "hobby.yaml").write_text(MINI.replace("ruleset: base", "ruleset: hobby"))
    (tmp_path / "club.yaml").write_text(CLUB)
    index = load(tmp_path)
    club = index.get("reading-club")
    assert club.parent_source is None
    assert {r.id for r in club.rules} == {"size.hard_cap", "links.newcomer", "bots.no_bots"}


def test_an_unknown_parent_lists_the_shipped_names_too() -> None:
    with pytest.raises(RulesetError) as caught:
        compile_sources({"club.yaml": CLUB.replace("hobby", "hobbby")}, shipped=shipped_sources())
    (problem,) = caught.value.diagnostics
    assert problem.file == "club.yaml" and "extends unknown ruleset 'hobbby'" in problem.message
    assert problem.hint == "did you mean 'hobby'?"


def test_without_shipped_rulesets_a_missing_parent_stays_an_error() -> None:
    with pytest.raises(RulesetError, match="extends unknown ruleset 'hobby'"):
        compile_sources({"club.yaml": CLUB})


def test_the_shipped_rulesets_are_the_repository_folder_and_the_default_elsewhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert shipped_dir() == RULESETS.resolve()
    monkeypatch.chdir(tmp_path)  # no ./rulesets here
    assert default_dir() == shipped_dir()
    (tmp_path / "rulesets").mkdir()
    assert default_dir() == tmp_path / "rulesets"


def test_every_shipped_file_is_package_data() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["firekeeper"]
    files = [p.name for p in RULESETS.iterdir() if p.is_file()]
    assert files
    missing = [f for f in files if not any(fnmatch(f"rulesets/{f}", pat) for pat in patterns)]
    assert not missing, f"add them to [tool.setuptools.package-data]: {missing}"
    link = REPO / "service/firekeeper/rulesets"
    assert link.is_symlink() and link.resolve() == RULESETS.resolve()
