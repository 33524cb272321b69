"""The outbox stream: ack after the handler, reconnect with backoff, redeliveries dropped."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import grpc
import pytest

from firekeeper.client import AsyncFirekeeperClient, Backoff, ClientError, FirekeeperClient
from firekeeper.domain import ActionType, Platform

from .support import KEY, Fake, outbox_item

FAST = Backoff(initial=0.01, maximum=0.05, jitter=0.0)
StartFake = Callable[..., Fake]


def test_items_are_acked_after_the_loop_body_and_the_stream_reconnects(fake: StartFake) -> None:
    running = fake(
        outbox=[
            [outbox_item(1), outbox_item(2), grpc.StatusCode.UNAVAILABLE],
            [outbox_item(2, attempt=2), outbox_item(3)],  # 2 again: its ack "was lost"
        ]
    )
    assert running.outbox is not None
    seen = []
    with FirekeeperClient(running.address, backoff=FAST) as client:
        stream = client.stream_actions(Platform.TELEGRAM, "acme", chat_ids=["-100777"])
        with contextlib.closing(stream):
            for item in stream:
                seen.append(item)
                if item.id == "ob-3":
                    break
    assert [i.id for i in seen] == ["ob-1", "ob-2", "ob-3"]  # ob-2 handed out once
    first = seen[0]
    assert first.chat == KEY and first.event_id == "tick-1" and first.attempt == 1
    assert first.action.type == ActionType.POST_MESSAGE and first.action.text == "reminder 1"
    assert first.created_at is not None and first.created_at.tzinfo is not None
    assert running.outbox.acks == ["ob-1", "ob-2", "ob-2"]  # ob-3: the loop left, not acked
    request = running.outbox.requests[0]
    assert (request.tenant, list(request.chat_ids)) == ("acme", ["-100777"])
    assert len(running.outbox.requests) == 2


def test_an_item_whose_handler_fails_is_not_acked_and_comes_again(fake: StartFake) -> None:
    running = fake(outbox=[[outbox_item(1)], [outbox_item(1, attempt=2)]])
    assert running.outbox is not None
    with FirekeeperClient(running.address, backoff=FAST) as client:
        with (
            pytest.raises(RuntimeError),
            contextlib.closing(client.stream_actions(Platform.TELEGRAM, "acme")) as stream,
        ):
            for _ in stream:
                raise RuntimeError("the platform refused the call")
        assert running.outbox.acks == []
        with contextlib.closing(client.stream_actions(Platform.TELEGRAM, "acme")) as stream:
            again = next(stream)
    assert again.id == "ob-1" and again.attempt == 2
    assert running.outbox.acks == []  # closed before asking for more: still not acked


def test_a_server_without_the_outbox_is_not_retried(fake: StartFake) -> None:
    running = fake()  # Governance only: UNIMPLEMENTED
    with FirekeeperClient(running.address, backoff=FAST) as client:
        stream = client.stream_actions(Platform.TELEGRAM, "acme")
        with pytest.raises(ClientError) as info:
            next(stream)
    assert info.value.code == grpc.StatusCode.UNIMPLEMENTED


def test_reconnects_are_bounded_when_asked(fake: StartFake) -> None:
    running = fake(outbox=[[grpc.StatusCode.UNAVAILABLE]] * 5)
    with FirekeeperClient(running.address, backoff=FAST) as client:
        stream = client.stream_actions(Platform.TELEGRAM, "acme", reconnects=2)
        with pytest.raises(ClientError) as info:
            next(stream)
    assert info.value.code == grpc.StatusCode.UNAVAILABLE and info.value.attempts == 3
    assert running.outbox is not None and len(running.outbox.requests) == 3


def test_bad_arguments_fail_before_anything_is_sent() -> None:
    with FirekeeperClient("127.0.0.1:1") as client:
        with pytest.raises(ValueError, match="tenant"):
            client.stream_actions(Platform.TELEGRAM, "")
        with pytest.raises(ValueError, match="reconnects"):
            client.stream_actions(Platform.TELEGRAM, "acme", reconnects=-1)


def test_ack_by_hand(fake: StartFake) -> None:
    running = fake(outbox=[])
    with FirekeeperClient(running.address) as client:
        assert client.ack(Platform.TELEGRAM, "acme", ["a", "b"]) == 2
        assert client.ack(Platform.TELEGRAM, "acme", ["a"]) == 0


async def test_async_stream_acks_reconnects_and_drops_redeliveries(fake: StartFake) -> None:
    running = fake(
        outbox=[
            [outbox_item(1), grpc.StatusCode.UNAVAILABLE],
            [outbox_item(1, attempt=2), outbox_item(2)],
        ]
    )
    assert running.outbox is not None
    seen = []
    async with AsyncFirekeeperClient(running.address, backoff=FAST) as client:
        async with contextlib.aclosing(client.stream_actions(Platform.TELEGRAM, "acme")) as s:
            async for item in s:
                seen.append(item.id)
                if item.id == "ob-2":
                    break
        assert await client.ack(Platform.TELEGRAM, "acme", ["ob-2"]) == 1
    assert seen == ["ob-1", "ob-2"]
    assert running.outbox.acks == ["ob-1", "ob-1", "ob-2"]


async def test_async_handler_failure_leaves_the_item_unacked(fake: StartFake) -> None:
    running = fake(outbox=[[outbox_item(1)]])
    assert running.outbox is not None
    async with AsyncFirekeeperClient(running.address, backoff=FAST) as client:
        with pytest.raises(RuntimeError):
            async with contextlib.aclosing(
                client.stream_actions(Platform.TELEGRAM, "acme")
            ) as stream:
                async for _ in stream:
                    raise RuntimeError("handler failed")
    assert running.outbox.acks == []


async def test_async_server_without_the_outbox(fake: StartFake) -> None:
    running = fake()
    async with AsyncFirekeeperClient(running.address, backoff=FAST) as client:
        with pytest.raises(ClientError) as info:
            async for _ in client.stream_actions(Platform.TELEGRAM, "acme"):
                pass
    assert info.value.code == grpc.StatusCode.UNIMPLEMENTED
