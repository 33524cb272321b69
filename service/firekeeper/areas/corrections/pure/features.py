"""Admins' corrections as a feature: is this message a (near-)duplicate of a reported one?

When an admin says a deleted message was not spam, or that a missed one was, the
text becomes a labelled sample of the tenant (``firekeeper.areas.corrections.queries``).
The runtime keeps each tenant's samples in memory as one immutable
:class:`ReportedSamples` value (``firekeeper.areas.corrections.area``) and hands it to
this pure stage, which fills two fields of the fact:

- ``message.reported_spam_match``: the text is the same as, or a near-duplicate
  of, a sample an admin reported as spam;
- ``message.reported_ham_match``: the same for a sample reported as not spam,
  and no spam sample matches (a message reported spam by an admin outranks one
  reported ham).

A ham sample only ever vouches for near-duplicates of itself: nothing about it
generalises (that is what a retrain, fed by ``firekeeper corrections export``, is for).

The test. Both texts are normalised: NFKC (full-width and mathematical letters
fold to plain ones), case folded, links replaced by one token, digit runs by one
digit, everything but letters and digits dropped (spaces, punctuation, emoji,
zero-width characters: spaced-out letters join up). The same normalised
text (a 128-bit BLAKE2 digest) is an exact match. Otherwise texts of at least
``MIN_NEAR_CHARS`` normalised characters are compared as sets of character
``SHINGLE``-grams: a near-duplicate has a Jaccard similarity of at least
``NEAR_JACCARD``. Candidates come from a bottom-``SKETCH`` sketch (the ``SKETCH``
smallest shingle hashes) through an inverted index, and only the best
``MAX_CANDIDATES`` are compared exactly.

Cost per message, bounded whatever the tenant holds: normalising the text (linear),
hashing at most ``MAX_NEAR_CHARS`` shingles, ``SKETCH`` dictionary look-ups yielding at
most ``SKETCH * MAX_POSTINGS`` candidates (each hash keeps its newest ``MAX_POSTINGS``
samples), and at most ``MAX_CANDIDATES`` set intersections of at most
``MAX_NEAR_CHARS`` elements (``firekeeper bench`` prints the measured time). Memory:
about 50 bytes per shingle of each sample, and at most ``MAX_SAMPLES`` samples a tenant.
"""

from __future__ import annotations

import hashlib
import heapq
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from firekeeper.domain.events import Event, MessagePosted
from firekeeper.rules import linear
from firekeeper.rules.textchecks import Check

SPAM = "spam"
HAM = "ham"
LABELS = (SPAM, HAM)

SHINGLE = 3  # characters per shingle
NEAR_JACCARD = 0.6  # shingle-set similarity of a near-duplicate
MIN_NEAR_CHARS = 16  # shorter normalised texts match only exactly
MAX_NEAR_CHARS = 2000  # shingles taken from the first this many normalised characters
SKETCH = 32  # bottom-k sketch size: candidate look-ups per message
MAX_CANDIDATES = 8  # samples compared exactly per message
MAX_POSTINGS = 32  # samples kept per sketch hash (the newest): bounds the look-ups
MAX_SAMPLES = 2000  # newest samples a tenant keeps in memory

# runs on every message: linear-time (RE2; single-class tokenizers on re), as every
# pattern on people's text is (firekeeper.rules.linear)
_LINK = linear.compile(
    r"\b(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}/\S*", ignore_case=True
)
_DIGITS = linear.tokens(r"\d+")
_NOT_WORD = linear.tokens(r"[\W_]+")  # all but letters and digits (any script)


def normalize(text: str) -> str:
    """The text as the duplicate test sees it (see the module docstring)."""
    plain = unicodedata.normalize("NFKC", text).casefold()
    plain = _LINK.sub(" link ", plain)
    plain = _DIGITS.sub("0", plain)
    return _NOT_WORD.sub("", plain)


def digest(normalized: str) -> str:
    """The exact-match key of a normalised text (hex, 32 characters)."""
    return hashlib.blake2b(normalized.encode("utf-8"), digest_size=16).hexdigest()


