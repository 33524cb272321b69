"""The rule signals on real Chinese data, and ``firekeeper signals`` per dataset and language.

Data, in ``<repo>/../shared/fixtures/datasets`` (see shared/fixtures/SOURCES.md):

- ``siuank_qq_group/mc_qq_group.txt``: siuank/ADDetector4J (commit fe01c7b9,
  MIT licence, Copyright (c) 2024 落叶), a real QQ group chat of a Minecraft
  community, ``text==label`` a line, 1 = ad;
- ``kdconv_zh_dialogues/dialogues.jsonl``: thu-coai/KdConv (commit 653db764,
  Apache-2.0), 9,321 crowdsourced Chinese utterances about films, music and
  travel: all ham;
- ``umputun_tg_spam/{spam,ham}-samples.txt``: umputun/tg-spam (commit
  e14d516e, MIT licence), Russian and English.

The QQ rows are split by a hash of their text (``qq_part``) into a development
part, which the Chinese patterns were written against, and a held-out part
(about 30 %) that was not read while writing them. Measured on the held-out
part: precision 1.000, recall 0.333, FPR 0.0000 (TP 30, FP 0, FN 60, TN 594);
before the Chinese signals the same rows gave recall 0.033 (TP 3). Most of what
the rules still miss are short requests ("有没有卡网", "谁有梯子") and cheat
jargon of that one community, which a learned classifier is for. On KdConv: no
false positive in 9,321 utterances (8 before: prices with 购买/优惠 in travel
talk). The floors leave room for one false alarm and one miss, no more.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from firekeeper.cli import main
from firekeeper.signals_eval import (
    Sample,
    Scorer,
    evaluate,
    load_dataset,
    qq_part,
    read_qq,
    rules_scorer,
    run_samples,
)

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "datasets"
QQ = DATASETS / "siuank_qq_group" / "mc_qq_group.txt"
KDCONV = DATASETS / "kdconv_zh_dialogues" / "dialogues.jsonl"
TG = DATASETS / "umputun_tg_spam"


def _need(*paths: Path) -> None:
    if not all(p.exists() for p in paths):
        pytest.skip(f"shared fixtures not found at {DATASETS}: clone shared/ beside the repository")


def test_the_rules_hold_their_floor_on_the_held_out_qq_rows() -> None:
    _need(QQ)
    rows = load_dataset("qq", DATASETS, part="held-out")
    scores = evaluate(rows, [rules_scorer()]).get("rules", "qq/held-out")
    assert scores.spam > 80 and scores.ham > 550, scores
    assert scores.precision >= 0.96, scores
    assert scores.recall >= 0.32, scores
    assert scores.false_positive_rate <= 0.005, scores


def test_ordinary_chinese_dialogues_are_almost_never_flagged() -> None:
    _need(KDCONV)
    rows = load_dataset("kdconv", DATASETS)
    scores = evaluate(rows, [rules_scorer()]).get("rules", "kdconv", "zh-Hans")
    assert scores.ham > 9000 and scores.spam == 0
    assert scores.false_positive_rate <= 0.005, scores


def test_the_qq_split_is_fixed_and_about_thirty_percent() -> None:
    _need(QQ)
    rows = read_qq(QQ)
    held = [s for s in rows.samples if s.dataset == "qq/held-out"]
    assert 0.25 <= len(held) / len(rows.samples) <= 0.35
    assert all(qq_part(s.text) == "held-out" for s in held)
    assert rows.malformed > 0  # the file has a few lines without a label; they are left out
    assert len(rows.samples) > 2200


def test_the_qq_reader_takes_the_label_after_the_last_marker(tmp_path: Path) -> None:
    path = tmp_path / "qq.txt"
    path.write_bytes(
        "出二手号==1\r\nFaceId==294name==期待==0\r\nno label here\r\n好==2\r\n".encode()
    )
    rows = read_qq(path)
    assert [(s.text, s.spam) for s in rows.samples] == [
        ("出二手号", True),
        ("FaceId==294name==期待", False),
    ]
    assert rows.malformed == 2


def test_the_command_prints_figures_per_dataset_and_language(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _need(QQ, TG)  # kdconv's reader is exercised by the floor test above (9,321 rows take a while)
    argv = ["signals", "--dataset", "qq", "--dataset", "tg-spam", "--show", "1"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    for row in ("qq/dev ", "qq/held-out ", "tg-spam ", "missed spam"):
        assert row in out
    lines = {tuple(line.split()[:2]) for line in out.splitlines() if line.strip()}
    for key in (("tg-spam", "ru"), ("tg-spam", "en"), ("all", "zh-Hans"), ("all", "ru")):
        assert key in lines, key
    assert "contact_handle" in out and "scorer: rules" in out


def test_the_command_on_one_part_of_the_qq_set(capsys: pytest.CaptureFixture[str]) -> None:
    _need(QQ)
    assert main(["signals", "--dataset", "qq", "--split", "dev"]) == 0
    out = capsys.readouterr().out
    assert "qq/dev" in out and "qq/held-out" not in out


def test_the_command_reads_labelled_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "samples.jsonl"
    rows = [
        {"text": "加扣扣 2833106087 低价出号", "label": "spam", "lang": "zh-Hans"},
        {"text": "京东才¥39", "label": "ham", "lang": "zh-Hans"},
        {"text": "Earn $500 a day, DM me", "label": "spam"},
        {"text": "see you at 10", "label": "ham", "source": "mine"},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", "utf-8")
    out = io.StringIO()
    assert run_samples(out, jsonl=[path]) == 0
    text = out.getvalue()
    table = [line.split() for line in text.splitlines()]
    zh = next(r for r in table if r[:2] == ["samples.jsonl", "zh-Hans"])
    assert zh[2:8] == ["1", "1", "1", "0", "0", "1"]  # spam, ham, TP, FP, FN, TN
    assert next(r for r in table if r[:2] == ["mine", "en"])[:4] == ["mine", "en", "0", "1"]
    en = next(r for r in table if r[:2] == ["samples.jsonl", "en"])
    assert en[2:8] == ["1", "0", "1", "0", "0", "0"]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "2: not JSON"),
        ('["a list"]', "2: not a JSON object"),
        ('{"text": "", "label": "spam"}', '2: "text" must be a non-empty string'),
        ('{"text": "hi", "label": "maybe"}', '2: "label" must be "spam" or "ham"'),
        ('{"text": "hi", "label": "ham", "lang": 3}', '2: "lang" and "source" must be strings'),
    ],
)
def test_a_malformed_jsonl_line_is_an_error_that_names_it(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine", "label": "ham"}\n' + line + "\n", "utf-8")
    out = io.StringIO()
    assert run_samples(out, jsonl=[path]) == 2
    assert f"bad.jsonl:{message}" in out.getvalue()
    assert "scorer:" not in out.getvalue()  # nothing scored


def test_the_command_says_when_a_dataset_is_missing(tmp_path: Path) -> None:
    out = io.StringIO()
    assert run_samples(out, datasets=["kdconv"], root=tmp_path) == 2
    assert "cannot read" in out.getvalue()


def test_the_command_wants_something_to_score(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["signals"]) == 2
    assert "--dataset" in capsys.readouterr().err


def test_another_scorer_is_another_column_block() -> None:
    samples = [
        Sample("加扣扣 2833106087 低价出号", True, "zh-Hans", "t"),
        Sample("京东才¥39", False, "zh-Hans", "t"),
    ]
    everything = Scorer("everything", lambda texts: [True for _ in texts])
    table = evaluate(samples, [rules_scorer(), everything])
    assert table.get("rules", "t").true_positives == 1
    assert table.get("rules", "t").false_positives == 0
    assert table.get("everything", "t").false_positives == 1
    out = io.StringIO()
    assert run_samples(out, jsonl=[], datasets=[], scorers=[everything]) == 2  # nothing to score


def test_a_scorer_must_flag_every_text() -> None:
    broken = Scorer("broken", lambda texts: [])
    with pytest.raises(ValueError, match="broken gave 0 flags"):
        evaluate([Sample("x", False, "en", "t")], [broken])
