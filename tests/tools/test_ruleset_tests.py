"""`firekeeper test`: ruleset test files run through the real pipeline."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from firekeeper.cli import main
from firekeeper.domain.events import ChatTick, JoinMethod, MemberJoined, MessagePosted
from firekeeper.rulesets_dir import load
from firekeeper.tools.events import BUILDERS, EventContext, StepError, build_event
from firekeeper.tools.report import render
from firekeeper.tools.runner import find_test_files, run_tests
from tests.conftest import RULESETS

from .support import MINI, TESTS, write


def test_the_default_rulesets_pass_their_tests() -> None:
    run = run_tests(load(RULESETS), find_test_files(RULESETS))
    assert not run.errors, [d.render() for d in run.errors]
    failed = [(r.name, r.message, [f.problems for f in r.failures]) for r in run.results]
    assert run.ok, [f for f in failed if f[1] or f[2]]
    assert run.count("passed") >= 30


def test_every_size_rule_of_the_defaults_is_exercised() -> None:
    run = run_tests(load(RULESETS), find_test_files(RULESETS))
    missing = {ref.id for ref, _ in run.coverage.missing()}
    assert not missing & {
        "size.hard_cap",
        "size.hard_cap_request",
        "size.soft_cap",
        "size.became_large",
        "size.count_drift",
    }


def test_a_passing_suite_exits_0_and_reports_coverage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"base.yaml": MINI, "base_test.yaml": TESTS})
    assert main(["test", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "ok    the cap holds" in out
    assert "coverage: 2 of 3 rules exercised by a test" in out
    assert "not exercised: bots.no_bots" in out
    assert main(["test", str(tmp_path), "--fail-uncovered"]) == 1


def test_a_failure_shows_what_was_expected_and_what_happened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = TESTS.replace('"hard cap is 3"', '"hard cap is 4"').replace(
        "mode: shadow}", "mode: enforce}"
    )
    write(tmp_path, {"base.yaml": MINI, "base_test.yaml": wrong})
    junit = tmp_path / "junit.xml"
    assert main(["test", str(tmp_path), "--junit", str(junit)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  the cap holds" in out
    assert "expected action notify_admins with text containing 'hard cap is 4'" in out
    assert f"at {tmp_path / 'base_test.yaml'}:9" in out  # the step's line
    assert "actions: deny_join -> carol  [size.hard_cap]" in out
    assert "matched: size.hard_cap (enforce)" in out
    assert "expected rule links.newcomer to match in enforce mode, not shadow" in out
    assert "0 passed, 2 failed" in out
    suites = ET.parse(junit).getroot()
    (suite,) = suites.findall("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "2"
    failure = suite.find("testcase/failure")
    assert failure is not None and "hard cap is 4" in (failure.get("message") or "")


def test_mistakes_in_a_test_file_are_all_reported_with_their_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = """\
ruleset: base
tests:
  - name: bad
    chat: {member_count: 10, agee: 3d}
    steps:
      - kind: member.joind
        member: x
      - kind: message.posted
        actor: {id: x, rol: admin}
        at: tomorrow
        expect:
          actions: [deny_joinn, {type: notify_admins, text_contain: x}]
          rules: [{id: a, mode: shadw}]
"""
    write(tmp_path, {"base.yaml": MINI, "base_test.yaml": bad})
    assert main(["test", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    expected = [
        ("unknown key 'agee'", "base_test.yaml:4:30", "did you mean 'age'?"),
        ("unknown event kind 'member.joind'", "base_test.yaml:6:15", "'member.joined'"),
        ("unknown key 'rol'", "base_test.yaml:9:24", "did you mean 'role'?"),
        ("expected an ISO-8601 time, not 'tomorrow'", "base_test.yaml:10:13", "+2d"),
        ("invalid actions[0] 'deny_joinn'", "base_test.yaml:12:21", "'deny_join'"),
        ("unknown key 'text_contain'", "base_test.yaml:12:55", "'text_contains'"),
        ("invalid mode 'shadw'", "base_test.yaml:13:33", "'shadow'"),
    ]
    for message, where, hint in expected:
        block = out[out.index(message) :]
        assert where in block.split("\n")[1] and hint in block.split("\n")[2], block[:200]
    assert "7 problems in test files" in out


def test_an_unknown_ruleset_is_a_located_error(tmp_path: Path) -> None:
    write(tmp_path, {"base.yaml": MINI, "base_test.yaml": TESTS.replace("base", "bsae", 1)})
    run = run_tests(load(tmp_path), find_test_files(tmp_path))
    assert [d.message for d in run.errors] == ["no ruleset named 'bsae' is loaded"]
    assert run.errors[0].line == 1 and not run.ok


def test_steps_repeat_with_times_and_state_checks(tmp_path: Path) -> None:
    suite = """\
