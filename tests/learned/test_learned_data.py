"""The shipped spam model against the shared datasets: rebuilt by ``firekeeper train``, scored
the same way scikit-learn scores it, and held to its floors on rows it was never trained on.

Data (read from ``<repo>/../shared/fixtures/datasets``, see shared/fixtures/SOURCES.md):
``siuank_qq_group/mc_qq_group.txt`` (siuank/ADDetector4J, commit fe01c7b9, MIT: real QQ
group chat, Chinese, 315 ads and 2,079 normal), ``umputun_tg_spam/{spam,ham}-samples.txt``
(umputun/tg-spam, commit e14d516e, MIT: Telegram, Russian and English) and
``kdconv_zh_dialogues/dialogues.jsonl`` (thu-coai/KdConv, commit 653db764, Apache-2.0:
Chinese dialogues, all ham).

Floors, on the held-out fifth (the fixed split; measured with the shipped model, what the
default rulesets act on: ``message.promotion or message.spam_score >= 0.7``; the model's
settings, the QQ rows' weight and the threshold were chosen by 5-fold cross-validation on
the training rows, ``firekeeper train --cv 5``, never on these rows: the lowest threshold
whose cross-validated precision on the QQ set is >= 0.96, measured there P 0.960 / R 0.785):
- Chinese QQ set: precision 0.946 (53 of 56 flagged), recall 0.768 (53 of 69) measured;
  before this model (C 30, no row weights, threshold 0.8) P 0.943 / R 0.725. Floors:
  precision >= 0.94, recall >= 0.75. Issue #11 asks precision >= 0.95 and recall >= 0.85:
  NOT met on held-out rows. Every model tried under cross-validation (logistic regression
  C 10-100, char 1-3, 1-4, 1-5 and 2-4-grams, 2**16 and 2**18 buckets, linear SVM,
  complement NB, row weights) sits on the same curve: about P 0.93 at R 0.82, P 0.96 at
  R 0.78. Of the ads missed, many are one-word requests ("谁有黑卡机", "有梯子吗") or
  abuse the set labels as ads ("你是脑瘫吗"), and three texts carry both labels
  ("扩列聊天都可以加我", "迁移30r带交易id", "1条01r一共收200条").
- Chinese dialogues (KdConv): FPR 0 measured, floor <= 0.5 %.
- Telegram set (Russian): the combined judgment's precision and recall are at least the
  rules' (measured rules P 0.970 R 0.865, combined P 0.973 R 0.973; the one ham line flagged,
  a recruitment ad, is flagged by both), so the rule-only floor of test_signals_data.py
  holds and the combined one rises. The model does not score English (it was trained on 4
  English ham lines), so English figures are the rules'.
"""

from __future__ import annotations

import io
import json
import random
from pathlib import Path

import pytest

from firekeeper.cli import main
from firekeeper.learned import artefact, evaluate
from firekeeper.learned.samples import Sample, datasets, split, text_key
from firekeeper.rules.spam_model import buckets, score

pytest.importorskip("sklearn")
from firekeeper.learned import train

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "datasets"


@pytest.fixture(scope="module")
def rows() -> list[Sample]:
    if not (DATASETS / "siuank_qq_group").is_dir():
        pytest.skip(f"shared fixtures not found at {DATASETS}: clone shared/ beside the repository")
    found, skipped = datasets(DATASETS)
    assert skipped < 30  # the QQ file's few malformed lines
    return found


@pytest.fixture(scope="module")
def rebuilt(rows: list[Sample]) -> tuple[artefact.SpamModel, evaluate.Table]:
    return train.build(rows, train.Settings())


@pytest.fixture(scope="module")
def held(rows: list[Sample]) -> evaluate.Table:
    model = artefact.shipped()
    _, test = split(rows)
    return evaluate.table(evaluate.judge(model, test), float(model.meta["threshold"]))


def test_firekeeper_train_rebuilds_the_shipped_model(
    rebuilt: tuple[artefact.SpamModel, evaluate.Table],
) -> None:
    model, _ = rebuilt
    shipped = artefact.shipped()
    assert model.meta["training"]["digest"] == shipped.meta["training"]["digest"]
    assert model.version == shipped.version
    assert model.languages == shipped.languages == ("ru", "zh-Hans")
    # the same fit, up to one step of the 8-bit weights (another scikit-learn or BLAS may
    # round its last bits differently)
    step = max(abs(w) for w in shipped.weights) / 127
    drift = max(abs(a - b) for a, b in zip(model.weights, shipped.weights, strict=True))
    assert drift <= step * 1.01
    assert model.bias == pytest.approx(shipped.bias, abs=1e-3)


def test_the_direct_scores_are_scikit_learns(rows: list[Sample]) -> None:
    model = artefact.shipped()
    est = train.to_estimator(model)
    sample = random.Random(7).sample(rows, 300)
    texts = [train.plain(s.text) for s in sample]
    theirs = est.predict_proba(train.matrix(texts, train.Settings()))[:, 1]
    ours = [score(model, t) for t in texts]
    assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) < 1e-9
    assert any(p > 0.8 for p in ours) and any(p < 0.2 for p in ours)


