"""The child process check before a reload compiles: limits, located errors, last good set."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from firekeeper.errors import Diagnostic
from firekeeper.pipeline import RulesetHolder
from firekeeper.reload import Reloader, fingerprint
from firekeeper.rulesets_dir import load, read_sources
from firekeeper.sandbox import check_in_child

from .support import MINI

GiB = 1 << 30


def test_a_good_set_passes_and_a_bad_one_gets_the_located_errors() -> None:
    assert check_in_child({"base.yaml": MINI}, where="d", memory_bytes=GiB, timeout=120) == []
    found = check_in_child(
        {"bomb.yaml": "ruleset: s\nrules: &r [*r]\n"}, where="d", memory_bytes=GiB, timeout=120
    )
    assert [(d.file, d.line, d.column, d.message) for d in found] == [
        ("bomb.yaml", 2, 8, "anchor &r is not allowed"),
        ("bomb.yaml", 2, 12, "alias *r is not allowed"),
    ]


def test_a_child_out_of_memory_or_time_rejects_the_set() -> None:
    (oom,) = check_in_child({"base.yaml": MINI}, where="d", memory_bytes=16 << 20, timeout=120)
    assert oom.file == "d" and "failed in a child process" in oom.message
    (slow,) = check_in_child({"base.yaml": MINI}, where="d", memory_bytes=GiB, timeout=0.01)
    assert slow == Diagnostic(
        "d",
        0,
        0,
        "compiling the rulesets took longer than 0.01 s",
        hint="the last good rulesets keep serving; run `firekeeper check` on the files to see why",
    )


def test_the_reloader_rejects_what_the_child_rejects(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(MINI)
    holder = RulesetHolder(load(tmp_path))
    seen: list[int] = []

    def check(sources: Mapping[str, str]) -> list[Diagnostic]:
        seen.append(len(sources))
        return check_in_child(sources, where=str(tmp_path), memory_bytes=GiB, timeout=0.01)

    reloader = Reloader(
        tmp_path, holder, fingerprint=fingerprint(read_sources(tmp_path)), check=check
    )
    good = holder.index
    (tmp_path / "base.yaml").write_text(MINI + "\n# an edit\n")
    result = reloader.reload()
    assert seen == [1] and not result.ok and holder.index is good
    assert result.errors[0].message == "compiling the rulesets took longer than 0.01 s"
