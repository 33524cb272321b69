"""The notice judgment measured on a labelled set (tests/lifecycle/data/notices.yaml).

The set is the team's own writing: clear notices of many shapes (events, changes
that give the new time or place, house rules, information, links to the group's
subject, wishes), and cryptic ones, in English and Chinese. Precision of "unclear"
matters most (a clear notice must never be flagged), so it is held at 1.0; recall
has a floor. The held-out part was written after the judgment was tuned and is
measured on its own. Run with ``-s`` to see the table.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml

from firekeeper.areas.lifecycle.pure.announcements import check

DATA = Path(__file__).parent / "data" / "notices.yaml"
# measured: 28 of 29 tuned, 10 of 12 held out (docs/lifecycle.md): the floor holds them
RECALL_FLOOR = 0.8


def _load() -> dict[str, list[dict[str, Any]]]:
    loaded: dict[str, list[dict[str, Any]]] = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    return loaded


def _score(notices: list[dict[str, Any]]) -> tuple[Counter[str], list[str]]:
    counts: Counter[str] = Counter()
    wrong: list[str] = []
    for n in notices:
        want = bool(n.get("unclear", False))
        got = check(n["text"]).unclear
        key = {(True, True): "tp", (False, True): "fp", (True, False): "fn", (False, False): "tn"}
        counts[key[(want, got)]] += 1
        counts[f"{n['lang']} {n['kind']}"] += 1
        if want != got:
            wrong.append(f"{'missed' if want else 'flagged'}: {n['text']!r}")
    return counts, wrong


@pytest.mark.parametrize("part", ["notices", "heldout"])
def test_no_clear_notice_is_flagged_and_most_cryptic_ones_are(part: str) -> None:
    notices = _load()[part]
    assert len(notices) >= 40
    assert {n["lang"] for n in notices} == {"en", "zh"}
    counts, wrong = _score(notices)
    tp, fp, fn, tn = counts["tp"], counts["fp"], counts["fn"], counts["tn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn)
    print(
        f"\n{part}: {len(notices)} notices, {tp + fn} cryptic, {tn + fp} clear; "
        f"unclear precision {precision:.2f} recall {recall:.2f} "
        f"(flagged {tp}/{tp + fn} cryptic, {fp}/{tn + fp} clear)"
    )
    for line in wrong:
        print("  " + line)
    assert fp == 0, [w for w in wrong if w.startswith("flagged")]
    assert recall >= RECALL_FLOOR, wrong


def test_the_set_covers_every_kind_in_both_languages() -> None:
    everything = [n for part in _load().values() for n in part]
    kinds = Counter((n["lang"], n["kind"]) for n in everything)
    for lang in ("en", "zh"):
        for kind in ("event", "change", "rules", "info", "cryptic"):
            assert kinds[(lang, kind)] >= 3, (lang, kind)