def shingles(normalized: str) -> frozenset[int]:
    """Hashes of the text's character shingles (empty below ``MIN_NEAR_CHARS``).

    Python's string hash: salted per process, which is fine, as nothing built from
    it is stored; within a process equal shingles hash equal."""
    text = normalized[:MAX_NEAR_CHARS]
    if len(text) < MIN_NEAR_CHARS:
        return frozenset()
    return frozenset(hash(text[i : i + SHINGLE]) for i in range(len(text) - SHINGLE + 1))


def _sketch(grams: frozenset[int]) -> list[int]:
    return heapq.nsmallest(SKETCH, grams)


@dataclass(frozen=True, slots=True)
class Sample:
    label: str
    grams: frozenset[int]


@dataclass(frozen=True, slots=True)
class Match:
    """What the test found for one text."""

    spam: bool = False
    ham: bool = False
    similarity: float = 0.0  # of the best near-duplicate (1.0 for an exact match)


@dataclass(frozen=True)
class ReportedSamples:
    """One tenant's labelled samples, ready to match against. Build with :meth:`of`."""

    exact: Mapping[str, str] = field(default_factory=dict)  # digest -> label (spam wins)
    samples: tuple[Sample, ...] = ()
    index: Mapping[int, tuple[int, ...]] = field(default_factory=dict)  # hash -> sample nos

    @classmethod
    def of(cls, labelled: Iterable[tuple[str, str]]) -> ReportedSamples:
        """From ``(label, text)`` pairs, newest first; at most ``MAX_SAMPLES`` are kept.

        One text reported both ways counts as spam."""
        exact: dict[str, str] = {}
        samples: list[Sample] = []
        index: dict[int, list[int]] = {}
        for n, (label, text) in enumerate(labelled):
            if n >= MAX_SAMPLES:
                break
            if label not in LABELS:
                raise ValueError(f"a sample's label is spam or ham, not {label!r}")
            norm = normalize(text)
            if not norm:
                continue
            key = digest(norm)
            if exact.get(key) != SPAM:
                exact[key] = label
            grams = shingles(norm)
            if not grams:
                continue
            for h in _sketch(grams):
                postings = index.setdefault(h, [])
                if len(postings) < MAX_POSTINGS:
                    postings.append(len(samples))
            samples.append(Sample(label, grams))
        return cls(exact, tuple(samples), {h: tuple(v) for h, v in index.items()})

    def __len__(self) -> int:
        return len(self.exact)

    def match(self, text: str) -> Match:
        if not self.exact or not text:
            return Match()
        norm = normalize(text)
        if not norm:
            return Match()
        label = self.exact.get(digest(norm))
        if label == SPAM:
            return Match(spam=True, similarity=1.0)
        grams = shingles(norm)
        best = {SPAM: 0.0, HAM: 1.0 if label == HAM else 0.0}
        if grams and self.samples:
            found: list[int] = []
            for h in _sketch(grams):
                found.extend(self.index.get(h, ()))
            hits = Counter(found)
            for n, _shared in hits.most_common(MAX_CANDIDATES):
                sample = self.samples[n]
                inter = len(grams & sample.grams)
                jaccard = inter / (len(grams) + len(sample.grams) - inter)
                if jaccard > best[sample.label]:
                    best[sample.label] = jaccard
        if best[SPAM] >= NEAR_JACCARD:
            return Match(spam=True, similarity=best[SPAM])
        if best[HAM] >= NEAR_JACCARD:
            return Match(ham=True, similarity=best[HAM])
        return Match(similarity=max(best.values()))


NO_SAMPLES = ReportedSamples()


def sections(event: Event, samples: ReportedSamples | None) -> Mapping[str, Mapping[str, Any]]:
    """The fact fields of a message: ``message.reported_spam_match`` / ``_ham_match``."""
    p = event.payload
    if not isinstance(p, MessagePosted):
        return {}
    found = (samples or NO_SAMPLES).match(p.text)
    return {"message": {"reported_spam_match": found.spam, "reported_ham_match": found.ham}}


# its check on user text, timed with the others (firekeeper.area_registry.text_checks)
TEXT_CHECKS: tuple[Check, ...] = (Check("reported_normalize", __name__, normalize),)
