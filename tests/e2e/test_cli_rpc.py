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
