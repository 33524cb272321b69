"""Authentication and tenant confinement through the composed service, over real gRPC.

The cross-tenant test walks every method of every service in the descriptors
and builds a request naming tenant B for it, so a new RPC is covered without
anyone writing a test for it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from firekeeper.api.gen.firekeeper.v1 import admin_pb2 as apb
from firekeeper.api.gen.firekeeper.v1 import admin_pb2_grpc as apb_grpc
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.gen.firekeeper.v1 import screening_pb2 as spb
from firekeeper.api.gen.firekeeper.v1 import screening_pb2_grpc as spb_grpc
from firekeeper.config import Settings
from tests.conftest import RULESETS

from .support import (
    Service,
    all_methods,
    bearer,
    call,
    credential,
    method_path,
    request_for,
    write_credentials,
)

EVERY_ROLE = ["adapter", "tenant_admin", "operator"]
TENANT_FREE = {"/firekeeper.v1.Governance/ListRulesets"}  # names no tenant: any role reads it


def _settings(store_url: str, credentials: Path, **extra: object) -> Settings:
    options: dict[str, object] = {
        "store_url": store_url,
        "grpc_address": "127.0.0.1:0",
        "metrics_port": None,
        "rulesets_dir": str(RULESETS),
        "grace_seconds": 2,
        "reload_seconds": 0,
        "credentials_file": str(credentials),
        "credentials_check_seconds": 0,
    }
    return Settings(**{**options, **extra})  # type: ignore[arg-type]


@pytest.fixture
def creds(tmp_path: Path) -> Path:
    return write_credentials(
        tmp_path / "credentials.yaml",
        [
            credential("tenant-a", "token-a", ["a"], EVERY_ROLE),
            credential("a-adapter", "token-a-adapter", ["a"], ["adapter"]),
            credential("a-admin", "token-a-admin", ["a"], ["tenant_admin"]),
            credential("b-admin", "token-b-admin", ["b"], ["tenant_admin"]),
            credential("ops", "token-ops", "*", EVERY_ROLE),
        ],
    )


def _event(n: int, tenant: str) -> pb.Event:
    return json_format.ParseDict(
        {
            "envelope": {
                "event_id": f"tg:{n}",
                "platform": "PLATFORM_TELEGRAM",
                "tenant": tenant,
                "chat_id": "-100",
                "occurred_at": "2026-11-24T09:30:00Z",
                "actor": {"id": f"u{n}"},
            },
            "message_posted": {"message_id": f"m{n}", "text": "hello"},
        },
        pb.Event(),
    )


async def test_a_client_of_tenant_a_is_refused_every_method_on_tenant_b(
    tmp_path: Path, creds: Path
) -> None:
    methods = all_methods()
    assert len(methods) >= 17
    async with (
        Service(_settings(f"sqlite:///{tmp_path / 'fk.db'}", creds)) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        answers: dict[str, grpc.StatusCode] = {}
        for method in methods:
            request, names_tenant = request_for(method, "b")
            path = method_path(method)
            assert names_tenant or path in TENANT_FREE or not request.DESCRIPTOR.fields, path
            answers[path] = await call(channel, method, request, bearer("token-a"))
            # the same request without a credential is never served either
            assert await call(channel, method, request) == grpc.StatusCode.UNAUTHENTICATED, path
    expected = {
        path: grpc.StatusCode.OK if path in TENANT_FREE else grpc.StatusCode.PERMISSION_DENIED
        for path in answers
    }
    assert answers == expected


async def test_a_wrong_role_or_a_bad_token_is_refused(tmp_path: Path, creds: Path) -> None:
    async with (
        Service(_settings(f"sqlite:///{tmp_path / 'fk.db'}", creds)) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        governance = pb_grpc.GovernanceStub(channel)
        screening = spb_grpc.ScreeningStub(channel)
        admin = apb_grpc.AdminStub(channel)
        event = pb.EvaluateRequest(event=_event(1, "a"))

        with pytest.raises(grpc.aio.AioRpcError) as err:
            await governance.Evaluate(event, metadata=bearer("token-a-admin"), timeout=5)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "needs adapter" in (err.value.details() or "")

        with pytest.raises(grpc.aio.AioRpcError) as err:
            await screening.ListBlocklist(
                spb.ListBlocklistRequest(tenant="a"), metadata=bearer("token-a-adapter"), timeout=5
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED

        with pytest.raises(grpc.aio.AioRpcError) as err:
            await admin.ReloadRulesets(
                apb.ReloadRulesetsRequest(), metadata=bearer("token-a-admin"), timeout=5
            )
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED

        for metadata in (bearer("not-a-token"), (("authorization", "Basic eA=="),), ()):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await governance.Evaluate(event, metadata=metadata, timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED

        decided = await governance.Evaluate(event, metadata=bearer("token-a-adapter"), timeout=5)
        assert decided.decision.event_id == "tg:1"
        reloaded = await admin.ReloadRulesets(
            apb.ReloadRulesetsRequest(), metadata=bearer("token-ops"), timeout=5
        )
        assert reloaded.ok


async def test_health_answers_anyone_and_reflection_needs_a_credential(
    tmp_path: Path, creds: Path
) -> None:
    async with (
        Service(_settings(f"sqlite:///{tmp_path / 'fk.db'}", creds)) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="firekeeper.v1.Governance"), timeout=5
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        ask = reflection_pb2.ServerReflectionRequest(list_services="")

        async def services(metadata: tuple[tuple[str, str], ...]) -> set[str]:
            out: set[str] = set()
            async for answer in stub.ServerReflectionInfo(iter([ask]), metadata=metadata):
                out |= {s.name for s in answer.list_services_response.service}
            return out

        with pytest.raises(grpc.aio.AioRpcError) as err:
            await services(())
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "firekeeper.v1.Governance" in await services(bearer("token-a-adapter"))


async def test_a_batch_with_one_foreign_event_is_refused_whole_naming_it(
    tmp_path: Path, creds: Path
) -> None:
    async with (
        Service(_settings(f"sqlite:///{tmp_path / 'fk.db'}", creds)) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        governance = pb_grpc.GovernanceStub(channel)
        batch = pb.EvaluateBatchRequest(events=[_event(1, "a"), _event(2, "b"), _event(3, "a")])
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await governance.EvaluateBatch(batch, metadata=bearer("token-a-adapter"), timeout=5)
        assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
        details = err.value.details() or ""
        assert "events[1].envelope ('b', telegram)" in details
        assert "events[0]" not in details and "events[2]" not in details
        # nothing of the refused batch was evaluated: event 1 is new when sent alone
        alone = await governance.Evaluate(
            pb.EvaluateRequest(event=_event(1, "a")), metadata=bearer("token-a-adapter"), timeout=5
        )
        assert not alone.decision.replayed


async def test_a_rotated_token_stops_working_and_the_new_one_works(
    tmp_path: Path, creds: Path
) -> None:
    async with (
        Service(_settings(f"sqlite:///{tmp_path / 'fk.db'}", creds)) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        governance = pb_grpc.GovernanceStub(channel)
        request = pb.ListRulesetsRequest()
        await governance.ListRulesets(request, metadata=bearer("token-a-adapter"), timeout=5)
        write_credentials(creds, [credential("a-adapter", "token-a-adapter-2", ["a"], ["adapter"])])
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await governance.ListRulesets(request, metadata=bearer("token-a-adapter"), timeout=5)
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        await governance.ListRulesets(request, metadata=bearer("token-a-adapter-2"), timeout=5)
        # a broken edit keeps the last good credentials
        creds.write_text("credentials: [{name: x}]\n", encoding="utf-8")
        await governance.ListRulesets(request, metadata=bearer("token-a-adapter-2"), timeout=5)


async def test_admin_actions_are_audited_and_each_tenant_reads_only_its_own(
    store_url: str, tmp_path: Path, creds: Path
) -> None:
    async with (
        Service(_settings(store_url, creds)) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        screening = spb_grpc.ScreeningStub(channel)
        admin = apb_grpc.AdminStub(channel)
        user = spb.BlocklistEntry(kind=spb.BLOCKLIST_KIND_USER, platform=pb.PLATFORM_TELEGRAM)
        for tenant, token, value in (("a", "token-a-admin", "666"), ("b", "token-b-admin", "777")):
            user.value = value
            added = await screening.AddBlocklistEntries(
                spb.AddBlocklistEntriesRequest(tenant=tenant, entries=[user]),
                metadata=bearer(token),
                timeout=5,
            )
            assert added.added == 1
        # a refused attempt on b by a's admin is recorded under b, with its outcome
        with pytest.raises(grpc.aio.AioRpcError):
            await screening.AddBlocklistEntries(
                spb.AddBlocklistEntriesRequest(tenant="b", entries=[user]),
                metadata=bearer("token-a-admin"),
                timeout=5,
            )
        await admin.ReloadRulesets(
            apb.ReloadRulesetsRequest(), metadata=bearer("token-ops"), timeout=5
        )

        seen_a = await admin.ListAuditLog(
            apb.ListAuditLogRequest(tenant="a"), metadata=bearer("token-a-admin"), timeout=5
        )
        assert [(e.credential, e.method, e.tenant, e.key, e.outcome) for e in seen_a.entries] == [
            ("a-admin", "firekeeper.v1.Screening/AddBlocklistEntries", "a", "666", "OK")
        ]
        assert seen_a.entries[0].platform == pb.PLATFORM_TELEGRAM
        seen_b = await admin.ListAuditLog(
            apb.ListAuditLogRequest(tenant="b"), metadata=bearer("token-b-admin"), timeout=5
        )
        assert [(e.credential, e.tenant, e.outcome) for e in seen_b.entries] == [
            ("a-admin", "b", "PERMISSION_DENIED"),
            ("b-admin", "b", "OK"),
        ]
        for request in (apb.ListAuditLogRequest(tenant="b"), apb.ListAuditLogRequest()):
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await admin.ListAuditLog(request, metadata=bearer("token-a-admin"), timeout=5)
            assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED

        everything = await admin.ListAuditLog(
            apb.ListAuditLogRequest(limit=2), metadata=bearer("token-ops"), timeout=5
        )
        assert everything.entries[0].method == "firekeeper.v1.Admin/ReloadRulesets"
        assert everything.next_page_token
        rest = await admin.ListAuditLog(
            apb.ListAuditLogRequest(limit=10, page_token=everything.next_page_token),
            metadata=bearer("token-ops"),
            timeout=5,
        )
        assert len(everything.entries) + len(rest.entries) == 4 and not rest.next_page_token
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await admin.ListAuditLog(
                apb.ListAuditLogRequest(page_token="²"), metadata=bearer("token-ops"), timeout=5
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_an_audit_entry_is_committed_with_its_change_or_not_at_all(
    store_url: str, tmp_path: Path, creds: Path
) -> None:
    """A failed change leaves no OK entry: the entry it gets says how it failed."""
    async with (
        Service(_settings(store_url, creds)) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        screening = spb_grpc.ScreeningStub(channel)
        admin = apb_grpc.AdminStub(channel)
        chat = pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="a", chat_id="-100")
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await screening.ResolveHeldJoin(
                spb.ResolveHeldJoinRequest(
                    chat=chat, user_id="9", resolution=spb.RESOLUTION_APPROVE
                ),
                metadata=bearer("token-a-admin"),
                timeout=5,
            )
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        await screening.SetChatScreening(
            spb.ChatScreening(chat=chat, allowed_domains=["example.com"]),
            metadata=bearer("token-a-admin"),
            timeout=5,
        )
        log = await admin.ListAuditLog(
            apb.ListAuditLogRequest(tenant="a"), metadata=bearer("token-a-admin"), timeout=5
        )
        assert [(e.method.split("/")[1], e.key, e.outcome) for e in log.entries] == [
            ("SetChatScreening", "-100", "OK"),
            ("ResolveHeldJoin", "-100", "NOT_FOUND"),
        ]
    await asyncio.sleep(0)