def test_held_out_rows_are_never_trained_on(rows: list[Sample]) -> None:
    seen = artefact.trained_on(artefact.shipped())
    train_rows, test_rows = split(rows)
    assert len(test_rows) > len(rows) // 7
    assert {text_key(s.text) for s in train_rows} <= seen
    # a held-out text could share a 32-bit key with a training text only by accident
    assert sum(text_key(s.text) in seen for s in test_rows) <= 1


def test_the_recorded_figures_are_the_held_out_figures(held: evaluate.Table) -> None:
    assert artefact.shipped().meta["held_out"] == evaluate.as_record(held)


def test_chinese_floors_on_held_out_rows(held: evaluate.Table) -> None:
    qq = held[("qq_group", "zh-Hans")]["combined"]
    assert qq.spam > 50 and qq.ham > 300
    assert qq.precision >= 0.94, qq  # measured 0.946: the 0.95 is not met
    assert qq.recall >= 0.75, qq  # measured 0.768: the 0.85 is not met
    # the learned signal carries much of it: well above the rules alone (0.377)
    assert qq.recall > held[("qq_group", "zh-Hans")]["rules"].recall + 0.3
    dialogues = held[("kdconv", "zh-Hans")]["combined"]
    assert dialogues.ham > 1500
    assert dialogues.false_positive_rate <= 0.005, dialogues


def test_the_telegram_figures_stay_or_rise(held: evaluate.Table) -> None:
    ru = held[("tg_spam", "ru")]
    assert ru["combined"].spam > 25
    assert ru["combined"].precision >= ru["rules"].precision
    assert ru["combined"].recall >= ru["rules"].recall
    assert ru["combined"].false_positive_rate <= 0.01


def test_the_shipped_threshold_is_the_rulesets(held: evaluate.Table) -> None:
    import yaml

    base = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "rulesets" / "base.yaml").read_text("utf-8")
    )
    assert base["params"]["spam_score_min"]["default"] == artefact.shipped().meta["threshold"]


def test_signals_learned_prints_the_three_judgments(capsys: pytest.CaptureFixture[str]) -> None:
    spam = DATASETS / "umputun_tg_spam" / "spam-samples.txt"
    ham = DATASETS / "umputun_tg_spam" / "ham-samples.txt"
    if not spam.is_file():
        pytest.skip("shared fixtures not found")
    assert main(["signals", "--spam", str(spam), "--ham", str(ham), "--learned"]) == 0
    out = capsys.readouterr().out
    assert "rows the model was not trained on" in out and "training rows left out" in out
    assert "combined P/R/FPR" in out and "ru " in out


def test_train_with_extra_samples_and_bad_samples(tmp_path: Path) -> None:
    good = tmp_path / "extra.jsonl"
    lines = [{"text": f"出个外挂 {i}0r 便宜", "label": "spam"} for i in range(40)] + [
        {"text": f"今天第{i}章讲得真好，大家怎么看", "label": "ham", "lang": "zh-Hans"}
        for i in range(160)
    ]
    good.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), "utf-8")
    out_file = tmp_path / "model.json"
    out = io.StringIO()
    assert train.run(None, [good], out_file, out) == 0, out.getvalue()
    model = artefact.load(out_file)
    assert model.meta["training"]["by_source"]["extra.jsonl"]["spam"] > 20
    again = tmp_path / "again.json"
    assert train.run(None, [good], again, io.StringIO()) == 0
    assert again.read_bytes() == out_file.read_bytes()  # deterministic

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "x", "label": "spam"}\n{"text": "y", "label": "maybe"}\nnot json\n')
    target = tmp_path / "never.json"
    out = io.StringIO()
    assert train.run(None, [bad], target, out) == 2
    text = out.getvalue()
    assert "bad.jsonl:2:" in text and "bad.jsonl:3:" in text and "nothing trained" in text
    assert not target.exists()
    out = io.StringIO()
    assert train.run(tmp_path / "nope", [], target, out) == 2
    assert "not the shared datasets folder" in out.getvalue()


def test_the_feature_matrix_is_the_scorers_buckets() -> None:
    settings = train.Settings()
    x = train.matrix(["出个外挂", ""], settings)
    assert set(x[0].indices) == buckets("出个外挂", settings.blank())
    assert x[1].nnz == 0


def test_signals_learned_on_the_datasets_splits_the_qq_rows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    if not (DATASETS / "siuank_qq_group").is_dir():
        pytest.skip("shared fixtures not found")
    assert main(["signals", "--dataset", "qq", "--learned"]) == 0
    out = capsys.readouterr().out
    learned = out[out.index("learned signal:") :]
    rows = {tuple(line.split()[:2]) for line in learned.splitlines()[3:] if line.strip()}
    # the QQ rows the model never trained on, split again by the rules' own held-out part
    assert {("qq/dev", "zh-Hans"), ("qq/held-out", "zh-Hans"), ("all", "zh-Hans")} <= rows
    assert "(9820 training rows left out)" not in learned  # only the QQ rows were given
