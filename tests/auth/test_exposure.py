"""A non-loopback bind without TLS and credentials refuses to start."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from firekeeper.auth.transport import ExposureError, check_exposure, is_loopback
from firekeeper.config import Settings


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("localhost", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("[::]", False),
        ("10.0.0.5", False),
        ("firekeeper.internal", False),
    ],
)
def test_loopback_addresses(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_public_address_needs_tls_and_credentials() -> None:
    check_exposure(Settings(grpc_address="127.0.0.1:50051"))
    with pytest.raises(ExposureError) as err:
        check_exposure(Settings(grpc_address="0.0.0.0:50051"))
    message = str(err.value)
    assert "0.0.0.0:50051" in message and "FIREKEEPER_CREDENTIALS" in message
    assert "FIREKEEPER_TLS_CERT" in message and "--insecure" in message
    with pytest.raises(ExposureError, match="without TLS"):
        check_exposure(Settings(grpc_address="0.0.0.0:1", credentials_file="c.yaml"))
    check_exposure(
        Settings(grpc_address="0.0.0.0:1", credentials_file="c", tls_cert="c", tls_key="k")
    )


def test_insecure_overrides_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        check_exposure(Settings(grpc_address="[::]:50051", insecure=True))
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "--insecure" in caplog.text


def test_the_cli_refuses_and_says_how_to_configure_it() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "firekeeper.cli",
            "serve",
            "--address",
            "0.0.0.0:0",
            "--metrics-port",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "FIREKEEPER_STORE_URL": "sqlite:///./nowhere/x.db"},
    )
    assert done.returncode == 1
    assert "refusing to listen on 0.0.0.0:0" in done.stderr
    assert "FIREKEEPER_CREDENTIALS" in done.stderr and "--insecure" in done.stderr


def test_the_insecure_flag_starts_it_with_a_warning(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "firekeeper.cli",
            "serve",
            "--address",
            "0.0.0.0:0",
            "--metrics-port",
            "off",
            "--insecure",
            "--store",
            f"sqlite:///{tmp_path / 'fk.db'}",
        ],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={"PATH": "/usr/bin:/bin", "FIREKEEPER_RELOAD_SECONDS": "0"},
    )
    try:
        assert process.stderr is not None
        seen: list[str] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            seen.append(line)
            if "firekeeper listening" in line:
                break
        text = "".join(seen)
        assert "WARNING" in text and "--insecure" in text, text
        assert "firekeeper listening" in text, text
        # the fresh store was migrated, and alembic's INFO lines stayed out of the log
        assert "alembic" not in text and "Running upgrade" not in text, text
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
        if process.stderr is not None:
            process.stderr.close()
