"""Golden rendering of ruleset errors: every mistake, located, all at once.

Set FIREKEEPER_UPDATE_GOLDEN=1 to rewrite the files after an intended change.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from firekeeper.errors import RulesetError
from firekeeper.rules.source import decode
from tests.compiling import compile_sources

GOLDEN = Path(__file__).parent / "golden"

THREE_MISTAKES = """\
ruleset: community
profile:
  kind: hobby
params:
  hard_cap: 200
rules:
  - id: size.hard_cap
    on: member.joined
    when: chat.member_cuont >= params.hard_cap
    reason: The chat is at its hard cap
    actions:
      - type: deny_join
  - id: spam.flood
    on: message.posted
    when: message.link_count > 3
    reason: Too many links
    actions:
      - type: mute
        target: actor
  - id: spam.phone
    on: message.posted
    when: 'message.text matches "(\\d{3}-\\d{4}"'
    reason: Phone numbers are not allowed
    actions:
      - type: delete_message
"""

OTHER_FILE = """\
ruleset: work
extends: community
rules:
  - id: work.hours
    on: message.posted
    when: message.is_forward and actor.tenure < 2 days
    reason: New members may not forward
    actions:
      - type: warn_user
        text: "Hi {actor.display_name}, please wait {params.wait}"
"""


def check_golden(name: str, sources: dict[str, str]) -> None:
    with pytest.raises(RulesetError) as info:
        compile_sources(sources)
    rendered = str(info.value) + "\n"
    path = GOLDEN / name
    if os.environ.get("FIREKEEPER_UPDATE_GOLDEN") == "1":
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")


def test_three_mistakes_in_one_file() -> None:
    check_golden("three_mistakes.txt", {"rulesets/community.yaml": THREE_MISTAKES})


def test_mistakes_in_two_files_are_reported_together() -> None:
    broken_parent = {"rulesets/community.yaml": THREE_MISTAKES}
    standalone = OTHER_FILE.replace("extends: community\n", "")
    check_golden("two_files.txt", {**broken_parent, "rulesets/work.yaml": standalone})


HOSTILE = {
    "rulesets/aliases.yaml": "ruleset: aliases\nshared: &on {on: message.posted}\nrules:\n"
    "  - <<: *on\n    id: a\n    reason: r\n",
    "rulesets/condition.yaml": "ruleset: condition\nrules:\n  - id: c\n    on: message.posted\n"
    "    reason: r\n    when: " + "not " * 40 + "message.is_forward\n",
    "rulesets/control.yaml": "ruleset: control\ndescription: tab\there, escape \x1b here\n",
    "rulesets/nested.yaml": "ruleset: nested\nextra: " + "[" * 40 + "]" * 40 + "\n",
    "rulesets/numbers.yaml": f"ruleset: numbers\nversion: {'7' * 80}\n",
    "rulesets/rules.yaml": "ruleset: rules\nrules:\n"
    + "".join(f"  - {{id: r{i}}}\n" for i in range(500)),
}


def test_hostile_files_are_refused_together_and_located() -> None:
    check_golden("hostile.txt", HOSTILE)


def test_invalid_utf8_is_located() -> None:
    text, problems = decode(
        "rulesets/latin1.yaml", "ruleset: x\ndescription: caf\xe9\n".encode("latin-1")
    )
    assert text is None
    rendered = str(RulesetError(problems)) + "\n"
    path = GOLDEN / "invalid_utf8.txt"
    if os.environ.get("FIREKEEPER_UPDATE_GOLDEN") == "1":
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")


# One file with a mistake at every stage (a top-level key the schema does not know, a
# rule whose `on` is misspelt, a duration compared with a bare number, a placeholder
# that does not exist, a broken priority beside a wrong unit), and a ruleset extending
# it with mistakes of its own: one compile reports them all, each located.
EVERY_STAGE = """\
ruleset: club
descripton: A book club
params:
  quiet_for: 3d
rules:
  - id: trust.newcomer_links
    on: message.postd
    when: message.link_count > 0 and actor.tenure < 14
    reason: New members post no links
    actions:
      - type: delete_message
  - id: owner.silent
    on: chat.tick
    when: chat.days_since_owner_spoke > params.quiet_for
    reason: "The owner has been quiet for {chat.days_since_owner_spke} days"
    actions:
      - type: post_message
        text: "Hello {actor.nmae}"
  - id: size.cap
    on: member.joined
    when: chat.member_count > 14d
    priority: high
    reason: Full
    actions:
      - type: deny_join
"""

EVERY_STAGE_CHILD = """\
ruleset: readers
extends: club
rules:
  - id: trust.newcomer_links
    mode: shadow
  - id: readers.long
    on: message.posted
    when: message.lenght > 3000
    reason: Too long
    actions:
      - type: delete_message
"""


def test_every_stage_reports_at_once() -> None:
    check_golden(
        "every_stage.txt",
        {"rulesets/club.yaml": EVERY_STAGE, "rulesets/readers.yaml": EVERY_STAGE_CHILD},
    )
