"""Which Pythons firekeeper runs on, and what to do when this one or its durable-rules build is not.

pip refuses an unsupported Python itself (``requires-python``); these checks give the same
clear answer on the other paths (a checkout on ``PYTHONPATH``, ``--ignore-requires-python``,
a durable-rules wheel built without the flag Python 3.13 needs). Kept importable by old
Pythons: the version check must run before anything newer is parsed.
"""

from __future__ import annotations

import sys

#: The oldest and the newest supported Python (``requires-python`` in pyproject.toml).
OLDEST = (3, 11)
NEWEST = (3, 13)
#: durable-rules 2.0.28 calls PyEval_CallObject, which Python 3.13 no longer declares.
CPPFLAG_313 = "-DPyEval_CallObject=PyObject_CallObject"


class UnsupportedPython(RuntimeError):
    """firekeeper was imported by a Python outside OLDEST..NEWEST."""


def python_problem(version: tuple[int, ...]) -> str | None:
    """Why ``version`` cannot run firekeeper and what to do, or None when it can."""
    major_minor = (version[0], version[1])
    if OLDEST <= major_minor <= NEWEST:
        return None
    return (
        f"firekeeper runs on Python {OLDEST[0]}.{OLDEST[1]} to {NEWEST[0]}.{NEWEST[1]}, "
        f"this is Python {version[0]}.{version[1]}. Make the virtual environment with a "
        f"supported one, e.g. python{NEWEST[0]}.{NEWEST[1]} -m venv .venv, and install again."
    )


def check_python() -> None:
    """Raise UnsupportedPython, with what to do, on a Python firekeeper does not support."""
    problem = python_problem((sys.version_info[0], sys.version_info[1]))
    if problem is not None:
        raise UnsupportedPython(problem)


def durable_rules_hint(error: str) -> str:
    """The message for a durable-rules C extension that does not load, with what to do."""
    if "PyEval_CallObject" in error:
        why = (
            "it was built without the flag Python 3.13 needs "
            "(it calls PyEval_CallObject, which 3.13 removed)"
        )
    else:
        why = "it is missing or was built for another Python"
    return (
        f"durable-rules' C extension does not load: {why} ({error}). Rebuild it for this "
        f"Python: CPPFLAGS={CPPFLAG_313} pip install --force-reinstall --no-deps "
        "--no-cache-dir durable-rules==2.0.28 (from a checkout, pip install -e . does this "
        "itself; see the README's 'Set up')."
    )
