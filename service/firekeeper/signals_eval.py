"""``firekeeper signals``: run labelled messages through the promotion signals and score them.

    firekeeper signals --spam spam.txt --ham ham.txt [--phishing domains.txt]
    firekeeper signals --dataset qq --dataset tg-spam --dataset kdconv [--split held-out]
    firekeeper signals --jsonl samples.jsonl

The first form reads one message a line (blank lines skipped). ``--dataset``
reads the shared public datasets (``../shared/fixtures/datasets`` beside the
repository, or ``--datasets DIR``):

- ``qq``: siuank/ADDetector4J ``mc_qq_group.txt``, a real QQ group chat
  (Chinese), ``text==label`` lines, 1 = ad. Its rows are split by a hash of
  the text into a development part and a held-out part (:func:`qq_part`,
  about 30 %), so the same text is always on the same side; ``--split``
  picks one (default: both, reported as ``qq/dev`` and ``qq/held-out``);
- ``tg-spam``: umputun/tg-spam ``spam-samples.txt`` / ``ham-samples.txt``
  (Russian and English), the language of each line told by its script;
- ``kdconv``: thu-coai/KdConv dialogues, every utterance ham (Chinese).

``--jsonl`` reads labelled samples, one JSON object a line:
``{"text": "...", "label": "spam" | "ham", "lang": "zh-Hans"}`` (``lang``
optional: told by the script when absent). A malformed line is an error that
names its line; nothing is scored then.

A message counts as flagged when the **scorer** says so. The built-in scorer
``rules`` flags a promotion (``message.promotion``: score >= 3 or a paid
offer), exactly what the shipped rulesets act on. Scorers are pluggable: a
:class:`Scorer` is a name and a function from texts to flags, and
:data:`SCORERS` lists those the command runs (each is a column block of the
table). Prints, per scorer, the confusion counts, precision, recall and the
false-positive rate per dataset, per language within each dataset and per
language over all datasets; then how often each rule signal fired on each
side, and optionally the misclassified lines.

``--learned`` adds the learned spam score (``message.spam_score``) and the
combined judgment, per dataset and language, on the rows the shipped model
was not trained on (with ``--spam``/``--ham``, ``--dataset`` or ``--jsonl``).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
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
    spam_signals: Counter[str] = field(default_factory=Counter)
    ham_signals: Counter[str] = field(default_factory=Counter)

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


# --- labelled samples -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    spam: bool
    lang: str
    dataset: str


class DataError(ValueError):
    """A labelled file that cannot be read as such; the message names the file and line."""


def guess_lang(text: str) -> str:
    """The language a line is written in, told by its script: Chinese when it has a
    CJK ideograph, Russian when it has Cyrillic letters, else English. Enough to
    split the shared datasets (Chinese, Russian, English), not a language detector."""
    cyrillic = False
    for ch in text:
        code = ord(ch)
        if 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            return "zh-Hans"
        cyrillic = cyrillic or 0x0400 <= code <= 0x04FF
    return "ru" if cyrillic else "en"


def read_lines(path: Path) -> list[str]:
    with path.open(encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\r\n") for line in f if line.strip()]


HELD_OUT_PERCENT = 30


def qq_part(text: str) -> str:
    """``"held-out"`` or ``"dev"``: which part of the QQ set a row's text belongs to.
    A hash of the text, so duplicates share a side and the split never changes.
    The held-out part is not read while writing patterns; its figures are the
    ones a floor test holds."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "held-out" if int.from_bytes(digest[:4], "big") % 100 < HELD_OUT_PERCENT else "dev"


@dataclass(frozen=True, slots=True)
class QQRows:
    samples: list[Sample]
    malformed: int  # lines without a 0/1 label


