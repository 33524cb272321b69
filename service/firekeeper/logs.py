"""Structured logging through the standard library.

``configure("json", "info")`` once at start-up; modules log with
``logging.getLogger(__name__)`` and put facts in ``extra``::

    log.info("evaluated", extra={"event_id": e.id, "kind": "message.posted", "duration_ms": 3.2})

- ``json``: one JSON object per line: ``ts``, ``level``, ``logger``, ``msg``, then
  every extra field, then ``exc`` with the traceback when there is one.
- ``text``: ``2024-05-01T12:00:00.123Z INFO  firekeeper.api.servicer: evaluated event_id=...``

People's words are not logged above DEBUG: the extra fields named in
``TEXT_FIELDS`` (message text, bios, answers, announcements) are replaced by
their length unless the record is DEBUG, so a careless ``extra`` cannot leak them.
"""

from __future__ import annotations

import json
import logging
import sys
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


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra`` fields of a record, with people's text redacted above DEBUG."""
    fields = {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
    if record.levelno > logging.DEBUG:
        for name in TEXT_FIELDS & fields.keys():
            value = fields[name]
            size = len(value) if isinstance(value, str | list | tuple) else 0
            fields[name] = f"<redacted, {size} long>"
    return fields


class JsonFormatter(logging.Formatter):
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
        return json.dumps(out, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = f"{_timestamp(record)} {record.levelname:<5} {record.name}: {record.getMessage()}"
        fields = extra_fields(record)
        if fields:
            line += " " + " ".join(f"{k}={_text_value(v)}" for k, v in fields.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        elif record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def _text_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)
    return (
        json.dumps(text, ensure_ascii=False) if not text or any(c in text for c in ' "=') else text
    )


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


def configure(
    format: str = "text", level: str | int = "info", *, stream: TextIO | None = None
) -> None:
    """Send every log record to ``stream`` (stderr) in ``format``, from ``level`` up.

    Calling it again replaces the handler it installed before; handlers others
    installed (pytest's, say) are left alone.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown log format {format!r}; use one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    handler.set_name("firekeeper")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "firekeeper"]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(parse_level(level))
