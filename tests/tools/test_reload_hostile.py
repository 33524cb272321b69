"""Hot reload of hostile ruleset files: each is rejected with located errors, the last good
set keeps deciding, and the process does not grow (issue 9 item 5).

Before the loader was bounded, reloading the alias bomb grew the process by
~100 MB/s until it died, and the other files raised tracebacks on the reload
thread. The RSS bound below is many times the noise and far below what one
bomb used to cost.
"""

from __future__ import annotations

import gc
from pathlib import Path

from prometheus_client import CollectorRegistry

from firekeeper.metrics import Metrics
from firekeeper.pipeline import RulesetHolder
from firekeeper.reload import Reloader, fingerprint
from firekeeper.rulesets_dir import load, read_sources
from tests.rules.test_hostile import RULE, alias_bomb

from .support import MINI

HOSTILE: dict[str, bytes] = {
    "alias bomb": alias_bomb().encode(),
    "self reference": b"ruleset: s\nrules: &r [*r]\n",
    "deep nesting": b"ruleset: d\nrules:\n  - id: x\n    actions: " + b"[" * 1000 + b"]" * 1000,
    "10,000 parentheses": (
        "ruleset: p\nrules:\n"
        + RULE.format(i=0)
        + "    when: '"
        + "(" * 10_000
        + "message.length > 1"
        + ")" * 10_000
        + "'\n"
    ).encode(),
    "1,000 parentheses": (
        "ruleset: p\nrules:\n"
        + RULE.format(i=0)
        + "    when: '"
        + "(" * 1000
        + "x"
        + ")" * 1000
        + "'"
    ).encode(),
    "10,000 rules": (
        "ruleset: m\nrules:\n" + "".join(f"- {{id: r{i}}}\n" for i in range(10_000))
    ).encode(),
    "control characters": b"ruleset: c\ndescription: \x00\x01\x1b\n",
    "invalid UTF-8": b"ruleset: u\ndescription: \xff\xfe\n",
    "too large": b"ruleset: big\ndescription: " + b"x" * 300_000 + b"\n",
}


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_hostile_reloads_keep_the_last_good_set_and_the_memory(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(MINI)
    holder = RulesetHolder(load(tmp_path))
    registry = CollectorRegistry()
    reloader = Reloader(
        tmp_path, holder, Metrics(registry), fingerprint=fingerprint(read_sources(tmp_path))
    )
    good = holder.index
    join = {
        "event": {"kind": "member.joined"},
        "join": {"resulting_count": 10},
        "params": {"hard_cap": 3},
    }
    decided = [r.id for r in good.get("base").match(join)]
    assert "size.hard_cap" in decided

    def round_(n: int) -> None:
        for name, data in HOSTILE.items():
            attack = tmp_path / "attack.yaml"
            attack.write_bytes(data + f"\n# {n}\n".encode())  # new contents: compiled again
            result = reloader.reload()
            assert not result.ok and not result.changed, name
            assert result.errors, name
            for d in result.errors:
                assert d.file == str(attack) and d.line >= 1 and d.column >= 1, (name, d)
            assert holder.index is good
            assert [r.id for r in holder.index.get("base").match(join)] == decided

    round_(0)  # warm up: imports, caches, first allocations
    gc.collect()
    before = rss_bytes()
    rounds = 10
    for n in range(1, rounds + 1):
        round_(n)
    gc.collect()
    grown = rss_bytes() - before
    assert grown < 16 * 1024 * 1024, f"RSS grew by {grown / 2**20:.1f} MiB over {rounds} rounds"
    rejected = registry.get_sample_value("firekeeper_ruleset_reloads_total", {"result": "rejected"})
    assert rejected == (rounds + 1) * len(HOSTILE)
