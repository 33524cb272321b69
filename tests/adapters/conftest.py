"""Where the adapter tests find their payloads.

Public payloads live beside the repository, in ``<repo>/../shared/fixtures``
(CI clones ``shared/`` next to the repo; ``SOURCES.md`` there names each file's
origin and license). Payloads written for these tests live in ``./samples``
(``samples/README.md`` cites the docs each follows).
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_FIXTURES = REPO_ROOT.parent / "shared" / "fixtures"
SAMPLES = Path(__file__).resolve().parent / "samples"


@pytest.fixture(scope="session")
def payloads_dir() -> Path:
    """``<repo>/../shared/fixtures/payloads``; skips the test when it is not there."""
    payloads = SHARED_FIXTURES / "payloads"
    if not payloads.is_dir():
        pytest.skip(
            f"shared fixtures not found at {SHARED_FIXTURES}: clone the shared/ repository "
            "beside this one to run the real-payload tests (CI has it)"
        )
    return payloads


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return SAMPLES
