"""Structured logging through the standard library.

``configure("json", "info")`` once at start-up; modules log with
``logging.getLogger(__name__)`` and put facts in ``extra``::

    log.info("evaluated", extra={"event_id": e.id, "kind": "message.posted", "duration_ms": 3.2})

- ``json``: one JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, then
  every extra field, then ``exc`` with the traceback when there is one.
- ``text``: ``2024-05-01T12:00:00.123Z INFO  firekeeper.api.servicer: evaluated event_id=...``

People's words are never logged, at any level: the extra fields named in
``TEXT_FIELDS`` (message text, bios, answers, announcements) are replaced by
their length, so a careless ``extra`` cannot leak them.

No value can forge a line or a field. In both formats every character that
could end a line or steer a terminal (C0 and C1 controls, DEL, U+2028,
U+2029) is written as an escape (``\n``, ``\u001b``); in ``text`` a value
holding a space, ``"`` or ``=`` (or an escaped character) is quoted as a JSON
string, so ``event_id="a b=c"`` stays one field, and so is a message holding
``=``, ``"`` or an escaped character. A traceback's lines follow
the record's line, each prefixed with ``  | `` so none can pass for a record.

Database errors never bring their values along: in a traceback, an exception
raised by SQLAlchemy or a driver (psycopg, sqlite3) shows only its type, its
SQLSTATE and the SQL statement (parameters are hidden by the engine,
``hide_parameters=True``); its message, which may quote a row's values
(``DETAIL: Key (...)=(...)``), is left out.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("text", "json")
TEXT_FIELDS = frozenset({"text", "message_text", "bio", "answers", "announcement_text"})

# Attributes every LogRecord has; anything else on a record came from ``extra``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def _timestamp(record: logging.LogRecord) -> str:
    when = datetime.fromtimestamp(record.created, tz=UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


# Characters that could end a line or steer a terminal, wherever they appear.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_DB_MODULES = ("sqlalchemy", "psycopg", "sqlite3")
_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def escape(text: str) -> str:
    """``text`` with every line-ending or control character written as an escape."""
    return _UNSAFE.sub(lambda m: _SHORT.get(m.group(), f"\\u{ord(m.group()):04x}"), text)


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra`` fields of a record, with people's text redacted."""
    fields = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
    for name in TEXT_FIELDS & fields.keys():
        value = fields[name]
        size = len(value) if isinstance(value, str | list | tuple) else 0
        fields[name] = f"<redacted, {size} long>"
    return fields


def _is_db_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in _DB_MODULES


def _db_summary(exc: BaseException) -> str:
    name = f"{type(exc).__module__}.{type(exc).__qualname__}"
    sqlstate = getattr(exc, "sqlstate", None) or getattr(
        getattr(exc, "orig", None), "sqlstate", None
    )
    statement = getattr(exc, "statement", None)
    parts = [f"{name}: (message withheld: database errors may quote values)"]
    if sqlstate:
        parts.append(f"SQLSTATE {sqlstate}")
    if isinstance(statement, str):
        parts.append(f"[SQL: {' '.join(statement.split())}]")
    return " ".join(parts) + "\n"


def format_exception(exc: BaseException) -> str:
    """A traceback like ``traceback.format_exception``, causes and contexts included,
    with the message of every database error replaced by ``_db_summary``."""
    chain: list[tuple[BaseException, str]] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append((current, link))
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    out: list[str] = []
    for item, how in reversed(chain):
        if item.__traceback__ is not None:
            out.append("Traceback (most recent call last):\n")
            out.extend(traceback.format_tb(item.__traceback__))
        if _is_db_error(item):
            out.append(_db_summary(item))
        else:
            out.extend(traceback.format_exception_only(type(item), item))
        if how:
            out.append(how)
    return "".join(out).rstrip("\n")


class _Formatter(logging.Formatter):
    def formatException(self, ei: Any) -> str:
        exc = ei[1] if isinstance(ei, tuple) else None
        if isinstance(exc, BaseException):
            return format_exception(exc)
        return super().formatException(ei)


