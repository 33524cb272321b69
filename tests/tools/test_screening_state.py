"""Ruleset tests that declare screening state: `chat.screening`, `blocklist`, `phishing`."""

from __future__ import annotations

from pathlib import Path

import pytest

from firekeeper.cli import main
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.domain.screening import BlockKind
from firekeeper.rulesets_dir import load
from firekeeper.tools.report import render
from firekeeper.tools.runner import TENANT, find_test_files, run_tests
from firekeeper.tools.sandbox import Sandbox
from firekeeper.tools.suite import DEFAULT_START, ChatState

from .support import write

SCREENING = """\
ruleset: base
version: "1"
rules:
  - id: blocked.member
    on: member.joined
    when: member.blocked
    reason: blocked
    actions: [{type: deny_join}]
  - id: blocked.inviter
    on: member.joined
    when: inviter.blocked
    reason: blocked inviter
    actions: [{type: hold_for_review}]
  - id: blocked.actor
    on: message.posted
    when: actor.blocked
    reason: blocked actor
    actions: [{type: ban}]
  - id: answers
    on: join.requested
    when: known(request.answers_match) and not request.answers_match
    reason: "{request.answers_missing} missing"
    actions: [{type: hold_for_review}]
  - id: phishing
    on: message.posted
    when: message.phishing_links > 0
    reason: phishing
    actions: [{type: remove}]
  - id: blocked.domain
    on: message.posted
    when: message.blocked_links > 0
    reason: blocked domain
    actions: [{type: delete_message}]
  - id: outside
    on: message.posted
    when: message.outside_links > 0
    reason: outside link
    actions: [{type: warn_user, text: outside}]
"""


def _run(tmp_path: Path, suite: str) -> list[tuple[str, str, list[str]]]:
    write(tmp_path, {"base.yaml": SCREENING, "base_test.yaml": suite})
    run = run_tests(load(tmp_path), find_test_files(tmp_path))
    assert not run.errors, render(run)
    return [
        (r.name, r.status, [p for f in r.failures for p in f.problems] + [r.message])
        for r in run.results
    ]


def test_blocklist_phishing_and_settings_reach_the_rules(tmp_path: Path) -> None:
    suite = """\
ruleset: base
blocklist:
  users: [mallory]
  domains: ["https://www.Casino.example/x"]
phishing: [wallet.example]
tests:
  - name: the file's entries and the test's
    blocklist:
      users: [{id: trent, platform: telegram}, {id: eve, platform: discord}]
    phishing: [steal.example]
    chat:
      screening:
        allowed_domains: [Club.example]
        entry_patterns: ["(?i)rules"]
    steps:
      - {kind: member.joined, member: mallory, expect: {actions: [deny_join], only: true}}
      - {kind: member.joined, member: trent, expect: {rules: [blocked.member]}}
      - {kind: member.joined, member: eve, expect: {actions: []}}
      - kind: member.joined
        member: dave
        inviter: mallory
        method: added_by_member
        expect: {actions: [{type: hold_for_review, target: dave}], only: true}
      - {kind: message.posted, actor: mallory, text: hi, expect: {rules: [blocked.actor]}}
      - kind: message.posted
        actor: ben
        text: "https://a.wallet.example https://steal.example https://x.casino.example"
        expect: {rules: [phishing, blocked.domain, outside]}
      - kind: message.posted
        actor: ben
        text: "https://shop.club.example"
        expect: {actions: []}
      - kind: join.requested
        member: r1
        answers: ["I read the Rules"]
        expect: {actions: []}
      - kind: join.requested
        member: r2
        answers: ["yes"]
        expect: {actions: [hold_for_review], rules: [answers]}
  - name: the next test has only the file's entries
    steps:
      - {kind: member.joined, member: trent, expect: {actions: []}}
      - {kind: member.joined, member: mallory, expect: {rules: [blocked.member]}}
      - kind: message.posted
        actor: ben
        text: "https://steal.example https://shop.club.example"
        expect: {rules: [outside], not: [phishing, blocked.domain]}
      - kind: join.requested
        member: r2
        answers: ["yes"]
        expect: {actions: []}
  - name: without any screening state
    steps:
      - kind: message.posted
        actor: ben
        text: "https://a.wallet.example https://x.casino.example"
        expect: {rules: [phishing, blocked.domain]}
"""
    results = _run(tmp_path, suite)
    assert [(name, status) for name, status, _ in results] == [
        ("the file's entries and the test's", "passed"),
        ("the next test has only the file's entries", "passed"),
        ("without any screening state", "passed"),
    ], results


