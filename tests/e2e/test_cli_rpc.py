"""`firekeeper rpc Service.Method JSON` against the real service on a free port."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from firekeeper.cli import main
from firekeeper.config import Settings
from tests.conftest import RULESETS
from tests.e2e.test_service import Running

ADD = {
    "tenant": "acme",
    "entries": [
        {"kind": "BLOCKLIST_KIND_DOMAIN", "value": "https://www.Casino.example/x"},
        {"kind": "BLOCKLIST_KIND_USER", "platform": "PLATFORM_TELEGRAM", "value": "666"},
    ],
}


async def _rpc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["rpc", *argv])
    out, err = capsys.readouterr()
    return code, out, err


async def test_rpc_calls_methods_of_every_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'firekeeper.db'}",
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(RULESETS),
        grace_seconds=2,
    )
    async with Running(settings) as address:
        target = ("--target", address)
        code, out, err = await _rpc(
            capsys, "Screening.AddBlocklistEntries", json.dumps(ADD), *target
        )
        assert (code, err) == (0, "") and json.loads(out) == {"added": 2}

        code, out, _ = await _rpc(capsys, "Screening.ListBlocklist", '{"tenant": "acme"}', *target)
        assert code == 0
        listed = json.loads(out)["entries"]
        assert [(e["kind"], e["value"]) for e in listed] == [
            ("BLOCKLIST_KIND_DOMAIN", "casino.example"),
            ("BLOCKLIST_KIND_USER", "666"),
        ]

        code, out, _ = await _rpc(capsys, "ListRulesets", "{}", *target)  # bare: Governance
        assert code == 0 and "hobby" in {r["name"] for r in json.loads(out)["rulesets"]}

        code, _, err = await _rpc(capsys, "Screening.ListBlocklist", "{}", *target)
        assert code == 1 and err.startswith("INVALID_ARGUMENT")

        # the README's example: a Chinese group's texts print as Chinese, not as \u escapes
        register = {
            "platform": "PLATFORM_TELEGRAM",
            "tenant": "acme",
            "chat_id": "-1001234",
            "kind": "CHAT_KIND_GOAL",
            "member_count": 49,
            "language": "zh-Hans",
        }
        code, _, _ = await _rpc(capsys, "RegisterChat", json.dumps(register), *target)
        assert code == 0
        join = {
            "event": {
                "envelope": {
                    "event_id": "tg:1001",
                    "platform": "PLATFORM_TELEGRAM",
                    "tenant": "acme",
                    "chat_id": "-1001234",
                    "occurred_at": "2026-11-24T09:30:00Z",
                    "actor": {"id": "777", "display_name": "Dana"},
                },
                "member_joined": {"member": {"id": "777", "display_name": "Dana"}},
            }
        }
        code, out, _ = await _rpc(capsys, "Evaluate", json.dumps(join), *target)
        assert code == 0 and "已拒绝 Dana 入群" in out and "\\u" not in out


async def test_rpc_refuses_streams_and_unknown_methods(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, _, err = await _rpc(capsys, "Outbox.StreamActions", "{}", "--target", "127.0.0.1:9")
    assert code == 2 and "Outbox.StreamActions is a streaming method" in err
    code, _, err = await _rpc(capsys, "Screening.Nope", "{}")
    assert code == 2 and "no method 'Screening.Nope'" in err
    assert "Health.GetChatHealth" in err and "Admin.ReloadRulesets" in err and "Outbox.Ack" in err
    code, _, err = await _rpc(capsys, "Screening.ListBlocklist", '{"tenantt": 1}')
    assert code == 2 and "not a valid ListBlocklistRequest" in err


async def test_rpc_list_and_describe_read_the_server_through_reflection(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'firekeeper.db'}",
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(RULESETS),
        grace_seconds=2,
    )
    async with Running(settings) as address:
        target = ("--target", address)
        code, out, err = await _rpc(capsys, "list", *target)
        assert (code, err) == (0, "")
        services = [line for line in out.splitlines() if not line.startswith(" ")]
        for name in (
            "firekeeper.v1.Governance",
            "firekeeper.v1.Screening",
            "grpc.health.v1.Health",
        ):
            assert name in services
        assert (
            "  EvaluateBatch(firekeeper.v1.EvaluateBatchRequest)"
            " returns (firekeeper.v1.EvaluateBatchResponse)"
        ) in out.splitlines()
        assert "  StreamActions(firekeeper.v1.StreamActionsRequest) returns (stream " in out

        for name in (
            "firekeeper.v1.Governance/Evaluate",
            "firekeeper.v1.Governance.Evaluate",
            "Governance.Evaluate",
            "Evaluate",
        ):
            code, out, err = await _rpc(capsys, "describe", name, *target)
            assert (code, err) == (0, ""), name
            lines = out.splitlines()
            assert lines[0] == (
                "rpc firekeeper.v1.Governance/Evaluate(firekeeper.v1.EvaluateRequest)"
                " returns (firekeeper.v1.EvaluateResponse)"
            )
            # the request, the response and what they use, down to enums and oneofs
            for line in (
                "message firekeeper.v1.EvaluateRequest {",
                "  firekeeper.v1.Event event = 1;",
                "message firekeeper.v1.EvaluateResponse {",
                "  oneof payload {",
                "    firekeeper.v1.MessagePosted message_posted = 10;",
                "enum firekeeper.v1.Platform {",
                "  PLATFORM_TELEGRAM = 1;",
                "  google.protobuf.Timestamp occurred_at = 7;",
            ):
                assert line in lines, (name, line)
            assert "message google.protobuf.Timestamp {" not in lines  # named, not expanded

        code, out, _ = await _rpc(capsys, "describe", "firekeeper.v1.RegisterChatRequest", *target)
        assert code == 0 and "  map<string, string> params = 8;" in out.splitlines()
        assert "  optional int64 member_count = 10;" in out.splitlines()

        code, _, err = await _rpc(capsys, "describe", "Governance.Nope", *target)
        assert code == 1 and "reflects no method, service, message or enum" in err
        code, _, err = await _rpc(capsys, "describe", *target)
        assert code == 2 and "describe what?" in err

        # a refusal prints its standard details
        code, _, err = await _rpc(capsys, "GetChat", '{"key": {"chat_id": "c\\u0000"}}', *target)
        assert code == 1 and err.startswith("INVALID_ARGUMENT")
        assert (
            "  field key.chat_id: holds a NUL" in err and "reason firekeeper/INVALID_FIELD" in err
        )


async def test_rpc_list_says_when_no_server_answers(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = await _rpc(capsys, "list", "--target", "127.0.0.1:9", "--timeout", "0.5")
    assert code == 1 and "no server answers at 127.0.0.1:9" in err
