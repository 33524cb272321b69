"""Ruleset test results as a readable report, as JSON, and as JUnit XML for CI systems.

The JSON document (``firekeeper test --format json``; docs/ruleset-tests.md) is::

    {"format": "firekeeper-test-results", "version": 1, "ok": bool, "seconds": float,
     "summary": {"passed": n, "failed": n, "errors": n, "skipped": n, "problems": n},
     "problems": [{"file", "line", "column", "message", "path", "hint"}],
     "tests": [{"file", "name", "ruleset", "line", "status", "message", "steps", "seconds",
                "failures": [{"step", "line", "label", "problems": [str],
                              "decision": <the decision as `firekeeper explain --json`>}]}],
     "coverage": {"rules": n, "exercised": n,
                  "not_exercised": [{"id", "file", "line", "rulesets": [str]}]}}
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from firekeeper.errors import Diagnostic
from firekeeper.tools.runner import RunResult, StepFailure, TestResult, describe_decision

_MARK = {"passed": "ok  ", "failed": "FAIL", "skipped": "skip", "error": "ERR "}


def render(run: RunResult, *, verbose: bool = False) -> str:
    return "\n".join(_lines(run, verbose=verbose)) + "\n"


def _lines(run: RunResult, *, verbose: bool) -> Iterator[str]:
    for diag in run.errors:
        yield diag.render()
    if run.errors:
        yield ""
    current = ""
    for r in run.results:
        if r.file != current:
            current = r.file
            yield f"{r.file}"
        if r.status == "passed" and not verbose:
            yield f"  {_MARK[r.status]}  {r.name}"
            continue
        yield f"  {_MARK[r.status]}  {r.name}" + (
            f"  ({r.message})" if r.status == "skipped" else ""
        )
        if r.status == "error":
            for line in r.message.splitlines():
                yield f"        {line}"
        for failure in r.failures:
            yield from _failure(r, failure)
    yield from _coverage(run)
    parts = [f"{run.count('passed')} passed"]
    for status in ("failed", "error", "skipped"):
        if run.count(status):
            parts.append(f"{run.count(status)} {status if status != 'error' else 'errors'}")
    if run.errors:
        n = len(run.errors)
        parts.append(f"{n} problem{'s' if n != 1 else ''} in test files")
    yield ""
    yield ", ".join(parts) + f" in {run.seconds:.2f}s"


def _failure(r: TestResult, f: StepFailure) -> Iterator[str]:
    yield f"        step {f.step} ({f.label}) at {r.file}:{f.line}"
    for problem in f.problems:
        yield f"          - {problem}"
    if f.decision is not None:
        for line in describe_decision(f.decision):
            yield f"          {line}"


def _coverage(run: RunResult) -> Iterator[str]:
    total = len(run.coverage.rules)
    missing = run.coverage.missing()
    yield ""
    yield f"coverage: {total - len(missing)} of {total} rules exercised by a test"
    for ref, names in missing:
        yield f"  not exercised: {ref.id}  ({ref.file}:{ref.line}; in {', '.join(names)})"


JSON_FORMAT = "firekeeper-test-results"
JSON_VERSION = 1


def to_json(run: RunResult) -> dict[str, Any]:
    """The run as the JSON document of the module docstring."""
    from firekeeper.store.codec import decision_to_json

    def problem(d: Diagnostic) -> dict[str, Any]:
        return {
            "file": d.file,
            "line": d.line,
            "column": d.column,
            "message": d.message,
            "path": d.path,
            "hint": d.hint,
        }

    def failure(f: StepFailure) -> dict[str, Any]:
        return {
            "step": f.step,
            "line": f.line,
            "label": f.label,
            "problems": list(f.problems),
            "decision": decision_to_json(f.decision) if f.decision is not None else None,
        }

    missing = run.coverage.missing()
    total = len(run.coverage.rules)
    return {
        "format": JSON_FORMAT,
        "version": JSON_VERSION,
        "ok": run.ok,
        "seconds": round(run.seconds, 3),
        "summary": {
            "passed": run.count("passed"),
            "failed": run.count("failed"),
            "errors": run.count("error"),
            "skipped": run.count("skipped"),
            "problems": len(run.errors),
        },
        "problems": [problem(d) for d in run.errors],
        "tests": [
            {
                "file": r.file,
                "name": r.name,
                "ruleset": r.ruleset,
                "line": r.line,
                "status": r.status,
                "message": r.message,
                "steps": r.steps,
                "seconds": round(r.seconds, 3),
                "failures": [failure(f) for f in r.failures],
            }
            for r in run.results
        ],
        "coverage": {
            "rules": total,
            "exercised": total - len(missing),
            "not_exercised": [
                {"id": ref.id, "file": ref.file, "line": ref.line, "rulesets": names}
                for ref, names in missing
            ],
        },
    }


def render_json(run: RunResult) -> str:
    return json.dumps(to_json(run), indent=2, ensure_ascii=False) + "\n"


def write_junit(run: RunResult, path: Path) -> None:
    """The JUnit XML of :func:`junit_xml` written to ``path``."""
    path.write_text(junit_xml(run), "utf-8")


def junit_xml(run: RunResult) -> str:
    """One <testsuite> per test file, one <testcase> per test."""
    root = ET.Element("testsuites", name="firekeeper ruleset tests", time=f"{run.seconds:.3f}")
    by_file: dict[str, list[TestResult]] = {}
    for r in run.results:
        by_file.setdefault(r.file, []).append(r)
    for diag in run.errors:
        by_file.setdefault(diag.file, [])
    for file, results in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file,
            tests=str(len(results)),
            failures=str(sum(r.status == "failed" for r in results)),
            errors=str(sum(r.status == "error" for r in results)),
            skipped=str(sum(r.status == "skipped" for r in results)),
            time=f"{sum(r.seconds for r in results):.3f}",
        )
        for diag in (d for d in run.errors if d.file == file):
            case = ET.SubElement(suite, "testcase", classname=file, name="the test file parses")
            ET.SubElement(case, "error", message=diag.message).text = diag.render()
        for r in results:
            case = ET.SubElement(
                suite, "testcase", classname=file, name=r.name, time=f"{r.seconds:.3f}"
            )
            if r.status == "skipped":
                ET.SubElement(case, "skipped", message=r.message)
            elif r.status == "error":
                ET.SubElement(case, "error", message=r.message.splitlines()[0]).text = r.message
            elif r.status == "failed":
                text = "\n".join(line for f in r.failures for line in _failure(r, f))
                first = r.failures[0].problems[0] if r.failures[0].problems else "failed"
                ET.SubElement(case, "failure", message=first).text = text
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
