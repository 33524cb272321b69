"""Firekeeper's build backend: setuptools, plus a correct durable-rules build on Python 3.13.

durable-rules 2.0.28 (the last release, sdist only) calls ``PyEval_CallObject``,
which Python 3.13 removed from its headers. Built by a plain ``pip install`` on
3.13 it compiles (an implicit declaration) and then fails to import with
``undefined symbol: PyEval_CallObject``. Its ``setup.py`` overwrites ``CFLAGS``,
but it keeps ``CPPFLAGS``, so defining the old name as its replacement there
gives a correct build without touching its sources.

Two ways in, one flag:

* ``pip install -e .`` (the README's commands) on Python 3.13: the editable
  hooks below build the durable-rules wheel with that flag into ``wheelhouse/``
  (once; later installs reuse it) and pin the editable install's durable-rules
  requirement to that file. On 3.11 and 3.12 nothing changes: durable-rules
  comes from the index as usual. A regular wheel (``pip wheel .``,
  ``python -m build``) is never pinned to a local file: it requires
  ``durable-rules==2.0.28`` like any published package.
* ``python build_backend/firekeeper_build.py wheels [DIR]``: builds the wheels
  of firekeeper and every dependency into DIR (default ``wheelhouse/``) with
  the flag set, so ``pip install DIR/*.whl`` installs a correct build on any
  supported Python (the Dockerfile does this).

This module runs inside pip's build environment, not inside firekeeper: it uses
the standard library and setuptools only (the ``wheels`` command needs only pip).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

try:
    from setuptools import build_meta as _setuptools
    from setuptools.build_meta import (  # noqa: F401  (the PEP 517 hooks left as they are)
        build_sdist,
        build_wheel,
        get_requires_for_build_sdist,
        get_requires_for_build_wheel,
        prepare_metadata_for_build_wheel,
    )
except ImportError:
    if __name__ != "__main__":
        raise
    # `python build_backend/firekeeper_build.py wheels` needs pip only (python:3.13-slim
    # has no setuptools): its pip builds firekeeper in an isolated environment.

DURABLE_RULES = "durable-rules"
#: durable-rules' own sources call PyEval_CallObject; 3.13 has only PyObject_CallObject.
CPPFLAG = "-DPyEval_CallObject=PyObject_CallObject"
ROOT = Path(__file__).resolve().parent.parent
WHEELHOUSE = ROOT / "wheelhouse"

_PIN = re.compile(r"^Requires-Dist: durable-rules\s*==\s*(?P<version>[0-9][0-9A-Za-z.]*)\s*$", re.M)


def needs_flag(version: tuple[int, int] = (sys.version_info[0], sys.version_info[1])) -> bool:
    """True on the supported Pythons whose headers lack PyEval_CallObject (3.13)."""
    return version == (3, 13)


def build_env(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment to build durable-rules in: CPPFLAGS gains the flag."""
    env = dict(os.environ if environ is None else environ)
    flags = env.get("CPPFLAGS", "").split()
    if CPPFLAG not in flags:
        env["CPPFLAGS"] = " ".join([*flags, CPPFLAG])
    return env


def _pip(*args: str | Path) -> None:
    command = [sys.executable, "-m", "pip", *map(str, args)]
    env = build_env() if needs_flag() else dict(os.environ)
    subprocess.run(command, check=True, env=env, stdout=sys.stderr)


def durable_rules_wheel(version: str, wheelhouse: Path = WHEELHOUSE) -> Path:
    """The durable-rules wheel for this interpreter, built with the flag if not built yet."""
    tag = f"cp{sys.version_info[0]}{sys.version_info[1]}"
    pattern = f"durable_rules-{version}-{tag}-{tag}-*.whl"
    found = sorted(wheelhouse.glob(pattern))
    if not found:
        print(
            f"building durable-rules {version} with CPPFLAGS={CPPFLAG} into {wheelhouse}",
            file=sys.stderr,
        )
        # --no-cache-dir: a wheel cached by an earlier plain install would be the broken build.
        _pip(
            "wheel",
            "--no-deps",
            "--no-cache-dir",
            "--no-binary",
            DURABLE_RULES,
            "--wheel-dir",
            wheelhouse,
            f"{DURABLE_RULES}=={version}",
        )
        found = sorted(wheelhouse.glob(pattern))
    if not found:
        raise RuntimeError(f"pip built no {pattern} in {wheelhouse}")
    return found[-1]


def pin_durable_rules(metadata: str, wheel_for: Any = durable_rules_wheel) -> str:
    """METADATA text with the durable-rules requirement pointed at a locally built wheel."""
    match = _PIN.search(metadata)
    if match is None:
        raise RuntimeError("firekeeper's metadata has no 'durable-rules==X' requirement to pin")
    wheel: Path = wheel_for(match["version"])
    pinned = f"Requires-Dist: {DURABLE_RULES} @ {wheel.resolve().as_uri()}"
    return metadata[: match.start()] + pinned + metadata[match.end() :]


# --- the editable hooks: the README's `pip install -e .` ---------------------------------


def get_requires_for_build_editable(config_settings: Any = None) -> list[str]:
    requires = list(_setuptools.get_requires_for_build_editable(config_settings))
    # The durable-rules build below runs pip from inside pip's build environment.
    return [*requires, "pip"] if needs_flag() else requires


def prepare_metadata_for_build_editable(
    metadata_directory: str, config_settings: Any = None
) -> str:
    name: str = _setuptools.prepare_metadata_for_build_editable(metadata_directory, config_settings)
    if needs_flag():
        path = Path(metadata_directory, name, "METADATA")
        path.write_text(pin_durable_rules(path.read_text(encoding="utf-8")), encoding="utf-8")
    return name


def build_editable(
    wheel_directory: str, config_settings: Any = None, metadata_directory: str | None = None
) -> str:
    if not needs_flag() or metadata_directory is not None:
        # setuptools copies the prepared (and so already pinned) metadata into the wheel.
        return str(_setuptools.build_editable(wheel_directory, config_settings, metadata_directory))
    with tempfile.TemporaryDirectory() as tmp:
        name = prepare_metadata_for_build_editable(tmp, config_settings)
        return str(
            _setuptools.build_editable(wheel_directory, config_settings, str(Path(tmp, name)))
        )


# --- the wheel set: `pip install DIR/*.whl`, the Dockerfile --------------------------------


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2) or argv[0] != "wheels":
        print(
            "usage: python build_backend/firekeeper_build.py wheels [DIR]\n"
            "  builds firekeeper and every dependency as wheels into DIR (default wheelhouse/),\n"
            f"  (durable-rules with CPPFLAGS={CPPFLAG} on 3.13); then: pip install DIR/*.whl",
            file=sys.stderr,
        )
        return 2
    wheelhouse = Path(argv[1]) if len(argv) == 2 else WHEELHOUSE
    # --no-cache-dir: never reuse a durable-rules wheel that a plain build left in pip's cache.
    _pip("wheel", "--no-cache-dir", "--wheel-dir", wheelhouse, ROOT)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