ruleset: base
tests:
  - name: joins up to the cap
    chat: {member_count: 0}
    steps:
      - kind: member.joined
        member: "new{n}"
        repeat: 4
        every: 1h
        expect:
          actions: [{type: deny_join, target: new4}]
          chat: {member_count: 3}
      - kind: member.left
        member: new1
        at: +1d
        expect: {actions: [], chat: {member_count: 2}}
      - kind: member.joined
        member: {id: b, name: casino bot}
        after: 1m
        expect:
          actions: [remove]
          only: true
          not: [deny_join, size.hard_cap]
"""
    write(tmp_path, {"base.yaml": MINI, "base_test.yaml": suite})
    run = run_tests(load(tmp_path), find_test_files(tmp_path))
    (result,) = run.results
    assert result.status == "passed", render(run)
    assert result.steps == 6


def test_only_fails_on_unlisted_actions_and_empty_list_means_none(tmp_path: Path) -> None:
    suite = """\
ruleset: base
chat: {member_count: 3}
tests:
  - name: only
    steps:
      - {kind: member.joined, member: c, expect: {actions: [deny_join], only: true}}
  - name: none
    steps:
      - {kind: member.joined, member: d, expect: {actions: []}}
"""
    write(tmp_path, {"base.yaml": MINI, "base_test.yaml": suite})
    run = run_tests(load(tmp_path), find_test_files(tmp_path))
    problems = [p for r in run.results for f in r.failures for p in f.problems]
    assert problems[0].startswith("expected only the listed actions, also got notify_admins")
    assert problems[1] == "expected no actions"


def test_skip_and_filter(tmp_path: Path) -> None:
    suite = TESTS.replace("  - name: the cap holds\n", "  - name: the cap holds\n    skip: later\n")
    write(tmp_path, {"base.yaml": MINI, "base_test.yaml": suite})
    run = run_tests(load(tmp_path), find_test_files(tmp_path))
    assert [r.status for r in run.results] == ["skipped", "passed"]
    only = run_tests(load(tmp_path), find_test_files(tmp_path), only="NEWCOMER")
    assert [r.name for r in only.results] == ["a newcomer's links are only recorded"]


# ---------------------------------------------------------------- the compact event form


def test_every_kind_has_a_builder_and_builds() -> None:
    ctx = EventContext(owner="olga")
    samples = {
        "message.posted": {
            "actor": "a",
            "text": "hi",
            "links": ["https://x.example"],
            "attachments": ["image", {"kind": "file", "file_name": "a.pdf"}],
            "mentions": ["b", "everyone"],
            "reply_to": "b",
            "forward": "channel",
            "announcement": True,
        },
        "member.joined": {"member": "m", "inviter": "i", "method": "added_by_member"},
        "join.requested": {"member": "m", "answers": ["a", {"question": "q", "answer": "b"}]},
        "member.left": {"member": "m", "reason": "removed", "by": "olga"},
        "chat.updated": {"member_count": 10, "title": "T"},
        "role.changed": {"member": "m", "new": "admin"},
        "chat.tick": {"period": "1d"},
    }
    assert set(samples) == set(BUILDERS)
    for kind, keys in samples.items():
        event = build_event({"kind": kind, **keys}, ctx)
        assert event.kind.value == kind
    joined = build_event({"kind": "member.joined", **samples["member.joined"]}, ctx)
    assert isinstance(joined.payload, MemberJoined)
    assert joined.payload.method is JoinMethod.ADDED_BY_MEMBER
    assert joined.envelope.actor is not None and joined.envelope.actor.id == "i"
    posted = build_event({"kind": "message.posted", **samples["message.posted"]}, ctx)
    assert isinstance(posted.payload, MessagePosted) and posted.payload.is_forward
    tick = build_event({"kind": "chat.tick"}, ctx)
    assert isinstance(tick.payload, ChatTick) and tick.envelope.actor is None


@pytest.mark.parametrize(
    ("step", "path", "message"),
    [
        ({"kind": "message.posted"}, (), "missing required key 'actor'"),
        ({"kind": "member.joined", "member": "m", "methd": "x"}, ("methd",), "unknown key"),
        ({"kind": "member.joined", "member": "m", "method": "link"}, ("method",), "invalid"),
        ({"kind": "member.left", "member": ["m"]}, ("member",), "a person is a user id"),
        ({"kind": "chat.updated", "member_count": -1}, ("member_count",), "whole number"),
    ],
)
def test_step_mistakes_name_the_key(
    step: dict[str, object], path: tuple[str], message: str
) -> None:
    with pytest.raises(StepError) as caught:
        build_event(step, EventContext())
    assert caught.value.path == path and message in caught.value.message


def test_format_json_is_the_whole_run_as_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = TESTS.replace('"hard cap is 3"', '"hard cap is 4"')
    write(tmp_path, {"base.yaml": MINI, "base_test.yaml": wrong})
    assert main(["test", str(tmp_path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)  # nothing but the JSON document
    assert report["format"] == "firekeeper-test-results" and report["version"] == 1
    assert report["ok"] is False
    assert report["summary"] == {
        "passed": 1,
        "failed": 1,
        "errors": 0,
        "skipped": 0,
        "problems": 0,
    }
    failed = next(t for t in report["tests"] if t["status"] == "failed")
    assert failed["name"] == "the cap holds" and failed["ruleset"] == "base"
    (failure,) = failed["failures"]
    assert failure["line"] == 9 and failure["step"] == 1
    assert failure["problems"] == [
        "expected action notify_admins with text containing 'hard cap is 4'"
    ]
    assert [a["type"] for a in failure["decision"]["actions"]] == ["deny_join", "notify_admins"]
    assert report["coverage"]["rules"] == 3 and report["coverage"]["exercised"] == 2
    (missing,) = report["coverage"]["not_exercised"]
    assert missing["id"] == "bots.no_bots" and missing["rulesets"] == ["base"]


def test_format_junit_prints_the_xml_ci_reads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, {"base.yaml": MINI, "base_test.yaml": TESTS})
    assert main(["test", str(tmp_path), "--format", "junit"]) == 0
    root = ET.fromstring(capsys.readouterr().out)
    assert root.tag == "testsuites"
    (suite,) = root.findall("testsuite")
    assert suite.get("tests") == "2" and suite.get("failures") == "0"
    names = [case.get("name") for case in suite.findall("testcase")]
    assert names == ["the cap holds", "a newcomer's links are only recorded"]


def test_a_ruleset_that_does_not_compile_is_reported_in_the_chosen_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = MINI.replace("actor.tenure < 1d", "actor.tenure < 1")
    write(tmp_path, {"base.yaml": broken, "base_test.yaml": TESTS})
    assert main(["test", str(tmp_path), "--format", "json"]) == 1
    report = json.loads(capsys.readouterr().out)
    (problem,) = report["problems"]
    assert problem["file"] == str(tmp_path / "base.yaml")
    line = broken.splitlines()[17]
    assert (problem["line"], problem["column"]) == (18, line.index("< 1 or") + 3)
    assert problem["hint"] == "did you mean 1d?"
    assert main(["test", str(tmp_path), "--format", "junit"]) == 1
    root = ET.fromstring(capsys.readouterr().out)
    error = root.find("testsuite/testcase/error")
    assert error is not None and "did you mean 1d?" in (error.text or "")


CHILD = """\
ruleset: club
extends: base
rules:
  - id: club.no_forwards
    on: message.posted
    when: message.is_forward
    reason: "No forwards"
    actions:
      - type: delete_message