def read_qq(path: Path, part: str | None = None) -> QQRows:
    """siuank/ADDetector4J ``mc_qq_group.txt``: ``text==label`` a line, 1 = ad. The label
    is after the last ``==`` (a few texts hold ``==``); lines whose label is not 0 or
    1 are counted as malformed and left out. ``part``: ``dev``, ``held-out`` or
    None for all rows; each sample's dataset is ``qq/<part>``."""
    out: list[Sample] = []
    malformed = 0
    for line in read_lines(path):
        text, sep, label = line.rpartition("==")
        label = label.strip()
        if not sep or label not in ("0", "1") or not text.strip():
            malformed += 1
            continue
        side = qq_part(text)
        if part is None or side == part:
            out.append(Sample(text, label == "1", "zh-Hans", f"qq/{side}"))
    return QQRows(out, malformed)


def read_tg_spam(folder: Path) -> list[Sample]:
    """umputun/tg-spam ``spam-samples.txt`` and ``ham-samples.txt``, one message a line."""
    return [
        Sample(line, spam, guess_lang(line), "tg-spam")
        for name, spam in (("spam-samples.txt", True), ("ham-samples.txt", False))
        for line in read_lines(folder / name)
    ]


def read_kdconv(path: Path) -> list[Sample]:
    """thu-coai/KdConv dialogues (``{"domain", "dialogue", "messages"}`` a line): every
    utterance is ordinary Chinese conversation, so ham."""
    out: list[Sample] = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                messages = json.loads(line)["messages"]
            except (ValueError, KeyError, TypeError) as exc:
                raise DataError(f"{path}:{number}: not a KdConv dialogue ({exc})") from None
            out.extend(Sample(str(m), False, "zh-Hans", "kdconv") for m in messages if str(m))
    return out


def read_jsonl(path: Path) -> list[Sample]:
    """Labelled samples: ``{"text", "label": "spam"|"ham", "lang"?, "source"?}`` a line.
    ``source`` names the dataset when given (else the file's name)."""
    out: list[Sample] = []
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError as exc:
                raise DataError(f"{path}:{number}: not JSON ({exc.args[0]})") from None
            if not isinstance(row, dict):
                raise DataError(f"{path}:{number}: not a JSON object")
            text, label = row.get("text"), row.get("label")
            if not isinstance(text, str) or not text.strip():
                raise DataError(f'{path}:{number}: "text" must be a non-empty string')
            if label not in ("spam", "ham"):
                raise DataError(f'{path}:{number}: "label" must be "spam" or "ham"')
            lang = row.get("lang") or guess_lang(text)
            source = row.get("source") or path.name
            if not isinstance(lang, str) or not isinstance(source, str):
                raise DataError(f'{path}:{number}: "lang" and "source" must be strings')
            out.append(Sample(text, label == "spam", lang, source))
    return out


DATASETS = ("qq", "tg-spam", "kdconv")


def shared_datasets() -> Path:
    """``<repo>/../shared/fixtures/datasets``, where the shared data sits beside a checkout."""
    return Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "datasets"


def load_dataset(name: str, root: Path, *, part: str | None = None) -> list[Sample]:
    if name == "qq":
        return read_qq(root / "siuank_qq_group" / "mc_qq_group.txt", part).samples
    if name == "tg-spam":
        return read_tg_spam(root / "umputun_tg_spam")
    if name == "kdconv":
        return read_kdconv(root / "kdconv_zh_dialogues" / "dialogues.jsonl")
    raise DataError(f"unknown dataset {name!r} (one of {', '.join(DATASETS)})")


# --- scorers ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scorer:
    """One column block of the table: ``flag`` says, for each text, whether it is spam."""

    name: str
    flag: Callable[[Sequence[str]], list[bool]]


def rules_scorer(
    phishing: frozenset[str] = frozenset(), *, seen: dict[str, PromoSignals] | None = None
) -> Scorer:
    """``message.promotion`` of the rule signals; ``seen`` keeps each text's signals, so
    the signal counts after the table need not compute them again."""
    cache = seen if seen is not None else {}

    def flag(texts: Sequence[str]) -> list[bool]:
        out = []
        for t in texts:
            if t not in cache:
                cache[t] = signals(t, phishing=phishing)
            out.append(cache[t].promotion)
        return out

    return Scorer("rules", flag)


# The scorers `run_samples` uses when the caller names none: add one here (or pass
# `scorers=`) to get another column, e.g. a learned classifier.
SCORERS: dict[str, Callable[[frozenset[str], dict[str, PromoSignals]], Scorer]] = {
    "rules": lambda phishing, seen: rules_scorer(phishing, seen=seen),
}


