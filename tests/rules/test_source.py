"""Locations: errors inside multi-line strings point at the right line and column."""

from __future__ import annotations

import pytest

from firekeeper.errors import RulesetError
from firekeeper.rules.templates import placeholders, render
from tests.compiling import compile_sources

DOC = """\
ruleset: t
rules:
  - id: literal
    on: message.posted
    mode: shadow
    reason: r
    when: |
      message.length > 10 and
        message.nope
  - id: folded
    on: message.posted
    mode: shadow
    reason: r
    when: >-
      message.length > 10 and
      message.text == "x"
  - id: plain
    on: message.posted
    mode: shadow
    reason: r
    when: message.length > 10 and
      chat.membercount > 1
  - id: quoted
    on: message.posted
    mode: shadow
    reason: r
    when: "message.length > 10 and
      actor.is_bott"
"""


def test_positions_inside_block_folded_plain_and_quoted_scalars() -> None:
    with pytest.raises(RulesetError) as info:
        compile_sources({"t.yaml": DOC})
    found = [(d.line, d.column, d.message) for d in info.value.diagnostics]
    assert found == [
        (9, 9, "unknown field 'message.nope'"),
        (16, 7, "text is never compared exactly; use contains or matches"),
        (22, 7, "unknown field 'chat.membercount'"),
        (28, 7, "unknown field 'actor.is_bott'"),
    ]
    lines = DOC.splitlines()
    for line, column, message in found:
        path = message.split("'")[1] if "'" in message else "message.text"
        assert lines[line - 1][column - 1 :].startswith(path)


def test_templates() -> None:
    assert placeholders("Hi {actor.display_name}, {{not}} { params.cap }") == (
        [("actor.display_name", 4), ("params.cap", 35)],
        None,
    )
    found, error = placeholders("a {x} } b")
    assert found == [("x", 3)] and error is not None and error.pos == 6
    values = {"actor.display_name": "Ann", "params.cap": "5"}
    assert render("Hi {actor.display_name}, {{ok}} {params.cap}", values.__getitem__) == (
        "Hi Ann, {ok} 5"
    )