"""

CHILD_TESTS = """\
ruleset: club
tests:
  - name: a forward is deleted
    steps:
      - kind: message.posted
        actor: olga
        forward: true
        text: "look"
        expect:
          actions: [delete_message]
"""


def test_coverage_of_one_file_counts_inherited_rules_where_they_are_defined(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        {
            "base.yaml": MINI,
            "base_test.yaml": TESTS,
            "club.yaml": CHILD,
            "club_test.yaml": CHILD_TESTS,
        },
    )
    index = load(tmp_path)
    alone = run_tests(index, [tmp_path / "club_test.yaml"])
    assert alone.ok, [(r.name, r.message, r.failures) for r in alone.results]
    # club's own rule only: base's three rules are base's, not untested club rules
    assert [ref.id for ref in alone.coverage.rules] == ["club.no_forwards"]
    assert alone.coverage.missing() == []
    both = run_tests(index, find_test_files(tmp_path))
    # each rule once, where it is defined, whichever rulesets inherit it
    assert sorted(ref.id for ref in both.coverage.rules) == [
        "bots.no_bots",
        "club.no_forwards",
        "links.newcomer",
        "size.hard_cap",
    ]
    assert [ref.id for ref, names in both.coverage.missing()] == ["bots.no_bots"]
    assert both.coverage.missing()[0][1] == ["base", "club"]
