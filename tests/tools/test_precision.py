"""``firekeeper precision``: the healthy and dying group scenarios through the real pipeline.

The suite itself runs on SQLite and on PostgreSQL: no healthy group may draw an action and
every dying group must draw the actions its scenario expects. Three healthy scenarios talk
in dialogues of KdConv (thu-coai/KdConv, Apache-2.0: crowdsourced Chinese dialogues on film,
music and travel), read from the shared fixtures
(``../shared/fixtures/datasets/kdconv_zh_dialogues``, see ``SOURCES.md``).
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from firekeeper.rulesets_dir import load
from firekeeper.tools.precision import (
    command,
    load_scenarios,
    read_dialogues,
    render,
    run_precision,
)
from firekeeper.tools.scenario import POSES, expand
from tests.conftest import REPO, RULESETS

SCENARIOS = REPO / "scenarios"
DATASETS = REPO.parent / "shared" / "fixtures" / "datasets"
KINDS = {"work", "hobby", "growth", "family", "entertainment", "goal"}


def test_the_suite_covers_every_kind_both_languages_and_every_pose_twice() -> None:
    loaded, problems = load_scenarios(SCENARIOS)
    assert problems == []
    healthy = [s.spec for s in loaded.scenarios if s.healthy]
    dying = [s.spec for s in loaded.scenarios if not s.healthy]
    assert len(healthy) >= 15
    assert {s.group.kind for s in healthy} == KINDS
    assert {s.group.language for s in healthy} == {"en", "zh-Hans"}
    assert all(s.weeks >= 4 for s in healthy)
    poses = Counter(s.pose for s in dying)
    assert set(poses) == set(POSES)
    assert min(poses.values()) >= 2
    # some healthy Chinese talk comes from the dialogue data, not only from our own pools
    assert sum(1 for s in loaded.scenarios if s.datasets()) >= 3


def test_expansion_is_deterministic_and_ids_are_unique() -> None:
    loaded, _ = load_scenarios(SCENARIOS)
    dialogues = read_dialogues(DATASETS)
    assert dialogues is not None
    for scenario in loaded.scenarios:
        first = expand(scenario, tenant="t", pools=loaded.pools, dialogues=dialogues)
        again = expand(scenario, tenant="t", pools=loaded.pools, dialogues=dialogues)
        assert first == again
        ids = [s.event.envelope.event_id for s in first.steps]
        assert len(ids) == len(set(ids))
        assert [s.at for s in first.steps] == sorted(s.at for s in first.steps)
        assert all(
            first.start <= s.at < first.start + timedelta(days=first.days) for s in first.steps
        )


def test_healthy_groups_draw_no_action_and_every_pose_is_caught(store_url: str) -> None:
    loaded, problems = load_scenarios(SCENARIOS)
    assert problems == []
    run = run_precision(
        load(RULESETS), loaded, store_url=store_url, dialogues=read_dialogues(DATASETS)
    )
    assert all(not r.skipped for r in run.results)
    assert all(r.events > 0 and r.ticks > 0 for r in run.results)
    table = "\n".join(render(run, show=5))
    false_alarms = {
        (r.scenario.name, a.action.rule_id)
        for r in run.results
        if r.scenario.healthy
        for a in r.acted
    }
    misses = {(r.scenario.name, rule) for r in run.results for rule in r.missed}
    assert false_alarms == set(), table
    assert misses == set(), table
    assert run.ok, table


SMALL = """
scenario: small-club
{pose}
start: 2025-03-03T00:00:00Z
weeks: 1
group:
  kind: hobby
  language: en
  title: Knitting Corner
  age: 400d
  theme: {{keywords: [knit, yarn, needles, pattern, wool]}}
  people:
    - {{id: kim, role: owner, joined: 400d}}
    - {{id: lou, joined: 300d}}
talk:
  - {{who: [kim, lou], per_week: 6, pool: knitting}}
moments:
  - day: 2
    time: "10:00"
    kind: message.posted
    actor: kim
    announcement: true
    text: "{notice}"
pools:
  knitting: [The new yarn is so soft, Which needles for this pattern?, Finished the wool hat]
"""
LONG = " ".join(["Please read all of this carefully before Saturday, it matters."] * 40)


def _dir(tmp_path: Path, pose: str = "", notice: str = "Knit night Friday 7pm at the cafe") -> Path:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "small.yaml").write_text(SMALL.format(pose=pose, notice=notice), encoding="utf-8")
    return folder


def test_the_command_exits_0_when_the_groups_are_judged_as_their_scenarios_say(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = command(RULESETS, _dir(tmp_path), store_url=None, datasets=None, only=None, show=3)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "ok                 small-club" in out
    assert "healthy: 0 actions on 0 of 1 groups" in out


def test_an_action_on_a_healthy_group_fails_the_command_and_names_the_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _dir(tmp_path, notice=LONG)
    code = command(RULESETS, folder, store_url=None, datasets=None, only=None, show=3)
    out = capsys.readouterr().out
    assert code == 1
    row = next(line for line in out.splitlines() if line.startswith("notice.too_long"))
    assert row.split()[1] == "1" and "small-club (1)" in row
    assert "day 2 10:00 moment 1   notice.too_long: " in out


def test_a_dying_group_passes_when_its_expected_rule_acts_and_fails_when_it_does_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pose = "pose: no_designed_communication\nexpect: [notice.too_long]"
    caught = command(
        RULESETS, _dir(tmp_path, pose, LONG), store_url=None, datasets=None, only=None, show=0
    )
    assert caught == 0
    assert "caught: no_designed_communication" in capsys.readouterr().out
    (tmp_path / "scenarios" / "small.yaml").unlink()
    (tmp_path / "scenarios").rmdir()
    missed = command(
        RULESETS, _dir(tmp_path, pose), store_url=None, datasets=None, only=None, show=0
    )
    assert missed == 1
    assert "MISSED notice.too_long" in capsys.readouterr().out


def test_a_bad_scenario_is_reported_with_its_location_and_nothing_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _dir(tmp_path, "pose: no_leading")
    text = (folder / "small.yaml").read_text(encoding="utf-8")
    text = text.replace("who: [kim, lou]", "who: [kim, lu]").replace("pool: knitting", "pool: knit")
    (folder / "small.yaml").write_text(text, encoding="utf-8")
    code = command(RULESETS, folder, store_url=None, datasets=None, only=None, show=0)
    err = capsys.readouterr()
    assert code == 2
    assert err.out == ""
    assert "small.yaml:" in err.err
    assert "a dying group names the rules that must act on it" in err.err
