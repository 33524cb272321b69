"""Corrections through the composed service (``firekeeper.app``) with credentials: who may
report and read, the audit entry, and the CLI report against the running service.

Text: umputun/tg-spam data/ham-samples.txt (``../shared/fixtures/SOURCES.md``).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import grpc
import pytest
from google.protobuf import json_format

from firekeeper.api.gen.firekeeper.v1 import admin_pb2 as apb
from firekeeper.api.gen.firekeeper.v1 import admin_pb2_grpc as apb_grpc
from firekeeper.api.gen.firekeeper.v1 import corrections_pb2 as cpb
from firekeeper.api.gen.firekeeper.v1 import corrections_pb2_grpc as cpb_grpc
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.cli import main
from tests.auth.support import Service, bearer, credential, write_credentials
from tests.auth.test_auth_service import _settings

from .support import RECRUITING

CHAT = pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant="a", chat_id="-100")


@pytest.fixture
def creds(tmp_path: Path) -> Path:
    return write_credentials(
        tmp_path / "credentials.yaml",
        [
            credential("a-adapter", "token-a-adapter", ["a"], ["adapter"]),
            credential("a-admin", "token-a-admin", ["a"], ["tenant_admin"]),
            credential("b-adapter", "token-b-adapter", ["b"], ["adapter"]),
        ],
    )


def _post(n: int, user: str, text: str) -> pb.Event:
    return json_format.ParseDict(
        {
            "envelope": {
                "event_id": f"tg:{n}",
                "platform": "PLATFORM_TELEGRAM",
                "tenant": "a",
                "chat_id": "-100",
                "occurred_at": f"2026-11-24T09:3{n}:00Z",
                "actor": {"id": user},
            },
            "message_posted": {"message_id": f"m{n}", "text": text},
        },
        pb.Event(),
    )


async def test_the_adapter_reports_a_correction_that_is_audited_and_reported(
    store_url: str, tmp_path: Path, creds: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    adapter, admin = bearer("token-a-adapter"), bearer("token-a-admin")
    async with (
        Service(_settings(store_url, creds)) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        governance = pb_grpc.GovernanceStub(channel)
        corrections = cpb_grpc.CorrectionsStub(channel)
        register = json_format.ParseDict(
            {
                "platform": "PLATFORM_TELEGRAM",
                "tenant": "a",
                "chat_id": "-100",
                "ruleset": "base",
                "owner_id": "olga",
                "created_at": "2026-11-23T09:00:00Z",
            },
            pb.RegisterChatRequest(),
        )
        await governance.RegisterChat(register, metadata=adapter, timeout=5)
        first = await governance.Evaluate(
            pb.EvaluateRequest(event=_post(1, "ivan", RECRUITING)), metadata=adapter, timeout=5
        )
        assert any(a.rule_id == "promo.too_early" for a in first.decision.actions)

        request = cpb.ReportCorrectionRequest(
            chat=CHAT, kind=cpb.CORRECTION_KIND_NOT_SPAM, event_id="tg:1", reporter_id="olga"
        )
        # another tenant's adapter may not report on tenant a's chat
        with pytest.raises(grpc.aio.AioRpcError) as other:
            await corrections.ReportCorrection(
                request, metadata=bearer("token-b-adapter"), timeout=5
            )
        assert other.value.code() == grpc.StatusCode.PERMISSION_DENIED
        answer = await corrections.ReportCorrection(request, metadata=adapter, timeout=5)
        assert answer.stored and list(answer.correction.rule_ids)

        # reading the report is for tenant admins and operators, not adapters
        with pytest.raises(grpc.aio.AioRpcError) as role:
            await corrections.GetRuleCorrections(
                cpb.GetRuleCorrectionsRequest(tenant="a"), metadata=adapter, timeout=5
            )
        assert role.value.code() == grpc.StatusCode.PERMISSION_DENIED
        report = await corrections.GetRuleCorrections(
            cpb.GetRuleCorrectionsRequest(tenant="a"), metadata=admin, timeout=5
        )
        rows = {(r.ruleset, r.rule_id): r for r in report.rules}
        assert rows[("base", "promo.too_early")].false_positives == 1
        assert rows[("base", "promo.too_early")].false_positive_rate == 1.0

        audit = await apb_grpc.AdminStub(channel).ListAuditLog(
            apb.ListAuditLogRequest(tenant="a"), metadata=admin, timeout=5
        )
        assert ("a-adapter", "firekeeper.v1.Corrections/ReportCorrection", "OK") in {
            (e.credential, e.method, e.outcome) for e in audit.entries
        }

        # the CLI, against the running service
        code = await asyncio.to_thread(
            main,
            ["corrections", "report", "--target", address, "--tenant", "a",
             "--token", "token-a-admin"],
        )  # fmt: skip
        assert code == 0
        assert "base promo.too_early" in capsys.readouterr().out
        code = await asyncio.to_thread(
            main, ["corrections", "report", "--target", address, "--token", "token-a-admin"]
        )
        assert code == 1  # every tenant: not for a's admin
        assert "PERMISSION_DENIED" in capsys.readouterr().err
