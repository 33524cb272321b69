"""Compile a candidate ruleset set in a child process, under a memory and a time limit.

    errors = check_in_child(sources, where="rulesets/", memory_bytes=1 << 30, timeout=60)

Hot reload calls this before it compiles a changed set in the server: the child
(``python -m firekeeper.sandbox``) sets ``RLIMIT_AS`` and ``RLIMIT_CPU`` on
itself, reads ``{file: text}`` as JSON on stdin, compiles it with the same
``compile_dir_sources`` and answers ``{"errors": [...]}`` on stdout. A set the child
rejects is rejected with the child's located errors and never reaches the
server's engine; a child that runs out of memory or time, or dies (the
durable-rules C engine can loop or crash on shapes its limits do not cover),
is reported as one error naming the directory, and the last good set keeps
serving. The loader's bounds make this a second line: what the child protects
against is a bug, not a known input.
"""

from __future__ import annotations

import dataclasses
import json
import resource
import subprocess
import sys
from collections.abc import Mapping

from firekeeper.errors import Diagnostic

_HINT = "the last good rulesets keep serving; run `firekeeper check` on the files to see why"


def check_in_child(
    sources: Mapping[str, str], *, where: str, memory_bytes: int, timeout: float
) -> list[Diagnostic]:
    """Every problem of ``sources`` as the child found them; ``[]`` when they compile."""
    command = [sys.executable, "-m", "firekeeper.sandbox", str(memory_bytes), str(timeout)]
    try:
        done = subprocess.run(
            command,
            input=json.dumps(dict(sources)),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return [_failed(where, f"compiling the rulesets took longer than {timeout:g} s")]
    if done.returncode == 0:
        try:
            answer = json.loads(done.stdout)
            return [Diagnostic(**d) for d in answer["errors"]]
        except (ValueError, KeyError, TypeError):
            pass
    reason = f"exit status {done.returncode}"
    if done.returncode < 0:
        reason = f"signal {-done.returncode}"
    if "MemoryError" in done.stderr:
        reason = f"more than {memory_bytes // 2**20} MiB of memory"
    return [_failed(where, f"compiling the rulesets failed in a child process ({reason})")]


def _failed(where: str, message: str) -> Diagnostic:
    return Diagnostic(where, 0, 0, message, hint=_HINT)


def _main(argv: list[str]) -> int:
    memory_bytes, timeout = int(argv[0]), float(argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    cpu = int(timeout) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))
    from firekeeper.errors import RulesetError
    from firekeeper.rulesets_dir import compile_dir_sources

    sources = json.loads(sys.stdin.read())
    errors: list[Diagnostic] = []
    try:
        compile_dir_sources(sources)  # with the shipped parents, as the server compiles
    except RulesetError as exc:
        errors = exc.diagnostics
    json.dump({"errors": [dataclasses.asdict(d) for d in errors]}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
