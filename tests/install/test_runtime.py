"""The supported Pythons and the durable-rules load check say what to do, and match pyproject."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from firekeeper import runtime
from tests.conftest import REPO


@pytest.mark.parametrize("version", [(3, 11, 7), (3, 12, 1), (3, 13, 0)])
def test_supported_pythons_pass(version: tuple[int, ...]) -> None:
    assert runtime.python_problem(version) is None


@pytest.mark.parametrize("version", [(3, 10, 13), (3, 14, 0), (2, 7, 18), (4, 0, 0)])
def test_unsupported_pythons_get_what_to_do(version: tuple[int, ...]) -> None:
    problem = runtime.python_problem(version)
    assert problem is not None
    assert f"this is Python {version[0]}.{version[1]}" in problem
    assert "3.11 to 3.13" in problem
    assert "python3.13 -m venv .venv" in problem


def test_this_python_is_supported() -> None:
    runtime.check_python()  # the suite runs only on supported Pythons: it must not raise


def test_the_range_is_the_one_pyproject_declares() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    oldest, newest = runtime.OLDEST, runtime.NEWEST
    assert project["requires-python"] == f">={oldest[0]}.{oldest[1]},<{newest[0]}.{newest[1] + 1}"
    declared = {
        c.rsplit(" ", 1)[1]
        for c in project["classifiers"]
        if c.startswith("Programming Language :: Python :: 3.")
    }
    assert declared == {f"3.{minor}" for minor in range(oldest[1], newest[1] + 1)}


def test_old_python_gets_the_message_not_a_syntax_error() -> None:
    """The check runs first on import, so an old Python reads the message, not a parse error."""
    source = (REPO / "service/firekeeper/runtime.py").read_text(encoding="utf-8")
    ast.parse(source, feature_version=(3, 8))  # parses on old Pythons
    init = (REPO / "service/firekeeper/__init__.py").read_text(encoding="utf-8")
    assert init.index("check_python()") < init.index("__version__")


def _import_engine_with(fake: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Import the engine module with durable_rules_engine shadowed by a module that fails."""
    (tmp_path / "durable_rules_engine.py").write_text(fake, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO / "service")]))
    return subprocess.run(
        [sys.executable, "-c", "import firekeeper.rules.engine"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_durable_rules_build_without_the_313_flag_says_how_to_rebuild(tmp_path: Path) -> None:
    broken = (
        "raise ImportError('durable_rules_engine.cpython-313-x86_64-linux-gnu.so: "
        "undefined symbol: PyEval_CallObject')"
    )
    result = _import_engine_with(broken, tmp_path)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: durable-rules' C extension does not load")
    assert "without the flag Python 3.13 needs" in last
    assert "undefined symbol: PyEval_CallObject" in last  # the original error is kept
    assert f"CPPFLAGS={runtime.CPPFLAG_313} pip install --force-reinstall" in last
    assert "durable-rules==2.0.28" in last


def test_a_missing_durable_rules_says_how_to_rebuild(tmp_path: Path) -> None:
    result = _import_engine_with("raise ImportError('no C extension here')", tmp_path)
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert "it is missing or was built for another Python" in last
    assert "pip install --force-reinstall" in last


def test_the_rebuild_hint_names_the_pinned_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [d for d in project["dependencies"] if d.startswith("durable-rules")]
    assert pins == ["durable-rules==2.0.28"]
    assert pins[0] in runtime.durable_rules_hint("x")
