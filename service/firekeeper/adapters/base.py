"""Values every adapter shares: translations, skip notes, platform calls, errors.

A translator turns one native payload into a :class:`Translation`: the
normalized events it carries (zero, one or several) and a :class:`Skipped` note
for each part that is deliberately not an event. Action mapping turns each
``Action`` of a ``Decision`` into :class:`PlatformCall` values: data, never a
request made here.

Errors raised by the adapters (all under ``firekeeper.errors.FirekeeperError``)::

    FirekeeperError
    ├── InvalidEvent
    │   └── PayloadError       a native payload lacks a field the translation needs,
    │                          or has it with the wrong type; names the field path
    ├── MissingContext         the caller did not pass what the payload or the call
    │                          needs and the platform does not give (a Discord
    │                          leave's time, an admin chat to notify); says what
    └── UnmappableAction       an action's own values cannot become a platform call
                               (no target user, a non-numeric Telegram user id)

Everything here is pure: no I/O, no clock (``now`` is passed in).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from firekeeper.domain.decisions import ActionType
from firekeeper.domain.events import Event, Platform
from firekeeper.errors import FirekeeperError, InvalidEvent

Json = Mapping[str, Any]
"""A JSON object as ``json.loads`` gives it."""

NO_CALL = "none"
"""``PlatformCall.method`` of an action that needs no platform call (see its note)."""


class PayloadError(InvalidEvent):
    """A native payload cannot be translated: a required field is missing or mistyped."""


class MissingContext(FirekeeperError):
    """The caller must pass something the platform does not give; the message says what."""


class UnmappableAction(FirekeeperError):
    """An action's own values cannot become a platform call."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """Part of a payload that is deliberately not a normalized event, and why."""

    reason: str
    native_type: str = ""  # e.g. "message/private", "recall", "INVITE_CREATE"


@dataclass(frozen=True, slots=True)
class SequenceHint:
    """Ordering information a payload carries, for adapters that must reorder.

    WeCom customer-group callbacks carry the group's member-list version before
    (``previous``, LastMemVer) and after (``current``, CurMemVer) the change. A
    callback whose ``previous`` is not the last ``current`` the adapter saw for
    the same ``key`` arrived out of order or after a gap: hold it until the
    missing one arrives, or reconcile with the platform's member list.
    """

    key: str  # what the versions are of: the WeCom chat id
    previous: str
    current: str


@dataclass(frozen=True, slots=True)
class Translation:
    """What one native payload means: normalized events plus notes on the rest."""

    events: tuple[Event, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    sequence_hint: SequenceHint | None = None


@dataclass(frozen=True, slots=True)
class PlatformCall:
    """One platform API call that carries out (part of) an action, as data.

    ``method`` is the Bot API method name (Telegram) or the HTTP verb (Discord,
    WeCom); ``route`` is empty for Telegram (the Bot API path is
    ``/bot<token>/<method>``) and the REST path for the others, ids filled in.
    ``params`` is the JSON body (or Bot API parameters). ``fallback`` is True
    when the platform lacks the action and this call is a substitute; the note
    then says what is lost. ``method == NO_CALL`` means nothing is to be called.
    """

    platform: Platform
    method: str
    route: str
    params: Mapping[str, object]
    note: str = ""
    fallback: bool = False
    action: ActionType | None = None
    rule_id: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_noop(self) -> bool:
        return self.method == NO_CALL


# ------------------------------------------------------------------ payload access


def obj(data: Json, key: str, path: str) -> Json:
    """The JSON object at ``data[key]``; an empty mapping when absent or null."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(f"{path}.{key}", f"expected an object, got {type(value).__name__}")
    return value


def objs(data: Json, key: str, path: str) -> list[Json]:
    """The list of JSON objects at ``data[key]``; empty when absent or null."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise PayloadError(f"{path}.{key}", "expected a list of objects")
    return list(value)


def scalars(data: Json, key: str, path: str) -> list[str]:
    """The list of ids (strings or numbers) at ``data[key]``; empty when absent or null."""
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value
    ):
        raise PayloadError(f"{path}.{key}", "expected a list of ids")
    return [str(v) for v in value]


def text(data: Json, key: str, path: str) -> str:
    """The string at ``data[key]``; empty when absent or null."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{path}.{key}", f"expected a string, got {type(value).__name__}")
    return value


def number(data: Json, key: str, path: str) -> int | None:
    """The integer at ``data[key]``; None when absent or null."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(f"{path}.{key}", f"expected an integer, got {type(value).__name__}")
    return value


def ident(data: Json, key: str, path: str) -> str:
    """A required id (integer or string in the payload), as a string."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise PayloadError(f"{path}.{key}", "required id is missing")
    return str(value)


def flag(data: Json, key: str) -> bool:
    return data.get(key) is True


# ------------------------------------------------------------------ times and ids


def from_unix(seconds: float, path: str) -> datetime:
    """A Unix time in seconds as an aware UTC datetime; out-of-range times are a payload error."""
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise PayloadError(path, f"time out of range: {seconds}") from exc


def from_unix_ms(millis: int, path: str) -> datetime:
    return from_unix(millis / 1000, path)


def is_number(value: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts digits ``int`` rejects, like "²")."""
    return value.isascii() and value.isdigit()


def from_iso(value: str, path: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise PayloadError(path, f"not an ISO 8601 time: {value!r}") from exc
    if parsed.tzinfo is None:
        raise PayloadError(path, f"time without a UTC offset: {value!r}")
    return parsed.astimezone(UTC)


def to_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a ``+00:00`` offset, as Discord expects it."""
    return moment.astimezone(UTC).isoformat()


def digest(parts: Sequence[object]) -> str:
    """A short stable hash of JSON-serialisable parts (event ids for payloads without one)."""
    canonical = json.dumps(list(parts), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:20]


def utf16_slice(value: str, offset: int, length: int) -> str:
    """``value[offset:offset+length]`` in UTF-16 code units (Telegram entity offsets)."""
    encoded = value.encode("utf-16-le", errors="surrogatepass")
    return encoded[2 * offset : 2 * (offset + length)].decode("utf-16-le", errors="replace")


def utf16_len(value: str) -> int:
    return len(value.encode("utf-16-le", errors="surrogatepass")) // 2


H = TypeVar("H", bound=Hashable)


def unique(items: Iterable[H]) -> tuple[H, ...]:
    """The items in first-seen order, without repeats."""
    return tuple(dict.fromkeys(items))