def test_the_blocklist_is_emptied_after_each_test(tmp_path: Path) -> None:
    suite = """\
ruleset: base
tests:
  - name: blocks
    blocklist: {users: [mallory], domains: [casino.example]}
    steps:
      - {kind: member.joined, member: mallory, expect: {actions: [deny_join]}}
  - name: does not
    steps:
      - {kind: member.joined, member: mallory, expect: {actions: []}}
"""
    assert [s for _, s, _ in _run(tmp_path, suite)] == ["passed", "passed"]
    with Sandbox(load(tmp_path)) as box:
        with box.blocklist(TENANT, [(Platform.TELEGRAM, "mallory")], ["casino.example"]):
            listed = box.admin.list_blocklist(TENANT).items
            assert {(e.kind, e.value) for e in listed} == {
                (BlockKind.USER, "mallory"),
                (BlockKind.DOMAIN, "casino.example"),
            }
        assert box.admin.list_blocklist(TENANT).items == ()


def test_chat_screening_is_stored_as_set_chat_screening_stores_it(tmp_path: Path) -> None:
    write(tmp_path, {"base.yaml": SCREENING})
    state = ChatState.model_validate(
        {"screening": {"allowed_domains": ["https://WWW.Club.example/", "club.example"]}}
    )
    key = ChatKey(Platform.TELEGRAM, TENANT, "c1")
    with Sandbox(load(tmp_path)) as box:
        box.seed(key, "base", state, [], DEFAULT_START)
        settings = box.admin.get_settings(key)
    assert settings.allowed_domains == ("club.example",)
    assert settings.entry_patterns == ()


def test_an_over_the_limit_setting_fails_the_test_as_the_api_would(tmp_path: Path) -> None:
    patterns = ", ".join(f'"p{i}"' for i in range(21))
    suite = f"""\
ruleset: base
tests:
  - name: too many
    chat: {{screening: {{entry_patterns: [{patterns}]}}}}
    steps:
      - {{kind: member.joined, member: a}}
"""
    ((_, status, problems),) = _run(tmp_path, suite)
    assert status == "error"
    assert "entry_patterns" in problems[-1] and "at most 20 patterns" in problems[-1]


def test_mistakes_in_screening_keys_are_located(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = """\
ruleset: base
tests:
  - name: bad
    phishing: ["not a domain"]
    chat:
      screening: {entry_patterns: ["(unclosed"], allowed: [a.example]}
    blocklist:
      users: [{id: x, platform: icq}]
      domain: [b.example]
    steps:
      - {kind: member.joined, member: a}
"""
    write(tmp_path, {"base.yaml": SCREENING, "base_test.yaml": bad})
    assert main(["test", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    expected = [
        ("invalid phishing[0]: 'not a domain' is not a domain", "base_test.yaml:4:16"),
        ("invalid entry_patterns[0]: not a valid RE2 pattern", "base_test.yaml:6:36"),
        ("unknown key 'allowed'", "base_test.yaml:6:50"),
        ("invalid platform 'icq'", "base_test.yaml:8:33"),
        ("unknown key 'domain'", "base_test.yaml:9:7"),
    ]
    for message, where in expected:
        assert message in out, out
        block = out[out.index(message) :]
        assert where in block.split("\n")[1], block[:200]
    assert "did you mean 'allowed_domains'?" in out
    assert "did you mean 'domains'?" in out
