"""Fuzz the API (issue 9 item 8): hypothesis requests of every service built from the
proto descriptors, raw and mutated request bytes, and garbage on the TCP socket,
all sent to the real service over loopback. No answer is UNKNOWN or INTERNAL (or any
other status outside ``ALLOWED``), an untouched canary chat's stored state is the
same afterwards, and the server stays up and healthy.

Run with ``-s`` to see the answers counted by status code.
"""

from __future__ import annotations

import contextlib
import random
import socket
from collections import Counter
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings

from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.gen.firekeeper.v1 import screening_pb2 as spb
from firekeeper.api.gen.firekeeper.v1 import screening_pb2_grpc as spb_grpc
from firekeeper.api.gen.firekeeper.v1.firekeeper_pb2 import PLATFORM_TELEGRAM

from .fuzzing import (
    ALLOWED,
    ALLOWED_STREAM,
    Tally,
    call,
    live_service,
    payloads,
    requests,
)
from .support import REGISTER

CANARY = {**REGISTER, "tenant": "canary-only", "chat_id": "canary-chat", "member_count": 33}
CANARY_KEY = pb.ChatKey(platform=PLATFORM_TELEGRAM, tenant="canary-only", chat_id="canary-chat")
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _plant_canary(channel: grpc.Channel) -> None:
    from google.protobuf import json_format

    gov = pb_grpc.GovernanceStub(channel)
    gov.RegisterChat(json_format.ParseDict(CANARY, pb.RegisterChatRequest()), timeout=5)
    screening = spb_grpc.ScreeningStub(channel)
    screening.AddBlocklistEntries(
        spb.AddBlocklistEntriesRequest(
            tenant="canary-only",
            entries=[spb.BlocklistEntry(kind=spb.BLOCKLIST_KIND_DOMAIN, value="bad.example")],
        ),
        timeout=5,
    )
    screening.SetChatScreening(
        spb.ChatScreening(chat=CANARY_KEY, allowed_domains=["ok.example"]), timeout=5
    )


def _canary_state(channel: grpc.Channel) -> tuple[Message, ...]:
    gov = pb_grpc.GovernanceStub(channel)
    screening = spb_grpc.ScreeningStub(channel)
    return (
        gov.GetChat(pb.GetChatRequest(key=CANARY_KEY), timeout=5),
        screening.ListBlocklist(spb.ListBlocklistRequest(tenant="canary-only"), timeout=5),
        screening.GetChatScreening(spb.GetChatScreeningRequest(chat=CANARY_KEY), timeout=5),
        screening.ListHeldJoins(
            spb.ListHeldJoinsRequest(tenant="canary-only", include_resolved=True), timeout=5
        ),
    )


def _healthy(channel: grpc.Channel) -> bool:
    reply = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=""), timeout=5
    )
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def _check(tally: Tally, bad: list[Any], method: Any, code: grpc.StatusCode, what: Any) -> None:
    tally.add(code)
    allowed = ALLOWED_STREAM if method.server_streaming else ALLOWED
    if code not in allowed:
        bad.append((method.full_name, code.name, what))


def test_fuzzed_requests_get_only_allowed_answers(store_url: str) -> None:
    tally, bad = Tally(Counter()), []
    with live_service(store_url) as address, grpc.insecure_channel(address) as channel:
        _plant_canary(channel)
        before = _canary_state(channel)

        @FUZZ
        @given(requests())
        def send(case: tuple[Any, Message]) -> None:
            method, request = case
            code = call(channel, method, request.SerializeToString())
            _check(tally, bad, method, code, request)

        send()
        assert _canary_state(channel) == before
        assert _healthy(channel)
    print("\n" + tally.summary(f"fuzzed requests ({store_url.split(':')[0]})"))
    assert not bad, bad[:5]


def test_raw_and_mutated_bytes_get_only_allowed_answers(store_url: str) -> None:
    tally, bad = Tally(Counter()), []
    with live_service(store_url) as address, grpc.insecure_channel(address) as channel:
        _plant_canary(channel)
        before = _canary_state(channel)

        @FUZZ
        @given(payloads())
        def send(case: tuple[Any, bytes]) -> None:
            method, data = case
            _check(tally, bad, method, call(channel, method, data), data)

        send()

        # Garbage on the TCP socket itself: random bytes, and an HTTP/2 preface
        # followed by junk frames. The server drops those connections and stays up.
        host, port = address.rsplit(":", 1)
        rng = random.Random(9)
        preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        for i in range(60):
            junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
            with socket.create_connection((host, int(port)), timeout=2) as raw:
                raw.sendall(preface + junk if i % 2 else junk)
                raw.settimeout(0.2)
                with contextlib.suppress(TimeoutError, ConnectionError):
                    raw.recv(1024)
        assert _canary_state(channel) == before
        assert _healthy(channel)
    print("\n" + tally.summary(f"raw request bytes ({store_url.split(':')[0]})"))
    assert not bad, bad[:5]