# --- scoring ----------------------------------------------------------------------------------


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


def tally(samples: Sequence[Sample], flags: Sequence[bool]) -> Scores:
    spam = sum(s.spam for s in samples)
    return Scores(
        spam=spam,
        ham=len(samples) - spam,
        true_positives=sum(f and s.spam for s, f in zip(samples, flags, strict=True)),
        false_positives=sum(f and not s.spam for s, f in zip(samples, flags, strict=True)),
    )


@dataclass(frozen=True, slots=True)
class Table:
    """Scores per group: ``(dataset, lang)`` with ``"*"`` for all of one side."""

    scorers: tuple[str, ...]
    groups: tuple[tuple[str, str], ...]
    scores: dict[tuple[str, str, str], Scores]  # (scorer, dataset, lang)

    def get(self, scorer: str, dataset: str, lang: str = "*") -> Scores:
        return self.scores[(scorer, dataset, lang)]


def evaluate(samples: Sequence[Sample], scorers: Sequence[Scorer]) -> Table:
    """Each scorer's figures per dataset, per language within a dataset, and per
    language over all datasets (``dataset == "*"``)."""
    datasets = sorted({s.dataset for s in samples})
    langs = sorted({s.lang for s in samples})
    groups: list[tuple[str, str]] = []
    for d in datasets:
        groups.append((d, "*"))
        groups.extend((d, lang) for lang in sorted({s.lang for s in samples if s.dataset == d}))
    groups.extend(("*", lang) for lang in langs)
    out: dict[tuple[str, str, str], Scores] = {}
    texts = [s.text for s in samples]
    for scorer in scorers:
        flags = scorer.flag(texts)
        if len(flags) != len(samples):
            raise ValueError(f"scorer {scorer.name} gave {len(flags)} flags for {len(texts)} texts")
        for d, lang in groups:
            picked = [
                (s, f)
                for s, f in zip(samples, flags, strict=True)
                if d in ("*", s.dataset) and lang in ("*", s.lang)
            ]
            out[(scorer.name, d, lang)] = tally([s for s, _ in picked], [f for _, f in picked])
    return Table(tuple(s.name for s in scorers), tuple(groups), out)


def _cell(s: Scores) -> str:
    prec = f"{s.precision:.3f}" if s.true_positives + s.false_positives else "  -  "
    rec = f"{s.recall:.3f}" if s.spam else "  -  "
    fpr = f"{s.false_positive_rate:.4f}" if s.ham else "   -  "
    return (
        f"{s.true_positives:>5} {s.false_positives:>5} {s.false_negatives:>5} "
        f"{s.true_negatives:>6}  {prec:>6} {rec:>6} {fpr:>7}"
    )


def report_table(table: Table, out: TextIO) -> None:
    w = out.write
    head = f"{'dataset':<14} {'lang':<8} {'spam':>5} {'ham':>6}"
    cols = f"{'TP':>5} {'FP':>5} {'FN':>5} {'TN':>6}  {'prec':>6} {'recall':>6} {'FPR':>7}"
    for name in table.scorers:
        w(f"\nscorer: {name}\n{head}  {cols}\n")
        for d, lang in table.groups:
            s = table.get(name, d, lang)
            where = "all" if d == "*" else d
            language = "all" if lang == "*" else lang
            w(f"{where:<14} {language:<8} {s.spam:>5} {s.ham:>6}  {_cell(s)}\n")


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
    _signal_counts(s, out)
    _rows(out, misses, false_alarms)


def _signal_counts(s: Scores, out: TextIO) -> None:
    out.write("\nsignal               on spam   on ham\n")
    for name in SIGNALS:
        out.write(f"{name:<20} {s.spam_signals[name]:>7}  {s.ham_signals[name]:>7}\n")


