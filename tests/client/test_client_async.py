"""The asyncio client: the same calls, retries, errors and deadlines as the blocking one."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Callable

import grpc
import pytest

from firekeeper.client import AsyncFirekeeperClient, Backoff, ClientError, EventError
from firekeeper.domain import ActionType, Decision

from .support import KEY, Fake, join, message, registration

FAST = Backoff(initial=0.01, maximum=0.05, jitter=0.0)
UNAVAILABLE = (grpc.StatusCode.UNAVAILABLE, "store down; retry", "")

StartFake = Callable[..., Fake]


async def test_evaluate_register_get_list(service: str) -> None:
    async with AsyncFirekeeperClient(service) as client:
        await client.register_chat(registration(49))
        decision = await client.evaluate(join(1))
        again = await client.evaluate(join(1))
        view = await client.get_chat(KEY)
        rulesets = await client.list_rulesets()
    assert decision.actions[0].type == ActionType.DENY_JOIN and not decision.replayed
    assert again.replayed and again.actions == decision.actions
    assert view.chat.member_count == 49 and view.chat.events_processed == 1
    assert "goal" in {r.name for r in rulesets}


async def test_concurrent_calls_share_one_channel(service: str) -> None:
    async with AsyncFirekeeperClient(service) as client:
        await client.register_chat(registration(5, kind="hobby"))
        decisions = await asyncio.gather(*(client.evaluate(message(i)) for i in range(20)))
        view = await client.get_chat(KEY)
    assert sorted(d.event_id for d in decisions) == sorted(f"msg-{i}" for i in range(20))
    assert view.chat.message_count == 20


async def test_batch_in_order_with_errors_in_place(service: str) -> None:
    events = [message(i) for i in range(5)]
    events[1] = message(1, tenant="")
    async with AsyncFirekeeperClient(service) as client:
        results = await client.evaluate_batch(events, batch_size=2)
    assert [type(r) for r in results] == [Decision, EventError, Decision, Decision, Decision]
    error = results[1]
    assert isinstance(error, EventError) and error.field == "events[1].envelope.tenant"


async def test_invalid_argument_is_not_retried_and_names_the_field(service: str) -> None:
    bad = dataclasses.replace(join(1), envelope=dataclasses.replace(join(1).envelope, tenant=""))
    async with AsyncFirekeeperClient(service, retries=4) as client:
        with pytest.raises(ClientError) as info:
            await client.evaluate(bad)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT and info.value.attempts == 1
    assert info.value.field == "event.envelope.tenant"


async def test_unavailable_is_retried(fake: StartFake) -> None:
    running = fake(failures=[UNAVAILABLE, UNAVAILABLE])
    async with AsyncFirekeeperClient(running.address, retries=2, backoff=FAST) as client:
        decision = await client.evaluate(message(1))
    assert decision.event_id == "msg-1" and running.script.calls == 3


async def test_giving_up_after_the_retries(fake: StartFake) -> None:
    running = fake(failures=[UNAVAILABLE] * 3)
    async with AsyncFirekeeperClient(running.address, retries=1, backoff=FAST) as client:
        with pytest.raises(ClientError) as info:
            await client.list_rulesets()
    assert info.value.attempts == 2 and running.script.calls == 2


async def test_the_deadline_is_honoured(fake: StartFake) -> None:
    running = fake(sleep=5.0)
    async with AsyncFirekeeperClient(running.address, timeout=0.2, retries=1, backoff=FAST) as c:
        start = time.monotonic()
        with pytest.raises(ClientError) as info:
            await c.evaluate(message(1))
        elapsed = time.monotonic() - start
    assert info.value.code == grpc.StatusCode.DEADLINE_EXCEEDED and info.value.attempts == 2
    assert elapsed < 3.0


async def test_close_is_idempotent_and_the_client_reopens(service: str) -> None:
    client = AsyncFirekeeperClient(service)
    await client.close()  # never opened
    assert (await client.list_rulesets())[0].name
    await client.close()
    await client.close()
    assert (await client.list_rulesets())[0].name  # a new channel on next use
    await client.close()
