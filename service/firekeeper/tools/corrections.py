"""``firekeeper corrections``: which rules hurt healthy groups, and the samples admins taught.

    firekeeper corrections report --store URL [--tenant T] [--since T] [--until T] [--json]
    firekeeper corrections report --target HOST:PORT [--token ...]   (a running service)
    firekeeper corrections export --store URL --tenant T [--out FILE]

``report`` prints, per ruleset and rule, the decisions in which the rule acted, how
many of those admins corrected (not_spam, join_was_fine), the false-positive rate,
and the missed spam admins reported (rule "-"). ``export`` writes the tenant's
labelled samples as JSON Lines for ``firekeeper train``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from firekeeper.domain.corrections import RuleCorrections
from firekeeper.errors import FirekeeperError


def render(rows: Sequence[RuleCorrections]) -> str:
    if not rows:
        return "no rule has acted, and no correction is stored, in this range\n"
    width = max(len(f"{r.ruleset} {r.rule_id or '-'}") for r in rows)
    head = f"{'ruleset rule':<{width}}  {'actions':>8}  {'false +':>8}  {'rate':>7}  {'missed':>7}"
    out = [head]
    for r in rows:
        rate = r.false_positive_rate
        shown = "-" if rate is None else f"{rate:.1%}"
        name = f"{r.ruleset} {r.rule_id or '-'}"
        out.append(
            f"{name:<{width}}  {r.actions:>8}  {r.false_positives:>8}  {shown:>7}  {r.missed:>7}"
        )
    return "\n".join(out) + "\n"


def to_json(rows: Sequence[RuleCorrections]) -> list[dict[str, Any]]:
    return [
        {
            "ruleset": r.ruleset,
            "rule": r.rule_id,
            "actions": r.actions,
            "false_positives": r.false_positives,
            "false_positive_rate": r.false_positive_rate,
            "missed": r.missed,
        }
        for r in rows
    ]


def _from_store(url: str, tenant: str | None, since: Any, until: Any) -> list[RuleCorrections]:
    from firekeeper.areas.corrections.queries import false_positives_by_rule
    from firekeeper.store import create_store

    with create_store(url) as store:
        return false_positives_by_rule(store, tenant=tenant, since=since, until=until)


def _from_service(
    args: argparse.Namespace, since: datetime | None, until: datetime | None
) -> list[RuleCorrections]:
    import grpc

    from firekeeper.api.gen.firekeeper.v1 import corrections_pb2 as cpb
    from firekeeper.api.gen.firekeeper.v1 import corrections_pb2_grpc as cpb_grpc
    from firekeeper.cli import _rpc_credentials

    token, tls = _rpc_credentials(args)
    metadata = (("authorization", f"Bearer {token}"),) if token else None
    request = cpb.GetRuleCorrectionsRequest(tenant=args.tenant or "")
    if since is not None:
        request.since.FromDatetime(since)
    if until is not None:
        request.until.FromDatetime(until)
    opened = grpc.secure_channel(args.target, tls) if tls else grpc.insecure_channel(args.target)
    with opened as channel:
        stub = cpb_grpc.CorrectionsStub(channel)
        answer = stub.GetRuleCorrections(request, timeout=args.timeout, metadata=metadata)
    return [
        RuleCorrections(r.ruleset, r.rule_id, r.actions, r.false_positives, r.missed)
        for r in answer.rules
    ]


def _cmd_report(args: argparse.Namespace) -> int:
    import grpc

    from firekeeper.tools.suite import moment

    if bool(args.store) == bool(args.target):
        print("firekeeper: give --store URL or --target HOST:PORT (one of them)", file=sys.stderr)
        return 2
    try:
        since = moment(args.since) if args.since else None
        until = moment(args.until) if args.until else None
    except ValueError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 2
    try:
        if args.store:
            rows = _from_store(args.store, args.tenant, since, until)
        else:
            rows = _from_service(args, since, until)
    except (FirekeeperError, ValueError) as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 1
    except grpc.RpcError as exc:
        print(f"{exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(to_json(rows), indent=2, ensure_ascii=False))
    else:
        print(render(rows), end="")
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from firekeeper.areas.corrections.queries import export_samples
    from firekeeper.store import create_store

    count = 0
    out = open(args.out, "w", encoding="utf-8") if args.out else sys.stdout  # noqa: SIM115
    try:
        with create_store(args.store) as store:
            for line in export_samples(store, args.tenant):
                out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
                count += 1
    except (FirekeeperError, ValueError) as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 1
    finally:
        if out is not sys.stdout:
            out.close()
    print(f"exported {count} samples", file=sys.stderr)
    return 0


def add_corrections(sub: Any) -> None:
    """Add ``firekeeper corrections report|export`` to ``firekeeper``'s subcommands."""
    c = sub.add_parser(
        "corrections",
        help="per-rule false positives from admins' corrections, and their samples",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cs = c.add_subparsers(dest="corrections_command", required=True)
    r = cs.add_parser("report", help="per rule: actions, false positives, rate, missed spam")
    r.add_argument("--store", help="SQLAlchemy URL of the store")
    r.add_argument("--target", help="address of a running service (Corrections API)")
    r.add_argument("--tenant", help="only this tenant (default: every tenant)")
    r.add_argument("--since", metavar="TIME", help="decided at or after (ISO-8601)")
    r.add_argument("--until", metavar="TIME", help="decided before (ISO-8601)")
    r.add_argument("--json", action="store_true", help="machine-readable output")
    r.add_argument("--timeout", type=float, default=10.0, help="deadline in seconds (--target)")
    r.add_argument("--token", help="bearer token (env FIREKEEPER_TOKEN)")
    r.add_argument("--tls", action="store_true", help="TLS with the system's root certificates")
    r.add_argument("--ca", help="CA certificate that signed the server's, PEM (env FIREKEEPER_CA)")
    r.add_argument("--cert", help="client certificate for mutual TLS (env FIREKEEPER_CLIENT_CERT)")
    r.add_argument("--key", help="client key for mutual TLS (env FIREKEEPER_CLIENT_KEY)")
    r.set_defaults(func=_cmd_report)
    x = cs.add_parser(
        "export", help="the tenant's labelled samples as JSON Lines, for firekeeper train"
    )
    x.add_argument("--store", required=True, help="SQLAlchemy URL of the store")
    x.add_argument("--tenant", required=True, help="the tenant whose samples to export")
    x.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    x.set_defaults(func=_cmd_export)
