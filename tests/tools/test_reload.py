"""Hot reload: a changed rulesets directory is swapped in whole; a bad edit never serves."""

from __future__ import annotations

import asyncio
import itertools
import logging
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from prometheus_client import CollectorRegistry

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import admin_pb2 as apb
from firekeeper.api.gen.firekeeper.v1 import admin_pb2_grpc as apb_grpc
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.app import run_service
from firekeeper.config import Settings
from firekeeper.metrics import Metrics
from firekeeper.pipeline import RulesetHolder
from firekeeper.reload import Reloader, fingerprint
from firekeeper.rulesets_dir import load, read_sources
from firekeeper.server import Bound
from firekeeper.tools.events import EventContext, build_event
from firekeeper.tools.suite import DEFAULT_START

from .support import MINI

BROKEN = MINI.replace(
    "join.resulting_count > params.hard_cap", "join.resulting_count > params.hard_kap"
)


def _reloader(directory: Path) -> tuple[Reloader, RulesetHolder, CollectorRegistry]:
    registry = CollectorRegistry()
    holder = RulesetHolder(load(directory))
    reloader = Reloader(
        directory, holder, Metrics(registry), fingerprint=fingerprint(read_sources(directory))
    )
    return reloader, holder, registry


def _count(registry: CollectorRegistry, result: str) -> float:
    value = registry.get_sample_value("firekeeper_ruleset_reloads_total", {"result": result})
    return value or 0.0


def test_an_unchanged_directory_is_not_compiled_again(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(MINI)
    reloader, holder, registry = _reloader(tmp_path)
    before = holder.index
    result = reloader.reload()
    assert result.ok and not result.changed and holder.index is before
    assert _count(registry, "ok") == 0


def test_a_good_edit_is_swapped_in(tmp_path: Path) -> None:
    (tmp_path / "base.yaml").write_text(MINI)
    reloader, holder, registry = _reloader(tmp_path)
    old = holder.index.get("base").version
    (tmp_path / "base.yaml").write_text(MINI.replace("hard_cap: 3", "hard_cap: 5"))
    result = reloader.reload()
    new = holder.index.get("base")
    assert result.ok and result.changed and result.loaded == (("base", new.version),)
    assert new.version != old and new.params["hard_cap"].default == 5
    assert _count(registry, "ok") == 1
    gauge = registry.get_sample_value(
        "firekeeper_rulesets_loaded", {"ruleset": "base", "version": new.version}
    )
    assert gauge == 1.0


def test_a_bad_edit_is_rejected_logged_once_and_the_old_set_keeps_serving(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "base.yaml").write_text(MINI)
    reloader, holder, registry = _reloader(tmp_path)
    serving = holder.index
    (tmp_path / "base.yaml").write_text(BROKEN)
    with caplog.at_level(logging.ERROR, logger="firekeeper.reload"):
        first = reloader.reload()
        second = reloader.reload()
    assert not first.ok and not first.changed and holder.index is serving
    (error,) = first.errors
    assert error.file.endswith("base.yaml") and (error.line, error.column) == (9, 34)
    assert error.message == "unknown parameter 'hard_kap'" and "hard_cap" in error.hint
    assert second.errors == first.errors
    assert _count(registry, "rejected") == 1
    (record,) = [r for r in caplog.records if "reload rejected" in r.getMessage()]
    assert "the last good rulesets keep serving" in record.getMessage()
    assert "base.yaml:9:34" in record.getMessage()
    (tmp_path / "base.yaml").write_text(MINI.replace("hard_cap: 3", "hard_cap: 4"))
    assert reloader.reload().changed and holder.index.get("base").params["hard_cap"].default == 4


def test_a_missing_directory_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "rs").mkdir()
    (tmp_path / "rs" / "base.yaml").write_text(MINI)
    reloader, holder, _ = _reloader(tmp_path / "rs")
    (tmp_path / "rs" / "base.yaml").unlink()
    result = reloader.reload()
    assert not result.ok and "no ruleset files" in result.errors[0].message
    assert holder.index.names() == ["base"]


def _join(n: int) -> pb.EvaluateRequest:
    ctx = EventContext(
        chat_id="reload", occurred_at=DEFAULT_START + timedelta(seconds=n), event_id=f"j{n}"
    )
    event = build_event({"kind": "member.joined", "member": f"m{n}"}, ctx)
    return pb.EvaluateRequest(event=convert.event_to_proto(event))


async def test_a_running_service_reloads_without_failing_or_stalling_a_request(
    tmp_path: Path,
) -> None:
    rulesets = tmp_path / "rulesets"
    rulesets.mkdir()
    (rulesets / "base.yaml").write_text(MINI)
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'fk.db'}",
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(rulesets),
        reload_seconds=0.1,
        grace_seconds=1,
        workers=2,
        decision_retention_days=0,  # the recorded events are from 2025
    )
    stop, bound = asyncio.Event(), asyncio.get_running_loop().create_future()

    def ready(where: Bound) -> None:
        bound.set_result(where)

    service = asyncio.create_task(run_service(settings, stop_event=stop, on_ready=ready))
    try:
        where: Bound = await asyncio.wait_for(bound, 10)
        async with grpc.aio.insecure_channel(where.grpc_address) as channel:
            stub = pb_grpc.GovernanceStub(channel)
            admin = apb_grpc.AdminStub(channel)
            numbers = itertools.count(1)
            versions: list[str] = []
            slowest = 0.0
            running = True

            async def traffic() -> None:
                nonlocal slowest
                while running:
                    start = asyncio.get_running_loop().time()
                    reply = await stub.Evaluate(_join(next(numbers)), timeout=5)
                    slowest = max(slowest, asyncio.get_running_loop().time() - start)
                    versions.append(reply.decision.ruleset_version)

            sender = asyncio.create_task(traffic())
            await asyncio.sleep(0.3)
            for _ in range(200):  # a loaded machine may take longer for the first answer
                if versions:
                    break
                await asyncio.sleep(0.05)
            first = versions[-1]

            (rulesets / "base.yaml").write_text(BROKEN)  # a bad edit: rejected, old one serves
            reply = await admin.ReloadRulesets(apb.ReloadRulesetsRequest(), timeout=10)
            assert not reply.ok and not reply.changed
            assert [(e.line, e.column) for e in reply.errors] == [(9, 34)]
            assert reply.errors[0].file.endswith("base.yaml") and reply.errors[0].hint
            assert [(r.name, r.version) for r in reply.loaded] == [("base", first)]
            await asyncio.sleep(0.3)
            assert versions[-1] == first

            (rulesets / "base.yaml").write_text(MINI.replace("hard_cap: 3", "hard_cap: 50"))
            for _ in range(100):  # the watcher picks it up (every 0.1 s)
                if versions[-1] != first:
                    break
                await asyncio.sleep(0.05)
            second = versions[-1]
            assert second != first
            reply = await admin.ReloadRulesets(apb.ReloadRulesetsRequest(), timeout=10)
            assert reply.ok and not reply.changed and reply.loaded[0].version == second

            running = False
            await sender  # raises if any request failed
            assert set(versions) == {first, second}
            assert slowest < 2.0, slowest
    finally:
        stop.set()
        await asyncio.wait_for(service, 10)
