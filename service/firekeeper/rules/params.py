"""Ruleset parameters: declared types, defaults, and chat overrides.

Types: ``int``, ``number``, ``bool``, ``string``, ``duration`` (seconds, an
int; written ``14d``, ``6h``, ``30m``, ``45s``, ``2w`` or a plain number of
seconds). A declaration without ``type`` infers it from the default (a string
like ``"14d"`` is a duration).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from firekeeper.rules.conditions import DURATION_UNITS

TYPES = ("int", "number", "bool", "string", "duration")

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_INT = re.compile(r"^\s*[+-]?\d+\s*$")
_NUMBER = re.compile(r"^\s*[+-]?\d+(\.\d+)?\s*$")
_LIMIT = 2**53


@dataclass(frozen=True, slots=True)
class ParamDef:
    name: str
    type: str
    default: object
    description: str
    # the default as its author wrote it (``14d`` for a duration), shown to people
    written: str = field(default="", compare=False)


def parse_duration(text: str) -> int | None:
    """Seconds in ``"14d"``-style text, or None."""
    found = _DURATION.match(text)
    if found is None:
        return None
    return int(found.group(1)) * DURATION_UNITS[found.group(2)]


def infer_type(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str) and parse_duration(value) is not None:
        return "duration"
    return "string"


def convert(value: object, type_: str) -> object:
    """A YAML value as the declared type; raises ValueError saying what was expected."""
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if type_ == "bool" and isinstance(value, bool):
        return value
    if type_ == "string" and isinstance(value, str):
        return value
    if type_ == "int" and numeric and isinstance(value, int):
        return _in_range(value)
    if type_ == "number" and numeric:
        return _in_range(value)  # type: ignore[arg-type]
    if type_ == "duration":
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return _in_range(value)
        if isinstance(value, str) and (seconds := parse_duration(value)) is not None:
            return _in_range(seconds)
        raise ValueError("expected a duration like 14d, 6h, 30m or 45s")
    words = {"int": "a whole number", "number": "a number", "bool": "true or false"}
    raise ValueError(f"expected {words.get(type_, 'a string')}")


MAX_NUMBER_CHARS = 40  # a number, duration or bool override is refused past this length


def parse_override(text: str, type_: str) -> object:
    """An override given as YAML scalar text (``"150"``, ``"true"``, ``"14d"``) as the type."""
    if type_ != "string" and len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"longer than {MAX_NUMBER_CHARS} characters")
    if type_ == "int" and _INT.match(text):
        return _in_range(int(text))
    if type_ == "number" and (found := _NUMBER.match(text)):
        return _in_range(float(text) if found.group(1) else int(text))
    if type_ == "bool" and text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    if type_ == "duration":
        if _INT.match(text) and int(text) >= 0:
            return _in_range(int(text))
        seconds = parse_duration(text)
        if seconds is not None:
            return _in_range(seconds)
    if type_ == "string":
        stripped = text.strip()
        if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
            return stripped[1:-1]
        return text
    return convert(text, type_)


def _in_range(value: int | float) -> int | float:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("number out of range (must be below 2**53)")
    if abs(value) >= _LIMIT:  # compared exactly: a huge int never becomes a float
        raise ValueError("number out of range (must be below 2**53)")
    return value
