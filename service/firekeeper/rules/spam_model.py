"""The learned spam score: a linear model over hashed character n-grams, scored directly. Pure.

``message.spam_score`` is ``score(model, plain_text)``: the probability, 0 to 1,
that a message is spam or an ad, from a logistic regression trained by
``firekeeper train`` (``firekeeper.learned``) on labelled chat messages. It reads
characters, not words, so Chinese needs no word segmentation.

The features of a text (:func:`buckets`): it is lower-cased, runs of 5 or more
digits (QQ and phone numbers) become one ``#``, every other digit becomes ``0``,
white space is collapsed, and a space is put at each end; then every character
n-gram of ``ngram_min`` to ``ngram_max`` characters is hashed (CRC-32 of its
UTF-32-LE bytes) into one of ``2**bits`` buckets. A text's feature vector is 1 for
each bucket present, divided by the square root of how many are present (unit
length). The score is ``sigmoid(bias + sum of those buckets' weights / sqrt(n))``:
exactly what scikit-learn's ``LogisticRegression.predict_proba`` computes on that
vector, without its per-call overhead (``firekeeper bench`` measures both).

A model scores only the languages it had enough spam and ham of
(``languages``, told by script: Han, Cyrillic, else Latin); for others
:func:`spam_score` gives None and ``message.spam_score`` is absent.

The model arrives as a value: reading the artefact file is the runtime's I/O
(``firekeeper.learned.artefact``); :func:`from_document` only checks and decodes
the parsed document. Only the first ``max_chars`` characters are read, so the
cost of a score is bounded whatever the text.
"""

from __future__ import annotations

import base64
import binascii
import math
import zlib
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from firekeeper.rules import linear

FORMAT = "firekeeper-spam-model/1"
FEATURES = "char-ngrams/crc32-utf32le/1"  # how buckets() reads a text; part of a model's version

