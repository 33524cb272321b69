"""Labelled messages for training and measuring the spam model, and the fixed held-out split.

A :class:`Sample` is one message with its label (``spam`` or ``ham``), language
(a BCP 47 tag) and source (the dataset or file it came from). Sources:

- the shared datasets (``datasets(DIR)``, DIR being ``shared/fixtures/datasets``):
  ``siuank_qq_group/mc_qq_group.txt`` (QQ group chat, Chinese, ``text==label``,
  1 = ad), ``umputun_tg_spam/{spam,ham}-samples.txt`` (Telegram, English and
  Russian, one message a line) and ``kdconv_zh_dialogues/dialogues.jsonl``
  (Chinese dialogues, all ham); see ``shared/fixtures/SOURCES.md``;
- JSON Lines files, one ``{"text": ..., "label": "spam" | "ham", "lang": ...,
  "source": ...}`` object a line (``lang`` and ``source`` optional): the format
  the corrections export writes. A bad line is an error naming the file and line.

The split is a fixed function of the text (:func:`held_out`): one message in
five is held out, and the same text always falls on the same side, so a
message repeated in a dataset is never trained on and measured at once.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from firekeeper.errors import FirekeeperError
from firekeeper.rules.spam_model import script_lang

LABELS = ("spam", "ham")
SPLIT_SALT = "firekeeper-split/1:"
HELD_OUT_ONE_IN = 5

QQ_GROUP = Path("siuank_qq_group") / "mc_qq_group.txt"
TG_SPAM = Path("umputun_tg_spam") / "spam-samples.txt"
TG_HAM = Path("umputun_tg_spam") / "ham-samples.txt"
KDCONV = Path("kdconv_zh_dialogues") / "dialogues.jsonl"


class SamplesError(FirekeeperError):
    """Labelled samples that cannot be read; the message names the file and line."""


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    label: str  # "spam" or "ham"
    lang: str = ""
    source: str = ""

    @property
    def spam(self) -> bool:
        return self.label == "spam"


def text_key(text: str) -> int:
    """A 32-bit hash of the text as the model's record of its training rows keeps it."""
    return zlib.crc32(text.strip().encode("utf-8", "surrogatepass"))


def held_out(text: str) -> bool:
    """The fixed split: True for the one message in five that training never sees."""
    key = zlib.crc32((SPLIT_SALT + text.strip()).encode("utf-8", "surrogatepass"))
    return key % HELD_OUT_ONE_IN == 0


def _lines(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as f:
            return [line.rstrip("\r\n") for line in f]
    except OSError as exc:
        raise SamplesError(f"cannot read {path}: {exc.strerror or exc}") from exc


def qq_group(path: Path) -> tuple[list[Sample], int]:
    """The QQ group set: (samples, lines skipped because their label is missing or unclear)."""
    out: list[Sample] = []
    skipped = 0
    for line in _lines(path):
        text, sep, label = line.rpartition("==")
        if not sep or label.strip() not in ("0", "1") or not text.strip():
            skipped += bool(line.strip())
            continue
        out.append(Sample(text, "spam" if label.strip() == "1" else "ham", "zh-Hans", "qq_group"))
    return out, skipped


def tg_spam(spam: Path, ham: Path) -> list[Sample]:
    return [
        Sample(line, label, script_lang(line), "tg_spam")
        for path, label in ((spam, "spam"), (ham, "ham"))
        for line in _lines(path)
        if line.strip()
    ]


def kdconv(path: Path) -> list[Sample]:
    out: list[Sample] = []
    for n, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        try:
            messages = json.loads(line)["messages"]
        except (ValueError, KeyError, TypeError) as exc:
            raise SamplesError(f"{path}:{n}: not a dialogue with messages ({exc})") from exc
        out.extend(
            Sample(m, "ham", "zh-Hans", "kdconv")
            for m in messages
            if isinstance(m, str) and m.strip()
        )
    return out


def datasets(directory: Path) -> tuple[list[Sample], int]:
    """The three shared datasets under ``directory``, in a fixed order; (samples, skipped lines)."""
    missing = [p for p in (QQ_GROUP, TG_SPAM, TG_HAM, KDCONV) if not (directory / p).is_file()]
    if missing:
        raise SamplesError(
            f"{directory}: not the shared datasets folder "
            f"(missing {', '.join(map(str, missing))}); give shared/fixtures/datasets"
        )
    qq, skipped = qq_group(directory / QQ_GROUP)
    return [
        *qq,
        *tg_spam(directory / TG_SPAM, directory / TG_HAM),
        *kdconv(directory / KDCONV),
    ], skipped


def read_jsonl(path: Path) -> list[Sample]:
    """Samples from a JSON Lines file; ``SamplesError`` listing every bad line (up to 20)."""
    out: list[Sample] = []
    errors: list[str] = []
    for n, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        try:
            out.append(_sample(json.loads(line), path.name))
        except (ValueError, TypeError) as exc:
            errors.append(f"{path}:{n}: {exc}")
    if errors:
        more = f"\n... and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise SamplesError("bad samples, nothing trained:\n" + "\n".join(errors[:20]) + more)
    if not out:
        raise SamplesError(f"{path}: no samples in it")
    return out


def _sample(obj: object, default_source: str) -> Sample:
    if not isinstance(obj, dict):
        raise ValueError('expected an object {"text": ..., "label": "spam" | "ham"}')
    unknown = sorted(set(obj) - {"text", "label", "lang", "source"})
    if unknown:
        raise ValueError(f"unknown field {unknown[0]!r} (text, label, lang, source)")
    text, label = obj.get("text"), obj.get("label")
    if not isinstance(text, str) or not text.strip():
        raise ValueError('"text" must be a non-empty string')
    if label not in LABELS:
        raise ValueError(f'"label" must be "spam" or "ham", not {label!r}')
    lang, source = obj.get("lang", ""), obj.get("source", "")
    if not isinstance(lang, str) or not isinstance(source, str):
        raise ValueError('"lang" and "source" must be strings when given')
    return Sample(text, label, lang or script_lang(text), source or default_source)


def split(samples: Iterable[Sample]) -> tuple[list[Sample], list[Sample]]:
    """(training rows, held-out rows) by :func:`held_out`."""
    train: list[Sample] = []
    test: list[Sample] = []
    for s in samples:
        (test if held_out(s.text) else train).append(s)
    return train, test


def of_lines(spam: Sequence[str], ham: Sequence[str], source: str = "") -> list[Sample]:
    """Samples from two lists of lines (``firekeeper signals --spam --ham``), language by script."""
    return [
        Sample(t, label, script_lang(t), source)
        for lines, label in ((spam, "spam"), (ham, "ham"))
        for t in lines
    ]
