"""``firekeeper bench``'s core paths replay what the in-process pipeline evaluated."""

from __future__ import annotations

from pathlib import Path

from firekeeper import bench_core
from firekeeper.rulesets_dir import load
from firekeeper.workload import build

REPO = Path(__file__).resolve().parents[2]


def test_the_paths_replay_the_pipelines_full_facts(tmp_path: Path) -> None:
    index = load(REPO / "rulesets")
    work = build(40, n_chats=4)
    calls = bench_core.record(index, work, f"sqlite:///{tmp_path / 'core.db'}")
    assert len(calls) == len(work.events)
    messages = [c for c in calls if c.fact["event"]["kind"] == "message.posted"]
    assert messages
    for call in messages:  # the areas' sections are in the facts the matcher is given
        assert {"promo_score", "topic", "reported_spam_match"} <= set(call.fact["message"])
    for call in calls:  # the replay decides as the pipeline did
        again = bench_core._evaluate(call)
        assert again.fact == call.fact
        fired = [r.id for r in call.ruleset.match(call.fact)]
        assert fired == [m.rule_id for m in again.decision.trace]
    lines, matcher = bench_core.run(index, work, f"sqlite:///{tmp_path / 'again.db'}")
    assert matcher.events == len(work.events)
    names = [line.split()[0] for line in lines if not line.startswith("  (")]
    assert names[:2] == ["bare", "pure"]
    assert [n for n in names if n in ("fact", "features", "match", "decision", "state")] == [
        "fact",
        "features",
        "match",
        "decision",
        "state",
    ]