def _rows(
    out: TextIO,
    misses: Sequence[tuple[str, PromoSignals]],
    false_alarms: Sequence[tuple[str, PromoSignals]],
) -> None:
    for title, rows in (("false positives (ham flagged)", false_alarms), ("missed spam", misses)):
        if rows:
            out.write(f"\n{title}:\n")
            for line, sig in rows:
                out.write(f"  [{sig.score} {','.join(sig.signals) or '-'}] {line[:160]}\n")


def _phishing(phishing_file: Path | None) -> frozenset[str]:
    return dl.parse_list(read_lines(phishing_file)) if phishing_file is not None else frozenset()


def run(
    spam_file: Path,
    ham_file: Path,
    out: TextIO,
    *,
    phishing_file: Path | None = None,
    show: int = 0,
    learned: bool = False,
) -> int:
    """The command on a spam file and a ham file: 0 on success, 2 when a file cannot be read."""
    try:
        spam, ham = read_lines(spam_file), read_lines(ham_file)
        phishing = _phishing(phishing_file)
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


def learned_rows(
    samples: Sequence[Sample], out: TextIO, phishing: frozenset[str] = frozenset()
) -> int:
    """``--learned`` with ``--dataset`` / ``--jsonl``: the same three judgments per dataset
    (``qq/dev``, ``qq/held-out``, ``tg-spam``, ...) and language."""
    from firekeeper.learned import artefact, evaluate
    from firekeeper.learned.samples import Sample as Labelled

    try:
        model = artefact.shipped()
    except artefact.SpamModelFileError as exc:
        out.write(f"firekeeper: {exc}\n")
        return 2
    threshold = float(model.meta.get("threshold", 0.9))
    rows = [Labelled(s.text, "spam" if s.spam else "ham", s.lang, s.dataset) for s in samples]
    evaluate.report(model, rows, out, threshold=threshold, phishing=phishing)
    return 0


def run_samples(
    out: TextIO,
    *,
    datasets: Sequence[str] = (),
    jsonl: Sequence[Path] = (),
    root: Path | None = None,
    split: str | None = None,
    phishing_file: Path | None = None,
    show: int = 0,
    scorers: Sequence[Scorer] | None = None,
    learned: bool = False,
) -> int:
    """The command on datasets and JSONL files: 0 on success, 2 when one cannot be read."""
    root = root or shared_datasets()
    try:
        phishing = _phishing(phishing_file)
        samples: list[Sample] = []
        for name in datasets:
            samples.extend(load_dataset(name, root, part=split if name == "qq" else None))
        for path in jsonl:
            samples.extend(read_jsonl(path))
    except OSError as exc:
        out.write(f"firekeeper: cannot read {exc.filename}: {exc.strerror}\n")
        return 2
    except DataError as exc:
        out.write(f"firekeeper: {exc}\n")
        return 2
    if not samples:
        out.write("firekeeper: no labelled messages to score\n")
        return 2
    seen: dict[str, PromoSignals] = {}
    chosen = (
        list(scorers)
        if scorers is not None
        else [make(phishing, seen) for make in SCORERS.values()]
    )
    report_table(evaluate(samples, chosen), out)

    def found(text: str) -> PromoSignals:
        if text not in seen:
            seen[text] = signals(text, phishing=phishing)
        return seen[text]

    on_spam = [found(s.text) for s in samples if s.spam]
    on_ham = [found(s.text) for s in samples if not s.spam]
    rule_scores = Scores(
        spam=len(on_spam),
        ham=len(on_ham),
        true_positives=sum(s.promotion for s in on_spam),
        false_positives=sum(s.promotion for s in on_ham),
        spam_signals=Counter(n for s in on_spam for n in s.signals),
        ham_signals=Counter(n for s in on_ham for n in s.signals),
    )
    out.write("\nrule signals over all rows")
    _signal_counts(rule_scores, out)
    spam_texts = [s.text for s in samples if s.spam]
    ham_texts = [s.text for s in samples if not s.spam]
    misses = [(t, g) for t, g in zip(spam_texts, on_spam, strict=True) if not g.promotion]
    alarms = [(t, g) for t, g in zip(ham_texts, on_ham, strict=True) if g.promotion]
    _rows(out, misses[:show], alarms[:show])
    if learned:
        return learned_rows(samples, out, phishing)
    return 0
