"""Logs cannot be forged and carry no people's words or SQL parameters."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import grpc
import pytest
import sqlalchemy as sa

from firekeeper import logs
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc

from .support import evaluate, register, service

FORGED = (
    "e1\n2026-12-01T00:00:00.000Z INFO  firekeeper.api: granted admin=true"
    "\r\x1b[2K\x1b[31mred\u2028next\x85c1 rpc=Admin.Reload code=OK"
)


@pytest.fixture
def capture() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    text, js = io.StringIO(), io.StringIO()
    handlers = []
    for out, formatter in ((text, logs.TextFormatter()), (js, logs.JsonFormatter())):
        handler = logging.StreamHandler(out)
        handler.setFormatter(formatter)
        handlers.append(handler)
    log = logging.getLogger("test.forge")
    log.propagate = False
    for handler in handlers:
        log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    yield text, js
    for handler in handlers:
        log.removeHandler(handler)


def test_no_value_forges_a_line_or_a_field(capture: tuple[io.StringIO, io.StringIO]) -> None:
    text, js = capture
    log = logging.getLogger("test.forge")
    log.info("decided %s", FORGED, extra={"event_id": FORGED, "plain": "x\ny"})
    try:
        raise ValueError(FORGED)
    except ValueError:
        log.exception("failed", extra={"event_id": FORGED})

    lines = text.getvalue().split("\n")
    records = [line for line in lines if line and not line.startswith("  | ")]
    assert len(records) == 2, lines  # one line per record, however many newlines
    first = records[0]
    assert "\x1b" not in text.getvalue() and "\r" not in text.getvalue()
    assert "\u2028" not in text.getvalue() and "\x85" not in text.getvalue()
    # the message and each value are one quoted JSON string: the fake "rpc=" and
    # "code=" stay inside them
    quoted = logs.escape(json.dumps(FORGED, ensure_ascii=False))
    message = logs.escape(json.dumps(f"decided {FORGED}", ensure_ascii=False))
    assert first.endswith(f' test.forge: {message} event_id={quoted} plain="x\\ny"')
    assert json.loads(quoted) == FORGED
    # the traceback's lines are marked as continuation, the forged text escaped in them
    assert all(line.startswith("  | ") for line in lines[lines.index(records[1]) + 1 :] if line)

    js_lines = js.getvalue().splitlines()
    assert len(js_lines) == 2  # str.splitlines also splits on U+2028 and \x85
    decoded = [json.loads(line) for line in js_lines]
    assert decoded[0]["event_id"] == FORGED and decoded[0]["msg"] == f"decided {FORGED}"
    assert "ValueError" in decoded[1]["exc"]


def test_peoples_words_are_redacted_at_every_level(
    capture: tuple[io.StringIO, io.StringIO],
) -> None:
    text, js = capture
    log = logging.getLogger("test.forge")
    for level in (logging.DEBUG, logging.INFO, logging.ERROR):
        log.log(level, "posted", extra={"text": "my phone is 555", "bio": "555", "answers": ["5"]})
    assert "555" not in text.getvalue() + js.getvalue()
    assert json.loads(js.getvalue().splitlines()[0])["text"] == "<redacted, 15 long>"


def test_database_errors_are_logged_without_their_values() -> None:
    value = "top " + "hidden" + " words"  # built, so the traceback's source lines lack it
    engine = sa.create_engine("sqlite://", hide_parameters=True)
    with engine.begin() as conn:
        conn.execute(sa.text("create table t (v text check (v not like '%hidden%'))"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("insert into t values (:v)"), {"v": value})
    except sa.exc.IntegrityError as exc:
        rendered = logs.format_exception(exc)
    else:
        pytest.fail("the check constraint did not fire")
    assert value not in rendered and "hidden" not in rendered.replace("'%hidden%'", "")
    assert "sqlalchemy.exc.IntegrityError" in rendered and "sqlite3.IntegrityError" in rendered
    assert "insert into t values (?)" in rendered and "Traceback" in rendered
    assert "direct cause of the following exception" in rendered  # the chain is kept


async def test_a_postgresql_error_logs_neither_the_text_nor_the_parameters(
    postgres_url: str,
) -> None:
    """A decision that PostgreSQL refuses (a check constraint added for the test) is
    answered INTERNAL; the log has the traceback but neither the message text nor
    the SQL parameters, not even in the driver's DETAIL (which quotes the row)."""
    secret = "call me on 5550199 secretword"
    async with service(postgres_url) as svc:
        gov = pb_grpc.GovernanceStub(svc.channel)
        await gov.RegisterChat(register())
        engine = sa.create_engine(postgres_url)
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "alter table decisions add constraint no_secret"
                    " check (event::text not like '%secretword%')"
                )
            )
        engine.dispose()
        with pytest.raises(grpc.aio.AioRpcError) as info:
            await gov.Evaluate(
                evaluate("e-secret", message_posted={"message_id": "m", "text": secret})
            )
        assert info.value.code() == grpc.StatusCode.INTERNAL
        logged = svc.log()
    assert "unexpected error" in logged and "Traceback" in logged and "CheckViolation" in logged
    assert "5550199" not in logged and "secretword" not in logged.replace("'%secretword%'", "")
    assert "e-secret" not in logged.split("unexpected error", 1)[1].split("\n", 1)[1]