# One character class repeated: nothing to backtrack into (firekeeper.rules.linear.tokens).
_LONG_NUMBER = linear.tokens(r"\d{5,}")
_DIGIT = linear.tokens(r"\d")
_SPACE = linear.tokens(r"\s+")
_HAN = linear.tokens(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CYRILLIC = linear.tokens(r"[\u0400-\u04ff]")


def script_lang(text: str) -> str:
    """A language tag from the script alone: Han characters zh-Hans, Cyrillic ru, else en."""
    if _HAN.search(text):
        return "zh-Hans"
    if _CYRILLIC.search(text):
        return "ru"
    return "en"


class SpamModelError(ValueError):
    """The spam model document is not one this version can score with; says what is wrong."""


@dataclass(frozen=True, slots=True)
class SpamModel:
    """A trained model: its feature settings, weights per bucket, and what it was trained on.

    ``meta``: the artefact's record (version, training data digest, held-out figures, the
    training texts' hashes); the score does not read it."""

    version: str
    bits: int
    ngram_min: int
    ngram_max: int
    max_chars: int
    bias: float
    weights: tuple[float, ...]
    meta: Mapping[str, Any] = field(default_factory=dict)
    languages: tuple[str, ...] = ()  # what it had enough spam and ham of (script_lang)

    @property
    def mask(self) -> int:
        return (1 << self.bits) - 1


def normalize(text: str, max_chars: int) -> str:
    """The text the n-grams are read from (see the module docstring); empty for blank text."""
    t = text[:max_chars].lower()
    t = _DIGIT.sub("0", _LONG_NUMBER.sub("#", t))
    t = _SPACE.sub(" ", t).strip()
    return f" {t} " if t else ""


def buckets(text: str, model: SpamModel) -> set[int]:
    """The hash buckets of the text's character n-grams (CRC-32 of each n-gram's UTF-32-LE
    bytes: the text is encoded once and every n-gram is a slice of it)."""
    b = normalize(text, model.max_chars).encode("utf-32-le")
    mask, crc, end = model.mask, zlib.crc32, len(b)
    return {
        crc(b[i : i + 4 * n]) & mask
        for n in range(model.ngram_min, model.ngram_max + 1)
        for i in range(0, end - 4 * n + 1, 4)
    }


def logit(model: SpamModel, present: set[int]) -> float:
    if not present:
        return model.bias
    return model.bias + sum(map(model.weights.__getitem__, present)) / math.sqrt(len(present))


def sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def score(model: SpamModel, text: str) -> float:
    """The probability (0 to 1) that the text is spam. ``text``: the message's plain text
    (obfuscation undone, as ``message.plain_text``), the form the model was trained on."""
    return sigmoid(logit(model, buckets(text, model)))


def spam_score(model: SpamModel, text: str) -> float | None:
    """``message.spam_score``: the score, or None when the text's language (by script) is
    not one the model was trained on enough (a model that has seen almost no ordinary
    English chat would call most English spam)."""
    if script_lang(text) not in model.languages:
        return None
    return score(model, text)


# ---------------------------------------------------------------- the document


def encode_weights(weights: tuple[float, ...] | list[float]) -> tuple[float, str]:
    """(scale, base64 of one signed byte per weight): weight = byte * scale.

    The shipped model carries its weights quantized to 8 bits; training scores its
    held-out rows with the quantized weights, so the recorded figures are the shipped
    model's own."""
    top = max((abs(w) for w in weights), default=0.0)
    scale = top / 127 if top > 0 else 1.0
    q = array("b", (max(-127, min(127, round(w / scale))) for w in weights))
    return scale, base64.b64encode(zlib.compress(q.tobytes(), 9)).decode("ascii")


def decode_weights(scale: float, data: str, size: int) -> tuple[float, ...]:
    try:
        raw = zlib.decompress(base64.b64decode(data.encode("ascii"), validate=True))
    except (binascii.Error, zlib.error, UnicodeEncodeError, ValueError) as exc:
        raise SpamModelError(f"weights: not base64 of zlib-compressed bytes ({exc})") from exc
    if len(raw) != size:
        raise SpamModelError(f"weights: {len(raw)} bytes for {size} buckets (2**bits)")
    q = array("b")
    q.frombytes(raw)
    return tuple(v * scale for v in q)


def _field(doc: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    if name not in doc:
        raise SpamModelError(f"missing field {name!r}")
    value = doc[name]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise SpamModelError(f"field {name!r}: expected {kind}, got {type(value).__name__}")
    return value


def from_document(doc: Mapping[str, Any]) -> SpamModel:
    """The model from its parsed artefact document; ``SpamModelError`` saying what is wrong."""
    if not isinstance(doc, Mapping):
        raise SpamModelError("the document is not a JSON object")
    fmt = doc.get("format")
    if fmt != FORMAT:
        raise SpamModelError(f"format {fmt!r}: this version reads {FORMAT!r}")
    bits = _field(doc, "bits", int)
    lo, hi = _field(doc, "ngram_min", int), _field(doc, "ngram_max", int)
    max_chars = _field(doc, "max_chars", int)
    if not 8 <= bits <= 24:
        raise SpamModelError(f"bits {bits}: expected 8 to 24")
    if not 1 <= lo <= hi <= 8:
        raise SpamModelError(f"ngram_min {lo}, ngram_max {hi}: expected 1 <= min <= max <= 8")
    if not 1 <= max_chars <= 100_000:
        raise SpamModelError(f"max_chars {max_chars}: expected 1 to 100000")
    bias = float(_field(doc, "bias", (int, float)))
    scale = float(_field(doc, "scale", (int, float)))
    if not (math.isfinite(bias) and math.isfinite(scale) and scale > 0):
        raise SpamModelError("bias and scale must be finite, scale above 0")
    weights = decode_weights(scale, _field(doc, "weights", str), 1 << bits)
    languages = _field(doc, "languages", list)
    if not all(isinstance(x, str) for x in languages):
        raise SpamModelError("field 'languages': expected a list of language tags")
    meta = {k: v for k, v in doc.items() if k not in _MODEL_FIELDS}
    return SpamModel(
        version=str(_field(doc, "version", str)),
        bits=bits,
        ngram_min=lo,
        ngram_max=hi,
        max_chars=max_chars,
        bias=bias,
        weights=weights,
        meta=meta,
        languages=tuple(languages),
    )


def to_document(model: SpamModel) -> dict[str, Any]:
    scale, data = encode_weights(model.weights)
    doc: dict[str, Any] = {
        "format": FORMAT,
        "version": model.version,
        "bits": model.bits,
        "ngram_min": model.ngram_min,
        "ngram_max": model.ngram_max,
        "max_chars": model.max_chars,
        "bias": model.bias,
        "scale": scale,
        "languages": list(model.languages),
    }
    doc.update(model.meta)
    doc["weights"] = data
    return doc


_MODEL_FIELDS = frozenset(
    {
        "format",
        "version",
        "bits",
        "ngram_min",
        "ngram_max",
        "max_chars",
        "bias",
        "scale",
        "languages",
        "weights",
    }
)
