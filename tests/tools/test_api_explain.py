"""The Evaluate RPC returns the explanation on request; rule matches are counted by mode."""

from __future__ import annotations

import grpc
from prometheus_client import CollectorRegistry

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import admin_pb2 as apb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.config import Settings
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.metrics import Metrics
from firekeeper.server import Server
from firekeeper.tools.events import EventContext, build_event
from firekeeper.tools.sandbox import Sandbox
from firekeeper.tools.suite import ChatState
from tests.compiling import compile_sources

from .support import MINI


async def test_evaluate_explains_on_request_and_counts_rule_matches() -> None:
    registry = CollectorRegistry()
    metrics = Metrics(registry)
    settings = Settings(grpc_address="127.0.0.1:0", metrics_port=None, workers=1)
    with Sandbox(compile_sources({"base.yaml": MINI})) as box:
        key = ChatKey(Platform.TELEGRAM, "tests", "chat")
        box.seed(key, "base", ChatState(member_count=0), [], box.now)
        server = Server(settings, box.pipeline, metrics)
        port = await server.start()
        try:
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                stub = pb_grpc.GovernanceStub(channel)
                posted = {"kind": "message.posted", "actor": "n", "text": "https://a.x https://b.y"}
                plain = await stub.Evaluate(
                    pb.EvaluateRequest(
                        event=convert.event_to_proto(
                            build_event(posted, EventContext(event_id="p1"))
                        )
                    )
                )
                assert not plain.decision.explanation
                reply = await stub.Evaluate(
                    pb.EvaluateRequest(
                        event=convert.event_to_proto(
                            build_event(posted, EventContext(event_id="p2"))
                        ),
                        explain=True,
                    )
                )
        finally:
            await server.stop(0)
    (check,) = reply.decision.explanation
    assert check.rule_id == "links.newcomer" and check.matched
    assert check.mode == pb.RULE_MODE_SHADOW
    assert check.values[0].field == "message.link_count" and check.values[0].value == "2"
    sample = registry.get_sample_value(
        "firekeeper_rule_matches_total", {"rule": "links.newcomer", "mode": "shadow"}
    )
    assert sample == 2.0
    assert apb.DESCRIPTOR.services_by_name["Admin"].full_name == "firekeeper.v1.Admin"
