"""The policy author's commands of ``firekeeper``: test, explain, replay, export, schema, fmt.

Registered by ``firekeeper.cli``; each imports what it needs when it runs, so
``firekeeper --help`` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from firekeeper.errors import FirekeeperError, RulesetError


def _rulesets(directory: str | None) -> Any:
    """The compiled rulesets of a directory (default ./rulesets), or None after printing why."""
    from firekeeper.rulesets_dir import default_dir, load

    try:
        return load(Path(directory) if directory else default_dir())
    except RulesetError as exc:
        print(str(exc), file=sys.stderr)
        return None


def _cmd_test(args: argparse.Namespace) -> int:
    from firekeeper.rulesets_dir import default_dir, load
    from firekeeper.tools.report import junit_xml, render, render_json, write_junit
    from firekeeper.tools.runner import RunResult, find_test_files, run_tests

    target = Path(args.dir) if args.dir else default_dir()
    directory = target.parent if target.is_file() else target
    try:
        index = load(Path(args.rulesets) if args.rulesets else directory)
    except RulesetError as exc:
        if args.format == "text":
            print(str(exc), file=sys.stderr)
        else:  # a CI reading the report sees why nothing ran
            failed = RunResult(errors=exc.diagnostics)
            print(render_json(failed) if args.format == "json" else junit_xml(failed), end="")
        return 1
    files = find_test_files(target)
    if not files:
        print(f"firekeeper: no *_test.yaml files in {target}", file=sys.stderr)
        return 1
    run = run_tests(index, files, only=args.k)
    if args.format == "json":
        print(render_json(run), end="")
    elif args.format == "junit":
        print(junit_xml(run), end="")
    else:
        print(render(run, verbose=args.verbose), end="")
    if args.junit:
        write_junit(run, Path(args.junit))
    if not run.ok:
        return 1
    if args.fail_uncovered and run.coverage.missing() and not args.k:
        print("firekeeper: some rules are exercised by no test (--fail-uncovered)", file=sys.stderr)
        return 1
    return 0


def _cmd_explain(args: argparse.Namespace) -> int:
    from firekeeper.store.codec import decision_to_json
    from firekeeper.tools.explaining import explain_event, render
    from firekeeper.tools.inputs import InputError, read_event, read_state

    index = _rulesets(args.rulesets)
    if index is None:
        return 1
    try:
        item = read_event(Path(args.event))
        state = read_state(Path(args.chat) if args.chat else None)
        decision = explain_event(index, item, state.setup_for(item.event.envelope.chat_id))
    except InputError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 2
    except FirekeeperError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(decision_to_json(decision), indent=2, ensure_ascii=False))
    else:
        print(render(item.event, decision, index), end="")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from firekeeper.store import create_store
    from firekeeper.store.codec import decision_to_json, event_to_json
    from firekeeper.tools.suite import moment

    try:
        since = moment(args.since) if args.since else None
        until = moment(args.until) if args.until else None
    except ValueError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 2
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    count = 0
    try:
        with create_store(args.store) as store:
            for event, decision in store.export_decisions(
                tenant=args.tenant, since=since, until=until
            ):
                line = {"event": event_to_json(event), "decision": decision_to_json(decision)}
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
    except FirekeeperError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 1
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"exported {count} events", file=sys.stderr)
    return 0


def _cmd_replay(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from firekeeper.tools.inputs import (
        InputError,
        count_lines,
        has_decisions,
        read_events,
        read_state,
    )
    from firekeeper.tools.replay import Version, render, replay

    source = _rulesets(args.rulesets)
    other = _rulesets(args.against) if args.against else None
    if source is None or (args.against and other is None):
        return 1
    path = Path(args.events)
    sides: list[tuple[Version, Any]] = [(Version("A", args.rulesets or "./rulesets"), source)]
    if other is not None:
        sides.append((Version("B", args.against), other))
    elif not args.no_recorded and has_decisions(path):
        sides.append((Version("recorded", str(path)), None))
    total = count_lines(path)
    bar = tqdm(
        total=total,
        unit="ev",
        desc="replay",
        file=sys.stderr,
        disable=args.no_progress or total < 500,
    )
    try:
        state = read_state(Path(args.chats) if args.chats else None)
        report = replay(read_events(path), sides, state, file=str(path), tick=lambda: bar.update(1))
    except InputError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 2
    finally:
        bar.close()
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print(render(report, listed=args.show), end="")
    return 0


def _cmd_schema(args: argparse.Namespace) -> int:
    from firekeeper.tools.schema import dumps, ruleset_schema, ruleset_test_schema

    text = dumps(ruleset_test_schema() if args.tests else ruleset_schema())
    if args.check:
        try:
            current = Path(args.check).read_text(encoding="utf-8")
        except OSError as exc:
            print(f"firekeeper: {exc}", file=sys.stderr)
            return 1
        if current != text:
            what = "--tests " if args.tests else ""
            print(
                f"firekeeper: {args.check} is stale: run `firekeeper schema {what}> {args.check}`",
                file=sys.stderr,
            )
            return 1
        return 0
    print(text, end="")
    return 0


def _cmd_fmt(args: argparse.Namespace) -> int:
    import os
    import tempfile

    from firekeeper.rules.compiler import LIMITS
    from firekeeper.rules.source import decode
    from firekeeper.rulesets_dir import RULESET_SUFFIXES, TEST_SUFFIXES, not_a_ruleset
    from firekeeper.tools.fmt import format_text

    YAML = (".yaml", ".yml")
    files: list[Path] = []
    for name in args.paths:
        path = Path(name)
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.is_file() and p.suffix in YAML)
        elif path.is_file():
            files.append(path)
        else:
            print(f"firekeeper: {name}: no such file or directory", file=sys.stderr)
            return 2
    failed = False
    changed: list[Path] = []
    for path in files:
        try:
            with path.open("rb") as f:
                data = f.read(LIMITS.file_bytes + 1)
        except OSError as exc:
            print(f"firekeeper: {path}: {exc}", file=sys.stderr)
            failed = True
            continue
        text, problems = decode(str(path), data, LIMITS)
        tests = path.name.endswith(TEST_SUFFIXES)
        if text is not None and not tests:
            reason = not_a_ruleset(text) if path.name.endswith(RULESET_SUFFIXES) else "not YAML"
            if reason is not None:
                print(f"skipped  {path}: not a ruleset or a ruleset test: {reason}")
                continue
        formatted = None
        if text is not None:
            formatted, problems = format_text(str(path), text, tests=tests)
        if formatted is None:
            for problem in problems:
                print(problem.render(), file=sys.stderr)
            failed = True
            continue
        if formatted == text:
            continue
        changed.append(path)
        if args.check:
            print(f"would reformat {path}")
            continue
        # write beside the file, then rename over it: a crash never leaves half a file
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
                out.write(formatted)
            os.chmod(tmp, path.stat().st_mode & 0o7777)
            os.replace(tmp, path)
        except OSError as exc:
            os.unlink(tmp)
            print(f"firekeeper: {path}: {exc}", file=sys.stderr)
            failed = True
            continue
        print(f"formatted {path}")
    verb = "would be reformatted" if args.check else "reformatted"
    print(f"{len(changed)} of {len(files)} files {verb}", file=sys.stderr)
    return 1 if failed or (args.check and changed) else 0


def add_commands(sub: Any) -> None:
    """Add the authoring commands to ``firekeeper``'s subcommand parser."""
    t = sub.add_parser(
        "test",
        help="run the ruleset tests (*_test.yaml) through the real pipeline",
        description="Run ruleset tests; see docs/ruleset-tests.md for the format.",
    )
    t.add_argument(
        "dir", nargs="?", help="rulesets directory or one test file (default ./rulesets)"
    )
    t.add_argument("--rulesets", help="load rulesets from here instead of the tests' directory")
    t.add_argument("-k", metavar="TEXT", help="only tests whose name contains TEXT")
    t.add_argument("--junit", metavar="FILE", help="also write a JUnit XML report")
    t.add_argument(
        "--format",
        choices=["text", "json", "junit"],
        default="text",
        help="what to print: a readable report (default), JSON, or JUnit XML",
    )
    t.add_argument(
        "--fail-uncovered", action="store_true", help="exit 1 when a rule is exercised by no test"
    )
    t.add_argument("-v", "--verbose", action="store_true", help="show every test's details")
    t.set_defaults(func=_cmd_test)

    e = sub.add_parser(
        "explain",
        help="evaluate one event and say why each rule matched or not",
        description="Evaluate EVENT on a fresh store and print which rules matched, which "
        "failed on which condition, and the values that decided it.",
    )
    e.add_argument(
        "event",
        help="a JSON or YAML file: a test step ({kind: member.joined, member: carol}), "
        "the store's event JSON, or a line of `firekeeper export`",
    )
    e.add_argument("--chat", metavar="STATE.yaml", help="the chat's starting state")
    e.add_argument("--rulesets", metavar="DIR", help="rulesets directory (default ./rulesets)")
    e.add_argument("--json", action="store_true", help="print the decision as JSON")
    e.set_defaults(func=_cmd_explain)

    x = sub.add_parser(
        "export",
        help="write the decision log as JSON Lines (an event and its decision per line)",
    )
    x.add_argument("--store", required=True, help="SQLAlchemy URL of the store")
    x.add_argument("--tenant", help="only this tenant's events")
    x.add_argument("--since", metavar="TIME", help="decided at or after (ISO-8601)")
    x.add_argument("--until", metavar="TIME", help="decided before (ISO-8601)")
    x.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    x.set_defaults(func=_cmd_export)

    r = sub.add_parser(
        "replay",
        help="run recorded events through one or two ruleset versions and diff them",
        description="Replay EVENTS (JSON Lines: `firekeeper export` output or events) "
        "through the rulesets of DIR, and of OTHER_DIR with --against, each on a fresh "
        "store; report per rule the matches and actions of each version and the events "
        "whose actions differ. Without --against, an export is compared with the "
        "decisions it recorded.",
    )
    r.add_argument("events", help="a JSON Lines file")
    r.add_argument("--rulesets", metavar="DIR", help="version A (default ./rulesets)")
    r.add_argument("--against", metavar="OTHER_DIR", help="version B")
    r.add_argument("--chats", metavar="STATE.yaml", help="starting state of the chats")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.add_argument("--show", type=int, default=50, help="differences to list (default 50)")
    r.add_argument(
        "--no-recorded", action="store_true", help="do not compare with recorded decisions"
    )
    r.add_argument("--no-progress", action="store_true", help="no progress bar")
    r.set_defaults(func=_cmd_replay)

    s = sub.add_parser(
        "schema", help="print the JSON Schema of ruleset files (for editors), from the parser"
    )
    s.add_argument("--tests", action="store_true", help="the schema of *_test.yaml files")
    s.add_argument("--check", metavar="FILE", help="exit 1 if FILE differs from the schema")
    s.set_defaults(func=_cmd_schema)

    f = sub.add_parser(
        "fmt",
        help="rewrite ruleset and ruleset-test files in the canonical layout, comments kept",
        description="Rewrite the ruleset and *_test.yaml files among PATH (files, or the "
        "YAML files of directories) in one canonical layout: key order, indentation, "
        "quoting; comments kept. The meaning never changes: a file fmt cannot format "
        "safely is left as it is and reported. Other YAML files are skipped.",
    )
    f.add_argument("paths", nargs="+", metavar="PATH", help="a file or directory")
    f.add_argument(
        "--check",
        action="store_true",
        help="change nothing; list the files that would change and exit 1 if any",
    )
    f.set_defaults(func=_cmd_fmt)
