"""How the learned signal and the combined judgment do on rows the model was not trained on.

For each labelled message: the rule judgment (``message.promotion``, as
``firekeeper signals`` counts it), the learned one (``message.spam_score`` at
or above the threshold) and the **combined** one, what the shipped rulesets act
on: ``message.promotion or message.spam_score >= params.spam_score_min``.
Figures are counted per dataset and language, and per language over all
datasets. Rows the model was trained on are left out (:func:`unseen`): a
model's figures on its own training rows say nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from firekeeper.learned.artefact import trained_on
from firekeeper.learned.samples import Sample, text_key
from firekeeper.rules import promo, spam_model
from firekeeper.rules.spam_model import SpamModel

JUDGMENTS = ("rules", "learned", "combined")


@dataclass(slots=True)
class Counts:
    spam: int = 0
    ham: int = 0
    true_positives: int = 0
    false_positives: int = 0

    def add(self, is_spam: bool, flagged: bool) -> None:
        if is_spam:
            self.spam += 1
            self.true_positives += flagged
        else:
            self.ham += 1
            self.false_positives += flagged

    @property
    def precision(self) -> float:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.spam if self.spam else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.false_positives / self.ham if self.ham else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "spam": self.spam,
            "ham": self.ham,
            "tp": self.true_positives,
            "fp": self.false_positives,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "fpr": round(self.false_positive_rate, 4),
        }


@dataclass(frozen=True, slots=True)
class Judged:
    sample: Sample
    rules: bool
    score: float | None  # None: a language the model does not score

    def flagged(self, judgment: str, threshold: float) -> bool:
        learned = self.score is not None and self.score >= threshold
        if judgment == "rules":
            return self.rules
        if judgment == "learned":
            return learned
        return self.rules or learned


def judge(
    model: SpamModel, samples: Iterable[Sample], phishing: frozenset[str] = frozenset()
) -> list[Judged]:
    out = []
    for s in samples:
        sig = promo.signals(s.text, phishing=phishing)
        out.append(Judged(s, sig.promotion, spam_model.spam_score(model, sig.plain_text)))
    return out


def unseen(model: SpamModel, samples: Sequence[Sample]) -> tuple[list[Sample], int]:
    """(the samples the model was not trained on, how many were left out)."""
    seen = trained_on(model)
    kept = [s for s in samples if text_key(s.text) not in seen]
    return kept, len(samples) - len(kept)


Table = dict[tuple[str, str], dict[str, Counts]]


def table(judged: Iterable[Judged], threshold: float) -> Table:
    """Counts per (dataset, language) and per ("all", language), for each judgment."""
    out: Table = defaultdict(lambda: {j: Counts() for j in JUDGMENTS})
    for r in judged:
        for key in ((r.sample.source or "-", r.sample.lang or "-"), ("all", r.sample.lang or "-")):
            for j in JUDGMENTS:
                out[key][j].add(r.sample.spam, r.flagged(j, threshold))
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0] == "all", kv[0])))


def as_record(t: Table) -> list[dict[str, Any]]:
    """The table as the artefact records it (``held_out``)."""
    return [
        {"dataset": ds, "lang": lang, **{j: c.as_dict() for j, c in row.items()}}
        for (ds, lang), row in t.items()
    ]


def render(t: Table, out: TextIO) -> None:
    w = out.write
    w(
        f"{'dataset':<12} {'lang':<8} {'spam':>5} {'ham':>6}   "
        + "   ".join(f"{j + ' P/R/FPR':<23}" for j in JUDGMENTS)
        + "\n"
    )
    for (ds, lang), row in t.items():
        c = row["rules"]
        cells = "   ".join(
            f"{r.precision:.3f} {r.recall:.3f} {r.false_positive_rate:.4f}   " for r in row.values()
        )
        w(f"{ds:<12} {lang:<8} {c.spam:>5} {c.ham:>6}   {cells}\n")


def report(
    model: SpamModel,
    samples: Sequence[Sample],
    out: TextIO,
    *,
    threshold: float,
    phishing: frozenset[str] = frozenset(),
) -> Table:
    """``firekeeper signals --learned``: the three judgments on the rows the model did not
    train on, per dataset and language."""
    kept, left_out = unseen(model, samples)
    out.write(
        f"\nlearned signal: model {model.version} (scores {', '.join(model.languages)}), "
        f"message.spam_score >= {threshold}; "
        f"combined = message.promotion or that\n"
        f"measured on {len(kept)} rows the model was not trained on "
        f"({left_out} training rows left out)\n"
    )
    t = table(judge(model, kept, phishing), threshold)
    render(t, out)
    return t
