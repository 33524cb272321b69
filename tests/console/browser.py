"""Headless Chromium for the console's browser test: Debian's ``chromium`` and
``chromium-driver`` (``.ci/run`` installs them), driven by selenium.

In CI (``CI`` set) a missing browser fails the test; elsewhere it skips and says how to
install it. Screenshots go to ``test-artifacts/console/pyXY/`` at the repository root (git-ignored;
one folder per Python, as CI runs two side by side in one checkout), or under
``FIREKEEPER_ARTIFACTS_DIR`` when that is set.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import REPO

CHROMIUM = ("/usr/bin/chromium", "chromium")
CHROMEDRIVER = ("/usr/bin/chromedriver", "chromedriver")
HOW = "install Debian's headless browser: apt-get install -y chromium chromium-driver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1800",
)


def _find(candidates: tuple[str, ...]) -> str | None:
    for c in candidates:
        found = shutil.which(c)
        if found:
            return found
    return None


def artifacts() -> Path:
    base = os.environ.get("FIREKEEPER_ARTIFACTS_DIR")
    python = f"py{sys.version_info.major}{sys.version_info.minor}"
    directory = (Path(base) if base else REPO / "test-artifacts") / "console" / python
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@contextmanager
def chromium() -> Iterator[object]:
    """A selenium Chrome driver on Debian's chromium, with a fresh profile."""
    browser, driver = _find(CHROMIUM), _find(CHROMEDRIVER)
    if browser is None or driver is None:
        missing = "chromium" if browser is None else "chromedriver"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the console's browser test, but {missing} is missing: {HOW}")
        pytest.skip(f"{missing} is not installed: {HOW}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="firekeeper-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = browser
        for flag in FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={profile}")
        # selenium-manager would look for a driver on the network: name Debian's
        service = Service(executable_path=driver)
        drv = webdriver.Chrome(options=options, service=service)
        try:
            drv.set_page_load_timeout(60)
            yield drv
        finally:
            drv.quit()
