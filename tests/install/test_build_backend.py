"""The build backend pins the editable install's durable-rules to a flagged build on 3.13 only.

The real thing (pip building durable-rules with the flag and installing it) is what
.ci/run does on Python 3.13 from a fresh clone; these tests pin down its pure parts.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from firekeeper import runtime
from tests.conftest import REPO

METADATA = """Metadata-Version: 2.4
Name: firekeeper
Version: 0.1.0
Requires-Dist: grpcio<2,>=1.60
Requires-Dist: durable-rules==2.0.28
Requires-Dist: sqlalchemy<3,>=2.0.25
Provides-Extra: dev
"""


@pytest.fixture(scope="module")
def backend() -> ModuleType:
    path = REPO / "build_backend/firekeeper_build.py"
    spec = importlib.util.spec_from_file_location("firekeeper_build", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pyproject_uses_this_backend() -> None:
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'build-backend = "firekeeper_build"' in text
    assert 'backend-path = ["build_backend"]' in text


def test_the_flag_is_the_one_the_runtime_hint_gives(backend: ModuleType) -> None:
    assert backend.CPPFLAG == runtime.CPPFLAG_313


@pytest.mark.parametrize(
    ("version", "needed"), [((3, 11), False), ((3, 12), False), ((3, 13), True), ((3, 14), False)]
)
def test_only_313_gets_the_local_build(
    backend: ModuleType, version: tuple[int, int], needed: bool
) -> None:
    # 3.14 is not supported: pip's requires-python message comes first, no C build is tried.
    assert backend.needs_flag(version) is needed


def test_pin_points_durable_rules_at_the_local_wheel(backend: ModuleType, tmp_path: Path) -> None:
    wheel = tmp_path / "durable_rules-2.0.28-cp313-cp313-linux_x86_64.whl"
    asked: list[str] = []

    def wheel_for(version: str) -> Path:
        asked.append(version)
        return wheel

    pinned = backend.pin_durable_rules(METADATA, wheel_for)
    assert asked == ["2.0.28"]
    assert f"Requires-Dist: durable-rules @ {wheel.as_uri()}\n" in pinned
    assert "durable-rules==" not in pinned
    # every other line is untouched
    assert pinned.replace(f"durable-rules @ {wheel.as_uri()}", "durable-rules==2.0.28") == METADATA


def test_pin_refuses_metadata_without_the_requirement(backend: ModuleType) -> None:
    with pytest.raises(RuntimeError, match="no 'durable-rules==X' requirement"):
        backend.pin_durable_rules(METADATA.replace("durable-rules==2.0.28", "durable-rules"))


def test_build_env_adds_the_flag_once_and_keeps_the_users(backend: ModuleType) -> None:
    env = backend.build_env({"CPPFLAGS": "-I/opt/include", "PATH": "/bin"})
    assert env["CPPFLAGS"] == f"-I/opt/include {backend.CPPFLAG}"
    assert env["PATH"] == "/bin"
    assert backend.build_env(env)["CPPFLAGS"] == env["CPPFLAGS"]
    assert backend.build_env({})["CPPFLAGS"] == backend.CPPFLAG


def test_an_existing_local_wheel_is_reused(backend: ModuleType, tmp_path: Path) -> None:
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    wheel = tmp_path / f"durable_rules-2.0.28-{tag}-{tag}-linux_x86_64.whl"
    wheel.write_bytes(b"")
    # found, so no pip run (which would take seconds and the network)
    assert backend.durable_rules_wheel("2.0.28", tmp_path) == wheel


def test_editable_requires_pip_only_when_it_builds(
    backend: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(backend._setuptools, "get_requires_for_build_editable", lambda _: ["x"])
    monkeypatch.setattr(backend, "needs_flag", lambda: True)
    assert backend.get_requires_for_build_editable() == ["x", "pip"]
    monkeypatch.setattr(backend, "needs_flag", lambda: False)
    assert backend.get_requires_for_build_editable() == ["x"]


def test_wheels_command_usage(backend: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    assert backend.main(["nonsense"]) == 2
    assert "usage: python build_backend/firekeeper_build.py wheels [DIR]" in capsys.readouterr().err
