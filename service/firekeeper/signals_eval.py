"""``firekeeper signals``: run labelled messages through the promotion signals and score them.

    firekeeper signals --spam spam.txt --ham ham.txt [--phishing domains.txt] [--learned]

One message a line (blank lines skipped). A message counts as flagged when it
is a promotion (``message.promotion``: score >= 3 or a paid offer), exactly
what the shipped rulesets act on. Prints the confusion counts, precision,
recall and the false-positive rate, how often each signal fired on each side,
and optionally the misclassified lines. ``--learned`` adds the learned spam
score (``message.spam_score``) and the combined judgment, per language, on the
lines the shipped model was not trained on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from firekeeper.rules import domains as dl
from firekeeper.rules.promo import SIGNALS, PromoSignals, signals


@dataclass(frozen=True, slots=True)
class Scores:
    spam: int
    ham: int
    true_positives: int
    false_positives: int
    spam_signals: Counter[str]
    ham_signals: Counter[str]

    @property
    def false_negatives(self) -> int:
        return self.spam - self.true_positives

    @property
    def true_negatives(self) -> int:
        return self.ham - self.false_positives

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


def read_lines(path: Path) -> list[str]:
    with path.open(encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


def _run(lines: Iterable[str], phishing: frozenset[str]) -> list[PromoSignals]:
    return [signals(line, phishing=phishing) for line in lines]


def score(
    spam: Sequence[str], ham: Sequence[str], phishing: frozenset[str] = frozenset()
) -> tuple[Scores, list[PromoSignals], list[PromoSignals]]:
    on_spam, on_ham = _run(spam, phishing), _run(ham, phishing)
    return (
        Scores(
            spam=len(spam),
            ham=len(ham),
            true_positives=sum(s.promotion for s in on_spam),
            false_positives=sum(s.promotion for s in on_ham),
            spam_signals=Counter(n for s in on_spam for n in s.signals),
            ham_signals=Counter(n for s in on_ham for n in s.signals),
        ),
        on_spam,
        on_ham,
    )


def report(
    s: Scores,
    out: TextIO,
    *,
    misses: Sequence[tuple[str, PromoSignals]] = (),
    false_alarms: Sequence[tuple[str, PromoSignals]] = (),
) -> None:
    w = out.write
    w(f"messages   spam {s.spam}  ham {s.ham}\n")
    w(
        f"confusion  TP {s.true_positives}  FP {s.false_positives}  "
        f"FN {s.false_negatives}  TN {s.true_negatives}\n"
    )
    w(f"precision  {s.precision:.3f}\n")
    w(f"recall     {s.recall:.3f}\n")
    w(f"FPR        {s.false_positive_rate:.4f}\n")
    w("\nsignal               on spam   on ham\n")
    for name in SIGNALS:
        w(f"{name:<20} {s.spam_signals[name]:>7}  {s.ham_signals[name]:>7}\n")
    for title, rows in (("false positives (ham flagged)", false_alarms), ("missed spam", misses)):
        if rows:
            w(f"\n{title}:\n")
            for line, sig in rows:
                w(f"  [{sig.score} {','.join(sig.signals) or '-'}] {line[:160]}\n")


def run(
    spam_file: Path,
    ham_file: Path,
    out: TextIO,
    *,
    phishing_file: Path | None = None,
    show: int = 0,
    learned: bool = False,
) -> int:
    """The command: 0 on success, 2 when a file cannot be read."""
    try:
        spam, ham = read_lines(spam_file), read_lines(ham_file)
        phishing = (
            dl.parse_list(read_lines(phishing_file)) if phishing_file is not None else frozenset()
        )
    except OSError as exc:
        out.write(f"firekeeper: cannot read {exc.filename}: {exc.strerror}\n")
        return 2
    scores, on_spam, on_ham = score(spam, ham, phishing)
    misses = [(line, sig) for line, sig in zip(spam, on_spam, strict=True) if not sig.promotion]
    alarms = [(line, sig) for line, sig in zip(ham, on_ham, strict=True) if sig.promotion]
    report(scores, out, misses=misses[:show], false_alarms=alarms[:show])
    if learned:
        return learned_columns(spam, ham, out, phishing)
    return 0


def learned_columns(
    spam: Sequence[str], ham: Sequence[str], out: TextIO, phishing: frozenset[str] = frozenset()
) -> int:
    """``--learned``: the learned spam score and the combined judgment (what the shipped
    rulesets act on), per language, on the rows the shipped model did not train on
    (``firekeeper.learned.evaluate``)."""
    from firekeeper.learned import artefact, evaluate
    from firekeeper.learned.samples import of_lines

    try:
        model = artefact.shipped()
    except artefact.SpamModelFileError as exc:
        out.write(f"firekeeper: {exc}\n")
        return 2
    threshold = float(model.meta.get("threshold", 0.9))
    evaluate.report(
        model, of_lines(spam, ham, "files"), out, threshold=threshold, phishing=phishing
    )
    return 0
