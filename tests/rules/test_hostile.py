"""Hostile ruleset files (issue 9 item 5): each is refused with located errors, quickly.

Every attack here crashed ``firekeeper check`` and hot reload with a traceback,
or (the alias bomb) grew the process by ~100 MB/s. The time bounds are far above
the measured figures (milliseconds) and only catch a return of blow-ups.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from firekeeper import cli
from firekeeper.errors import Diagnostic, RulesetError
from firekeeper.rules import conditions, source, spec
from firekeeper.rulesets_dir import read_sources
from tests.compiling import compile_sources

RULE = "  - id: r{i}\n    on: message.posted\n    mode: shadow\n    reason: r\n"


def alias_bomb() -> str:
    """The classic "billion laughs": nine levels of nine aliases, 9**9 strings."""
    lines = ["ruleset: bomb", 'a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def refused(text: str, file: str = "t.yaml") -> list[Diagnostic]:
    started = time.perf_counter()
    with pytest.raises(RulesetError) as info:
        compile_sources({file: text})
    assert time.perf_counter() - started < 1.0
    for d in info.value.diagnostics:  # every one located, with a reason
        assert d.file == file and d.line >= 1 and d.column >= 1 and d.message
    return info.value.diagnostics


def first(text: str) -> tuple[int, int, str, str]:
    d = refused(text)[0]
    return d.line, d.column, d.path, d.message


def test_the_alias_bomb_is_refused_at_its_first_anchor() -> None:
    text = alias_bomb()
    assert len(text.encode()) < 500
    found = refused(text)
    assert (found[0].line, found[0].column, found[0].message) == (2, 5, "anchor &a0 is not allowed")
    assert found[0].hint == source.NO_ANCHORS_HINT
    assert [d.message for d in found[1:3]] == [
        "anchor &a1 is not allowed",
        "alias *a0 is not allowed",
    ]
    assert len(found) == source.MAX_PROBLEMS  # reading stops there


def test_check_rejects_the_alias_bomb_in_under_a_second(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bomb.yaml").write_text(alias_bomb())
    started = time.perf_counter()
    assert cli.main(["check", str(tmp_path)]) == 1
    assert time.perf_counter() - started < 1.0
    err = capsys.readouterr().err
    assert f"--> {tmp_path / 'bomb.yaml'}:2:5" in err and "Traceback" not in err


def test_a_self_referencing_anchor() -> None:
    assert first("ruleset: s\nrules: &r [*r]\n") == (2, 8, "rules", "anchor &r is not allowed")
    messages = [d.message for d in refused("ruleset: s\nrules: &r [*r]\n")]
    assert messages == ["anchor &r is not allowed", "alias *r is not allowed"]


def test_merge_keys_need_an_alias_and_are_refused() -> None:
    text = "ruleset: m\nbase: &b {on: message.posted}\nrules:\n  - <<: *b\n    id: x\n"
    assert [(d.line, d.message) for d in refused(text)] == [
        (2, "anchor &b is not allowed"),
        (4, "alias *b is not allowed"),
    ]


def test_a_thousand_nested_brackets() -> None:
    text = "ruleset: d\nrules:\n  - id: x\n    actions: " + "[" * 1000 + "]" * 1000 + "\n"
    line, _, _, message = first(text)
    # libyaml stops at its own limit while looking ahead; the pure Python parser reaches ours
    assert line == 4
    assert message in (
        "invalid YAML: exceeded maximum nesting depth",
        "nested deeper than 32 levels",
    )


def test_deep_block_nesting() -> None:
    body = "".join("  " * i + f"k{i}:\n" for i in range(1, 60))
    text = "ruleset: d\nextra:\n" + body + "  " * 60 + "leaf: 1\n"
    d = refused(text)[0]
    assert (d.line, d.message) == (2 + source.MAX_DEPTH - 1, "nested deeper than 32 levels")
    assert d.path.startswith("extra.k1.k2.")


def test_ten_thousand_parentheses_in_when() -> None:
    when = "(" * 10_000 + "message.length > 1" + ")" * 10_000
    text = "ruleset: p\nrules:\n" + RULE.format(i=0) + f"    when: '{when}'\n"
    assert first(text) == (7, 11, "rules[0].when", "a value longer than 16384 characters")


def test_conditions_nest_at_most_thirty_two_deep() -> None:
    deep = "(" * 1000 + "message.length > 1" + ")" * 1000
    text = "ruleset: p\nrules:\n" + RULE.format(i=0) + f"    when: '{deep}'\n"
    assert first(text) == (
        7,
        11 + conditions.MAX_DEPTH + 1,  # at the 33rd parenthesis
        "rules[0].when",
        "condition nested deeper than 32 levels",
    )
    nots = "not " * 1000 + "message.is_forward"
    text = "ruleset: p\nrules:\n" + RULE.format(i=0) + f"    when: {nots}\n"
    assert first(text)[3] == "condition nested deeper than 32 levels"
    ok = "(" * 32 + "message.length > 1" + ")" * 32
    text = "ruleset: p\nrules:\n" + RULE.format(i=0) + f"    when: '{ok}'\n"
    assert compile_sources({"t.yaml": text}).get("p")


def test_ten_thousand_rules_stop_at_the_first_one_too_many() -> None:
    text = "ruleset: m\nrules:\n" + "".join(f"- {{id: r{i}}}\n" for i in range(10_000))
    assert len(text.encode()) < source.MAX_FILE_BYTES  # not refused for its size
    assert first(text) == (403, 3, "rules[400]", "more than 400 rules")


def test_a_file_past_the_size_limit() -> None:
    text = "ruleset: big\ndescription: " + "x" * source.MAX_FILE_BYTES + "\n"
    assert first(text) == (1, 1, "", "the file is larger than 262144 bytes")


def test_huge_values_and_numbers() -> None:
    text = f"ruleset: h\ndescription: {'y' * 20_000}\nversion: {'9' * 5000}\n"
    assert [(d.line, d.message) for d in refused(text)] == [
        (2, "a value longer than 16384 characters"),
        (3, "a number longer than 64 characters"),
    ]


def test_control_characters_have_a_line_and_column() -> None:
    text = "ruleset: c\ndescription: a\x00b\nrules:\n  - id: x\x1b\n"
    assert [(d.line, d.column, d.message) for d in refused(text)] == [
        (2, 15, "control character U+0000 is not allowed"),
        (4, 10, "control character U+001B is not allowed"),
    ]


def test_invalid_utf8_has_a_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_bytes(
        b"ruleset: u\ndescription: caf\xc3\xa9 \xff\xfe ok\n\xc3(\n"
    )
    with pytest.raises(RulesetError) as info:
        read_sources(tmp_path)
    assert [(d.line, d.column, d.message) for d in info.value.diagnostics] == [
        (2, 19, "invalid UTF-8 (byte 0xff)"),
        (2, 20, "invalid UTF-8 (byte 0xfe)"),
        (3, 1, "invalid UTF-8 (byte 0xc3)"),
    ]


def test_a_huge_file_on_disk_is_not_read_whole(tmp_path: Path) -> None:
    with (tmp_path / "huge.yaml").open("wb") as f:
        f.truncate(1 << 34)  # 16 GiB, sparse: reading it whole would exhaust memory
    started = time.perf_counter()
    with pytest.raises(RulesetError) as info:
        read_sources(tmp_path)
    assert time.perf_counter() - started < 1.0
    assert [d.message for d in info.value.diagnostics] == ["the file is larger than 262144 bytes"]


def test_a_bug_while_compiling_is_a_located_internal_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(doc: source.Document) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(spec, "read", broken)  # the compiler calls spec.read
    (d,) = refused("ruleset: t\nrules: []\n", file="rulesets/t.yaml")
    assert (d.file, d.line, d.message) == (
        "rulesets/t.yaml",
        1,
        "internal error while compiling: RecursionError",
    )
    assert "bug in Firekeeper" in d.hint
