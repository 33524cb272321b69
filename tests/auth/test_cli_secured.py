"""`firekeeper rpc` and `firekeeper token` against a server with TLS and credentials."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from firekeeper.auth.credentials import parse
from firekeeper.cli import main
from firekeeper.config import Settings
from tests.conftest import RULESETS

from .support import Authority, Service, credential, write_credentials


async def _rpc(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = await asyncio.to_thread(main, ["rpc", *argv])
    out, err = capsys.readouterr()
    return code, out, err


async def test_rpc_takes_a_token_and_a_ca_by_flag_or_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pki = Authority(tmp_path)
    server = pki.issue("server", "localhost", server=True)
    creds = write_credentials(
        tmp_path / "credentials.yaml",
        [credential("ops", "token-ops", "*", ["operator", "tenant_admin", "adapter"])],
    )
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'firekeeper.db'}",
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(RULESETS),
        grace_seconds=2,
        credentials_file=str(creds),
        tls_cert=str(server.cert),
        tls_key=str(server.key),
    )
    async with Service(settings) as address:
        target = ("--target", address)
        code, out, err = await _rpc(
            capsys, "ListRulesets", "{}", *target, "--token", "token-ops", "--ca", str(pki.pem.cert)
        )
        assert (code, err) == (0, "") and "hobby" in out

        code, _, err = await _rpc(capsys, "ListRulesets", "{}", *target, "--ca", str(pki.pem.cert))
        assert code == 1 and err.startswith("UNAUTHENTICATED: credentials required")

        # reflection needs a credential too (any role), and takes the same flags
        ca = ("--ca", str(pki.pem.cert))
        code, _, err = await _rpc(capsys, "list", *target, *ca)
        assert code == 1 and err.startswith("UNAUTHENTICATED"), err
        code, out, err = await _rpc(capsys, "list", *target, *ca, "--token", "token-ops")
        assert (code, err) == (0, "") and "  Evaluate(firekeeper.v1.EvaluateRequest)" in out

        monkeypatch.setenv("FIREKEEPER_TOKEN", "token-ops")
        monkeypatch.setenv("FIREKEEPER_CA", str(pki.pem.cert))
        code, out, err = await _rpc(capsys, "Admin.ListAuditLog", '{"limit": 5}', *target)
        assert (code, err) == (0, "") and json.loads(out) == {}

        code, _, err = await _rpc(capsys, "ListRulesets", "{}", *target, "--ca", "missing.pem")
        assert code == 2 and "cannot read missing.pem" in err


def test_token_prints_a_token_and_the_hash_a_credentials_file_takes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["token"]) == 0
    lines = dict(
        line.split(":", 1) for line in capsys.readouterr().out.splitlines() if ": " in line
    )
    token, digest = lines["token"].strip(), lines["token_sha256"].strip()
    text = f"credentials: [{{name: x, token_sha256: {digest}, tenants: [a], roles: [adapter]}}]"
    found = parse(text).for_token(token)
    assert found is not None and found.name == "x"
