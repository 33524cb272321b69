"""Retries only where they are safe and useful, backoff, deadlines."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from firekeeper.client import RETRYABLE, Backoff, ClientError, FirekeeperClient

from .support import Fake, ServiceThread, free_port, message, sqlite_url

FAST = Backoff(initial=0.01, maximum=0.05, jitter=0.0)
UNAVAILABLE = (grpc.StatusCode.UNAVAILABLE, "store down; retry", "")

StartFake = Callable[..., Fake]


def test_unavailable_twice_then_success_is_retried(fake: StartFake) -> None:
    running = fake(failures=[UNAVAILABLE, UNAVAILABLE])
    with FirekeeperClient(running.address, retries=3, backoff=FAST) as client:
        decision = client.evaluate(message(1))
    assert decision.event_id == "msg-1" and running.script.calls == 3


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED]
)
def test_other_retryable_codes_are_retried(fake: StartFake, code: grpc.StatusCode) -> None:
    running = fake(failures=[(code, "busy", "")])
    with FirekeeperClient(running.address, retries=1, backoff=FAST) as client:
        assert [r.name for r in client.list_rulesets()] == ["fake"]
    assert running.script.calls == 2


def test_giving_up_raises_the_last_status_with_the_attempts(fake: StartFake) -> None:
    running = fake(failures=[UNAVAILABLE] * 5)
    client = FirekeeperClient(running.address, retries=2, backoff=FAST)
    with client, pytest.raises(ClientError) as info:
        client.evaluate(message(1))
    assert info.value.code == grpc.StatusCode.UNAVAILABLE and info.value.attempts == 3
    assert "gave up after 3 attempts" in str(info.value)
    assert running.script.calls == 3


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    ],
)
def test_other_codes_are_never_retried(fake: StartFake, code: grpc.StatusCode) -> None:
    running = fake(failures=[(code, "event.envelope.tenant: required", "event.envelope.tenant")])
    client = FirekeeperClient(running.address, retries=5, backoff=FAST)
    with client, pytest.raises(ClientError) as info:
        client.evaluate(message(1))
    assert info.value.code == code and info.value.attempts == 1
    assert info.value.field == "event.envelope.tenant"
    assert running.script.calls == 1
    assert code not in RETRYABLE


def test_the_field_is_read_from_the_details_when_metadata_is_missing(fake: StartFake) -> None:
    running = fake(failures=[(grpc.StatusCode.INVALID_ARGUMENT, "event.payload: required", "")])
    with FirekeeperClient(running.address) as client, pytest.raises(ClientError) as info:
        client.evaluate(message(1))
    assert info.value.field == "event.payload" and info.value.reason == "required"


def test_the_deadline_of_each_attempt_is_honoured(fake: StartFake) -> None:
    running = fake(sleep=5.0)
    with FirekeeperClient(running.address, timeout=0.2, retries=0) as client:
        start = time.monotonic()
        with pytest.raises(ClientError) as info:
            client.evaluate(message(1))
        elapsed = time.monotonic() - start
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert elapsed < 2.0


def test_a_per_call_timeout_overrides_the_client_default(fake: StartFake) -> None:
    running = fake(sleep=5.0)
    with FirekeeperClient(running.address, timeout=30.0, retries=1, backoff=FAST) as client:
        start = time.monotonic()
        with pytest.raises(ClientError) as info:
            client.list_rulesets(timeout=0.2)
        elapsed = time.monotonic() - start
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED and info.value.attempts == 2
    assert running.script.calls == 2 and elapsed < 3.0


def test_a_server_that_starts_after_the_first_attempt_is_reached(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="firekeeper.client")
    address = f"127.0.0.1:{free_port()}"
    later = ServiceThread(sqlite_url(tmp_path), address=address)
    starter = threading.Timer(0.5, later.start)
    options = [("grpc.initial_reconnect_backoff_ms", 100), ("grpc.max_reconnect_backoff_ms", 200)]
    backoff = Backoff(initial=0.2, maximum=0.5, jitter=0.0)
    client = FirekeeperClient(address, timeout=2.0, retries=20, backoff=backoff, options=options)
    starter.start()
    try:
        decision = client.evaluate(message(1))
        assert decision.event_id == "msg-1" and not decision.replayed
        assert client.evaluate(message(1)).replayed
        retried = [r for r in caplog.records if r.getMessage() == "retrying call"]
        assert retried and all(getattr(r, "code", "") == "UNAVAILABLE" for r in retried)
    finally:
        client.close()
        starter.join()
        later.stop()


def test_backoff_grows_is_capped_and_jittered() -> None:
    rng = random.Random(7)
    exact = Backoff(initial=0.1, maximum=1.0, multiplier=2.0, jitter=0.0)
    assert [exact.delay(n, rng) for n in range(1, 7)] == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]
    assert exact.delay(10_000, rng) == 1.0  # no overflow in a long outage
    jittered = Backoff(initial=1.0, maximum=1.0, jitter=0.5)
    delays = [jittered.delay(1, rng) for _ in range(200)]
    assert all(0.5 <= d <= 1.0 for d in delays) and len(set(delays)) > 100


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": -1.0}, {"multiplier": 0.5}, {"jitter": 1.5}, {"maximum": float("nan")}],
)
def test_backoff_refuses_nonsense(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Backoff"):
        Backoff(**kwargs)


@pytest.mark.parametrize("kwargs", [{"timeout": 0.0}, {"timeout": -1.0}, {"retries": -1}])
def test_client_refuses_nonsense_settings(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        FirekeeperClient("127.0.0.1:1", **kwargs)  # type: ignore[arg-type]


def test_a_batch_chunk_that_fails_once_is_retried_alone(fake: StartFake) -> None:
    running = fake()
    with FirekeeperClient(running.address, retries=2, backoff=FAST) as client:
        first = client.evaluate_batch([message(i) for i in range(2)], batch_size=2)
        running.script.failures.append(UNAVAILABLE)  # the next call fails once
        results = client.evaluate_batch([message(i) for i in range(5)], batch_size=2)
    assert len(first) == 2
    assert [getattr(r, "event_id", None) for r in results] == [f"msg-{i}" for i in range(5)]
    assert running.script.calls == 1 + 4  # one call, then 3 chunks with one retry
