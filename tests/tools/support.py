"""A small rulesets directory for the authoring tools' tests, independent of the defaults."""

from __future__ import annotations

from pathlib import Path

MINI = """\
ruleset: base
version: "1"
params:
  hard_cap: 3
  link_limit: 1
rules:
  - id: size.hard_cap
    on: member.joined
    when: join.resulting_count > params.hard_cap
    reason: "Full at {params.hard_cap}"
    priority: 100
    actions:
      - type: deny_join
      - type: notify_admins
        text: "Denied {member.id}: the hard cap is {params.hard_cap}."
  - id: links.newcomer
    on: message.posted
    when: message.link_count > params.link_limit and (actor.tenure < 1d or not known(actor.tenure))
    mode: shadow
    reason: "A newcomer posted {message.link_count} links"
    actions: []
  - id: bots.no_bots
    on: member.joined
    when: member.is_bot or member.display_name contains any ["casino", "crypto"]
    reason: "No bots"
    actions:
      - type: remove
"""

TESTS = """\
ruleset: base
chat: {owner: olga, age: 30d}
members:
  - {id: olga, role: owner}
tests:
  - name: the cap holds
    chat: {member_count: 3}
    steps:
      - kind: member.joined
        member: carol
        expect:
          actions: [deny_join, {type: notify_admins, text_contains: "hard cap is 3"}]
          rules: [size.hard_cap]
  - name: a newcomer's links are only recorded
    members:
      - {id: nina, tenure: 2h}
    steps:
      - kind: message.posted
        actor: nina
        text: "see https://a.example and https://b.example"
        expect:
          actions: []
          rules: [{id: links.newcomer, mode: shadow}]
"""


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).write_text(text, encoding="utf-8")
    return directory
