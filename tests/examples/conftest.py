"""Run the example adapters as a platform team would: a subprocess against a running service."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.client.support import ServiceThread, sqlite_url

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PAYLOADS = EXAMPLES / "payloads"
SAMPLES = REPO / "tests" / "adapters" / "samples"
SHARED_PAYLOADS = REPO.parent / "shared" / "fixtures" / "payloads"


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str

    def records(self) -> list[dict[str, Any]]:
        """The ``--json`` output, one record a line."""
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


RunExample = Callable[..., Run]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    running = ServiceThread(sqlite_url(tmp_path))
    try:
        yield running.start()
    finally:
        running.stop()


@pytest.fixture
def run_example() -> RunExample:
    """``run_example("telegram", source, *options, stdin=None)``: the script's exit and output."""

    def run(platform: str, *args: str, stdin: str | None = None) -> Run:
        script = EXAMPLES / f"{platform}_adapter.py"
        done = subprocess.run(
            [sys.executable, str(script), *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
            check=False,
        )
        return Run(done.returncode, done.stdout, done.stderr)

    return run


@pytest.fixture(scope="session")
def shared_payloads() -> Path:
    if not SHARED_PAYLOADS.is_dir():
        pytest.skip(
            f"shared fixtures not found at {SHARED_PAYLOADS}: clone shared/ beside the repo"
        )
    return SHARED_PAYLOADS
