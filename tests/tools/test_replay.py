"""`firekeeper export` and `firekeeper replay`: the decision log through two ruleset versions."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from firekeeper.cli import main
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.tools.events import EventContext, build_event
from firekeeper.tools.sandbox import Sandbox
from firekeeper.tools.suite import DEFAULT_START, ChatState, MemberState
from tests.compiling import compile_sources

from .support import MINI, write

KEY = ChatKey(Platform.TELEGRAM, "acme", "-100")


def _record(tmp_path: Path) -> Path:
    """Eight events of one chat through MINI (hard cap 3), exported to events.jsonl."""
    store_dir = tmp_path / "store"
    store_dir.mkdir()
    with Sandbox(compile_sources({"base.yaml": MINI}), store_dir) as box:
        box.seed(KEY, "base", ChatState(member_count=1), [MemberState(id="olga")], DEFAULT_START)
        steps = [{"kind": "member.joined", "member": f"m{n}"} for n in range(1, 6)]
        steps += [
            {"kind": "message.posted", "actor": "m1", "text": "see https://a.x https://b.y"},
            {"kind": "member.left", "member": "m1"},
            {"kind": "member.joined", "member": {"id": "bot", "bot": True}},
        ]
        for n, step in enumerate(steps, 1):
            at = DEFAULT_START + timedelta(minutes=n)
            ctx = EventContext(KEY.platform, KEY.tenant, KEY.chat_id, at, f"e{n}")
            box.evaluate(build_event(step, ctx))
    out = tmp_path / "events.jsonl"
    assert (
        main(["export", "--store", f"sqlite:///{store_dir / 'firekeeper.db'}", "--out", str(out)])
        == 0
    )
    return out


def test_export_writes_each_event_with_its_decision(tmp_path: Path) -> None:
    lines = _record(tmp_path).read_text().splitlines()
    assert len(lines) == 8
    first = json.loads(lines[0])
    assert first["event"]["envelope"]["event_id"] == "e1"
    assert first["decision"]["ruleset"] == "base"


def test_replay_against_another_version_reports_rules_and_differences(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _record(tmp_path)
    old = write(tmp_path / "old", {"base.yaml": MINI})
    new = write(tmp_path / "new", {"base.yaml": MINI.replace("hard_cap: 3", "hard_cap: 4")})
    chats = tmp_path / "chats.yaml"
    chats.write_text("chat: {member_count: 1}\nmembers: [{id: olga, role: owner}]\n")
    argv = ["replay", str(events), "--rulesets", str(old), "--against", str(new)]
    assert main([*argv, "--chats", str(chats)]) == 0
    out = capsys.readouterr().out
    assert "replayed 8 events of 1 chats" in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if "." in line[:20]}
    # old: m3 and m4 are denied (1 + 2 = 3 is the cap); new: only m4 (and m5) past 4
    assert rows["size.hard_cap"] == ["3", "6", "2", "4"]
    assert rows["links.newcomer"] == ["1", "(1", "shadow)", "0", "1", "(1", "shadow)", "0"]
    assert "events whose actions differ: 1 of 8" in out  # texts quoting the cap do not count
    assert "line 3  e3  member.joined  telegram/acme/-100" in out
    assert "A: deny_join -> m3; notify_admins" in out and "B: no actions" in out

    assert main([*argv, "--chats", str(chats), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["events"] == 8 and report["differing_events"] == 1
    (diff,) = report["differences"]
    assert diff["event_id"] == "e3" and diff["B"] == []
    rules = {r["rule"]: r for r in report["rules"]}
    assert rules["size.hard_cap"]["A"] == {"matches": 3, "shadow_matches": 0, "actions": 6}
    assert rules["bots.no_bots"]["B"]["actions"] == 1


def test_replay_of_an_export_compares_with_the_recorded_decisions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _record(tmp_path)
    rulesets = write(tmp_path / "rs", {"base.yaml": MINI})
    argv = ["replay", str(events), "--rulesets", str(rulesets), "--json"]
    # from a clean chat (0 members) one more join is admitted than was recorded
    assert main(argv) == 0
    clean = json.loads(capsys.readouterr().out)
    assert clean["versions"][1]["label"] == "recorded"
    assert [d["event_id"] for d in clean["differences"]] == ["e3"]
    chats = tmp_path / "chats.yaml"
    chats.write_text('chats: {"-100": {chat: {member_count: 1}}}\n')
    assert main([*argv, "--chats", str(chats)]) == 0
    assert json.loads(capsys.readouterr().out)["differing_events"] == 0


def test_replay_reads_plain_events_and_names_a_bad_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    exported = _record(tmp_path).read_text().splitlines()
    plain = tmp_path / "plain.jsonl"
    plain.write_text("\n".join(json.dumps(json.loads(x)["event"]) for x in exported) + "\n")
    rulesets = write(tmp_path / "rs", {"base.yaml": MINI})
    assert main(["replay", str(plain), "--rulesets", str(rulesets)]) == 0
    out = capsys.readouterr().out
    assert "replayed 8 events" in out and "events whose actions differ" not in out
    plain.write_text(plain.read_text() + '{"v": 1, "kind": "member.joined"}\n')
    assert main(["replay", str(plain), "--rulesets", str(rulesets)]) == 2
    assert f"{plain}:9:" in capsys.readouterr().err
