"""Text features computed before the engine: links, domains, lengths. Pure.

The link finder is an RE2 pattern (``firekeeper.rules.linear``): linear time
on any text, and it reads only the first ``SCANNED_CHARS`` code points.

One message's text is read by several stages: the fact (links, shape), the
screening area (unmasked text, its links, promotion signals), the lifecycle
area (the folded text for repeat counting), the matcher's text predicates
(folded text). :func:`of` gives them one :class:`TextFeatures` value per text,
which computes each feature the first time a stage asks and keeps it, so each
is computed once per message whichever stages read it and in whatever order.
The values are kept for the last :data:`KEPT_TEXTS` texts (a bounded memo:
the stages of one event ask within a few calls of each other).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar, cast
from urllib.parse import urlsplit

from firekeeper.rules import linear
from firekeeper.rules.textmatch import fold
from firekeeper.rules.unmask import Unmasked, unmask

# A link as people type it: a scheme, or www., or a bare host with a known TLD-ish
# ending followed by a path. Deliberately conservative for bare hosts, so "e.g."
# or "3.5" are not links.
_STOP = "[^\\s<>\"'，。！？、]"
_URL = linear.compile(
    r"\b("
    rf"(?:https?://|www\.){_STOP}+"
    r"|"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:com|net|org|io|me|ly|gl|cc|co|info|biz|xyz|top|site|app|dev|ru|cn|link|club|shop|store"
    r"|gg|tv|to|ws)"
    rf"(?:/{_STOP}*)?"
    r")",
    ignore_case=True,
)
_TRAILING = ".,;:!?)]}'\"”’"


@dataclass(frozen=True, slots=True)
class TextShape:
    length: int
    line_count: int


def find_links(text: str, given: Iterable[str] = ()) -> tuple[str, ...]:
    """Distinct links in the text plus those the platform marked, in first-seen order."""
    return _merged(given, _links_in(text))


def _links_in(text: str) -> tuple[str, ...]:
    return tuple(m.group(1).rstrip(_TRAILING) for m in _URL.finditer(linear.scanned(text)))


def _merged(given: Iterable[str], found: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for link in given:
        if link:
            seen.setdefault(link.strip(), None)
    for link in found:
        seen.setdefault(link, None)
    return tuple(seen)


def domain_of(link: str) -> str:
    """Lower-case host of a link without a leading ``www.``; empty when there is none."""
    candidate = link if "://" in link else f"http://{link}"
    try:
        host = urlsplit(candidate).hostname or ""
    except ValueError:
        return ""
    host = host.lower().rstrip(".")
    return host[4:] if host.startswith("www.") else host


def domains(links: Iterable[str]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for link in links:
        d = domain_of(link)
        if d:
            seen.setdefault(d, None)
    return tuple(seen)


def shape(text: str) -> TextShape:
    stripped = text.strip()
    return TextShape(
        length=len(stripped),
        line_count=len([ln for ln in stripped.splitlines() if ln.strip()]) if stripped else 0,
    )


_V = TypeVar("_V")


class TextFeatures:
    """What the feature stages read of one text, each computed on first use and kept.

    Get it with :func:`of`. Immutable from outside; a feature computed twice at once
    by two threads is the same value either way."""

    __slots__ = ("_folded", "_links", "_once", "_plain_links", "_shape", "_unmasked", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self._once: dict[Callable[[str], object], object] = {}
        self._unmasked: Unmasked | None = None
        self._links: tuple[str, ...] | None = None
        self._plain_links: tuple[str, ...] | None = None
        self._folded: str | None = None
        self._shape: TextShape | None = None

    @property
    def unmasked(self) -> Unmasked:
        """The text as a reader sees it (``firekeeper.rules.unmask``), its first
        ``SCANNED_CHARS`` code points."""
        if self._unmasked is None:
            self._unmasked = unmask(linear.scanned(self.text))
        return self._unmasked

    @property
    def plain(self) -> str:
        return self.unmasked.text

    def links(self, given: Iterable[str] = ()) -> tuple[str, ...]:
        """``find_links(text, given)``."""
        if self._links is None:
            self._links = _links_in(self.text)
        return _merged(given, self._links)

    def plain_links(self, given: Iterable[str] = ()) -> tuple[str, ...]:
        """``find_links(unmasked text, given)``: links written to dodge the link finder too."""
        if self._plain_links is None:
            plain = self.plain
            # most texts are not masked: their unmasked text is their first
            # SCANNED_CHARS code points, where the link finder reads anyway
            if plain == linear.scanned(self.text):
                if self._links is None:
                    self._links = _links_in(self.text)
                self._plain_links = self._links
            else:
                self._plain_links = _links_in(plain)
        return _merged(given, self._plain_links)

    @property
    def folded(self) -> str:
        """The whole text folded for caseless comparison (``textmatch.fold``)."""
        if self._folded is None:
            self._folded = fold(self.text)
        return self._folded

    def once(self, compute: Callable[[str], _V]) -> _V:
        """``compute(text)``, computed the first time it is asked for (``compute``: a pure
        function of the text, such as a word count several checks read)."""
        if compute not in self._once:
            self._once[compute] = compute(self.text)
        return cast(_V, self._once[compute])

    @property
    def shape(self) -> TextShape:
        if self._shape is None:
            self._shape = shape(self.text)
        return self._shape


KEPT_TEXTS = 64


@functools.lru_cache(maxsize=KEPT_TEXTS)
def of(text: str) -> TextFeatures:
    """The one :class:`TextFeatures` value of ``text`` (while it is among the last
    ``KEPT_TEXTS`` texts asked for; a new one, computed again, after that)."""
    return TextFeatures(text)
