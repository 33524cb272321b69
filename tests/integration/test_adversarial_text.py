"""A pathological text in one chat neither stalls its own call nor delays anyone else's.

The whole service runs (``run_service``: real store, shipped rulesets, every
area, the gRPC server and its worker threads). One client sends adversarial
texts into chat A: 64 KB of digits (16,384 ``1``s took about 30 s before the
built-in patterns moved to RE2), 64 KB of dots, ``a.`` and ``www.`` repeated
(the link finder's old quadratic case), nested brackets, CJK mixed with
digits, a spaced-out run, join requests with 8 KB and 64 KB bios (8 KB took
8 s) and a 64 KB announcement. Meanwhile a second client keeps evaluating
ordinary messages in chat B and calling gRPC health, and measures each call.

The bounds are generous (one second, where the calls take milliseconds) so
only a stall fails them: a backtracking pattern holds the GIL for seconds.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.app import run_service
from firekeeper.config import Settings
from firekeeper.domain.events import (
    Actor,
    ChatUpdated,
    EntryAnswer,
    Envelope,
    Event,
    JoinRequested,
    MessagePosted,
    Payload,
    Platform,
)
from firekeeper.server import Bound
from tests.conftest import RULESETS

BOUND_SECONDS = 1.0
SIZE = 65536  # bytes
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def _repeat(unit: str, size: int = SIZE) -> str:
    """``unit`` repeated to ``size`` bytes of UTF-8 (the API's limit for one text is 64 KB)."""
    count = size // len(unit.encode())
    return unit * count


PATHOLOGICAL: dict[str, Payload] = {
    "digits": MessagePosted(message_id="p1", text=_repeat("1")),
    "dots": MessagePosted(message_id="p2", text=_repeat(".")),
    "a_dot": MessagePosted(message_id="p3", text=_repeat("a.")),
    "www": MessagePosted(message_id="p4", text=_repeat("www.")),
    "brackets": MessagePosted(message_id="p5", text=_repeat("([{<")),
    "cjk_digits": MessagePosted(message_id="p6", text=_repeat("中1")),
    "spaced": MessagePosted(message_id="p7", text=_repeat("a ")),
    "price": MessagePosted(message_id="p8", text=_repeat("$1,")),
    "bio_8k": JoinRequested(member=Actor(id="j1"), bio=_repeat("1", 8192)),
    "bio_64k": JoinRequested(
        member=Actor(id="j2"),
        bio=_repeat("a."),
        answers=(EntryAnswer("why?", _repeat("1")),),
    ),
    "notice": ChatUpdated(announcement_text=_repeat("1."), announcement_changed=True),
}


def _register(chat_id: str) -> pb.RegisterChatRequest:
    return pb.RegisterChatRequest(
        platform=pb.PLATFORM_TELEGRAM,
        tenant="acme",
        chat_id=chat_id,
        kind=pb.CHAT_KIND_HOBBY,
        member_count=40,
        owner_id="owner",
    )


def _request(chat_id: str, event_id: str, payload: Payload, at: datetime) -> pb.EvaluateRequest:
    actor = Actor(id="u-" + event_id, display_name="Someone")
    event = Event(Envelope(event_id, Platform.TELEGRAM, "acme", chat_id, at, actor), payload)
    return pb.EvaluateRequest(event=convert.event_to_proto(event))


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
async def test_a_pathological_text_in_one_chat_leaves_another_chat_unaffected(
    store_url: str,
) -> None:
    settings = Settings(
        store_url=store_url,
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(RULESETS),
        grace_seconds=2,
        reload_seconds=0,
        workers=4,
    )
    stop = asyncio.Event()
    bound: asyncio.Future[Bound] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(run_service(settings, stop_event=stop, on_ready=bound.set_result))
    done, _ = await asyncio.wait({task, bound}, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        task.result()
    where = bound.result()
    attack_seconds: dict[str, float] = {}
    probe_seconds: list[float] = []
    health_seconds: list[float] = []
    try:
        async with (
            grpc.aio.insecure_channel(where.grpc_address) as attacker,
            grpc.aio.insecure_channel(where.grpc_address) as other,
        ):
            a, b = pb_grpc.GovernanceStub(attacker), pb_grpc.GovernanceStub(other)
            health = health_pb2_grpc.HealthStub(other)
            await a.RegisterChat(_register("-100a"), timeout=5)
            await b.RegisterChat(_register("-100b"), timeout=5)
            attacking = True

            async def probe() -> None:
                n = 0
                while attacking:
                    n += 1
                    text = MessagePosted(message_id=f"n{n}", text="anyone reading this week?")
                    request = _request("-100b", f"b{n}", text, T0 + timedelta(seconds=n))
                    start = time.perf_counter()
                    await b.Evaluate(request, timeout=30)
                    probe_seconds.append(time.perf_counter() - start)
                    start = time.perf_counter()
                    await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=30)
                    health_seconds.append(time.perf_counter() - start)

            prober = asyncio.create_task(probe())
            await asyncio.sleep(0.2)  # the probe is running before the first attack
            for i, (name, payload) in enumerate(PATHOLOGICAL.items()):
                request = _request("-100a", f"a-{name}", payload, T0 + timedelta(minutes=i))
                start = time.perf_counter()
                response = await a.Evaluate(request, timeout=30)
                attack_seconds[name] = time.perf_counter() - start
                assert response.decision.event_id == f"a-{name}"
            attacking = False
            await asyncio.wait_for(prober, 30)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    # the figures, for `pytest -s` (the bounds below are what is asserted)
    print({name: round(s * 1000, 1) for name, s in attack_seconds.items()})
    print(f"other chat: {len(probe_seconds)} calls, worst {max(probe_seconds) * 1000:.1f} ms")
    print(f"health: worst {max(health_seconds) * 1000:.1f} ms")
    slow = {name: s for name, s in attack_seconds.items() if s >= BOUND_SECONDS}
    assert not slow, f"pathological texts took {slow}"
    assert len(probe_seconds) >= 3, probe_seconds  # the other chat was served meanwhile
    assert max(probe_seconds) < BOUND_SECONDS, sorted(probe_seconds)[-5:]
    assert max(health_seconds) < BOUND_SECONDS, sorted(health_seconds)[-5:]