class JsonFormatter(_Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            out.setdefault(key, value)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.stack_info:
            out["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes C0 controls; DEL, C1, U+2028 and U+2029 it leaves raw.
        return escape(json.dumps(out, default=str, ensure_ascii=False))


class TextFormatter(_Formatter):
    def format(self, record: logging.LogRecord) -> str:
        head = f"{_timestamp(record)} {record.levelname:<5} {escape(record.name)}:"
        line = f"{head} {_text_message(record.getMessage())}"
        fields = extra_fields(record)
        if fields:
            line += " " + " ".join(f"{_text_key(k)}={_text_value(v)}" for k, v in fields.items())
        if record.exc_info:
            line += _continuation(self.formatException(record.exc_info))
        elif record.stack_info:
            line += _continuation(self.formatStack(record.stack_info))
        return line


def _continuation(text: str) -> str:
    return "".join(f"\n  | {escape(part)}" for part in text.split("\n"))


def _text_message(message: str) -> str:
    """The message as is, or quoted when it could pass for fields (``=``, ``"``) or
    holds a character that needs an escape."""
    if any(c in message for c in '"=') or _UNSAFE.search(message):
        return escape(json.dumps(message, ensure_ascii=False))
    return message


def _text_key(key: str) -> str:
    return key if key.isidentifier() else json.dumps(escape(key), ensure_ascii=False)


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    if not text or any(c in text for c in ' "=') or _UNSAFE.search(text):
        return escape(json.dumps(text, ensure_ascii=False))
    return text


def parse_level(level: str | int) -> int:
    """``"info"``, ``"WARNING"``, ``20`` -> a logging level; ``ValueError`` otherwise."""
    if isinstance(level, int):
        return level
    name = level.strip().upper()
    if name.isdigit():
        return int(name)
    value = logging.getLevelNamesMapping().get("WARNING" if name == "WARN" else name)
    if value is None:
        raise ValueError(
            f"unknown log level {level!r}; use debug, info, warning, error or critical"
        )
    return value


def is_own(name: str) -> bool:
    """Whether logger ``name`` is Firekeeper's (``firekeeper``, ``firekeeper.*``, the root)."""
    return name in ("firekeeper", "root") or name.startswith("firekeeper.")


class _ByOrigin(logging.Filter):
    """Firekeeper's records from ``own`` up; other libraries' from ``libraries`` up."""

    def __init__(self, own: int, libraries: int) -> None:
        super().__init__()
        self.own, self.libraries = own, libraries

    def filter(self, record: logging.LogRecord) -> bool:
        floor = self.own if is_own(record.name) else self.libraries
        return record.levelno >= floor


def library_level(level: str | int, libraries: str | int = "") -> int:
    """The level of other libraries' loggers: ``libraries`` when given, else WARNING,
    or DEBUG when Firekeeper's own ``level`` is DEBUG (or finer)."""
    if isinstance(libraries, int) or libraries.strip():
        return parse_level(libraries)
    return logging.DEBUG if parse_level(level) <= logging.DEBUG else logging.WARNING


def configure(
    format: str = "text",
    level: str | int = "info",
    *,
    stream: TextIO | None = None,
    libraries: str | int = "",
) -> None:
    """Send log records to ``stream`` (stderr) in ``format``: Firekeeper's from ``level``
    up, other libraries' (alembic's migration lines, sqlalchemy, grpc, ...) from
    ``library_level(level, libraries)`` up, so they stay quiet at info unless asked.

    Calling it again replaces the handler it installed before; handlers others
    installed (pytest's, say) are left alone.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown log format {format!r}; use one of {', '.join(FORMATS)}")
    own, others = parse_level(level), library_level(level, libraries)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    handler.addFilter(_ByOrigin(own, others))
    handler.set_name("firekeeper")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "firekeeper"]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(min(own, others))
