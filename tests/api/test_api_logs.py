"""Structured logs: JSON lines and text, with people's text redacted at every level."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from firekeeper import logs


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level = root.level
    out = io.StringIO()
    yield out
    for handler in [h for h in root.handlers if h.get_name() == "firekeeper"]:
        root.removeHandler(handler)
    root.setLevel(level)


def test_json_lines(stream: io.StringIO) -> None:
    logs.configure("json", "info", stream=stream)
    log = logging.getLogger("firekeeper.pipeline")
    log.debug("hidden")
    log.info(
        "evaluated %s",
        "e1",
        extra={
            "event_id": "e1",
            "chat": "telegram/acme/1",
            "rules": ["a", "b"],
            "duration_ms": 1.5,
        },
    )
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("failed")
    lines = stream.getvalue().splitlines()
    first = json.loads(lines[0])
    assert first["msg"] == "evaluated e1"
    assert first["level"] == "info" and first["logger"] == "firekeeper.pipeline"
    assert (
        first["event_id"] == "e1" and first["rules"] == ["a", "b"] and first["duration_ms"] == 1.5
    )
    assert first["ts"].endswith("Z")
    second = json.loads("\n".join(lines[1:]))
    assert second["level"] == "error" and "ValueError: boom" in second["exc"]


def test_text_format(stream: io.StringIO) -> None:
    logs.configure("text", "DEBUG", stream=stream)
    logging.getLogger("x").warning("slow store", extra={"operation": "commit", "note": "a b"})
    line = stream.getvalue().strip()
    assert ' WARNING x: slow store operation=commit note="a b"' in line


def test_message_text_is_redacted_at_every_level(stream: io.StringIO) -> None:
    logs.configure("json", "debug", stream=stream)
    log = logging.getLogger("y")
    log.info("posted", extra={"text": "my phone is 555"})
    log.debug("posted", extra={"text": "my phone is 555"})
    info, debug = (json.loads(line) for line in stream.getvalue().splitlines())
    assert info["text"] == "<redacted, 15 long>"
    assert debug["text"] == "<redacted, 15 long>"  # DEBUG too: no level logs people's words


def test_configure_twice_keeps_one_handler(stream: io.StringIO) -> None:
    logs.configure("text", "info", stream=stream)
    logs.configure("json", "info", stream=stream)
    assert [h.get_name() for h in logging.getLogger().handlers].count("firekeeper") == 1


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="log format"):
        logs.configure("xml")
    with pytest.raises(ValueError, match="log level"):
        logs.parse_level("loud")
    assert logs.parse_level("warn") == logging.WARNING


def test_other_libraries_stay_quiet_at_info_unless_asked(stream: io.StringIO) -> None:
    def emit() -> list[str]:
        stream.seek(0)
        stream.truncate()
        logging.getLogger("alembic.runtime.migration").info("Running upgrade  -> 0001")
        logging.getLogger("sqlalchemy.pool").warning("pool is full")
        logging.getLogger("grpc._cython.cygrpc").debug("poller")
        logging.getLogger("firekeeper.store").info("store ready")
        logging.getLogger("firekeeper.store").debug("ours, detail")
        return [line.split(": ", 1)[1] for line in stream.getvalue().splitlines()]

    logs.configure("text", "info", stream=stream)
    assert emit() == ["pool is full", "store ready"]
    logs.configure("text", "info", stream=stream, libraries="info")
    assert emit() == ["Running upgrade  -> 0001", "pool is full", "store ready"]
    logs.configure("text", "debug", stream=stream)  # debug: everyone's debug
    assert emit() == [
        "Running upgrade  -> 0001",
        "pool is full",
        "poller",
        "store ready",
        "ours, detail",
    ]
    logs.configure("text", "debug", stream=stream, libraries="error")
    assert emit() == ["store ready", "ours, detail"]
    with pytest.raises(ValueError, match="log level"):
        logs.configure("text", "info", stream=stream, libraries="loud")
