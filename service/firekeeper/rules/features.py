"""Text features computed before the engine: links, domains, lengths. Pure.

The link finder is an RE2 pattern (``firekeeper.rules.linear``): linear time
on any text, and it reads only the first ``SCANNED_CHARS`` code points.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from firekeeper.rules import linear

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
    seen: dict[str, None] = {}
    for link in given:
        if link:
            seen.setdefault(link.strip(), None)
    for m in _URL.finditer(linear.scanned(text)):
        seen.setdefault(m.group(1).rstrip(_TRAILING), None)
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
