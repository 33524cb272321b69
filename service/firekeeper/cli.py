"""The ``firekeeper`` command: serve, check, bench, rpc, vocabulary, and the authoring
tools test, explain, replay, export and schema (``firekeeper.tools.commands``)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from firekeeper.errors import FirekeeperError, RulesetError

if TYPE_CHECKING:
    import grpc
    from google.protobuf.descriptor import MethodDescriptor
    from google.protobuf.message import Message


def _cmd_check(args: argparse.Namespace) -> int:
    from firekeeper.rulesets_dir import compile_dir_sources, default_dir, read_sources, scan

    directory = Path(args.dir) if args.dir else default_dir()
    try:
        found = scan(directory)
        index = compile_dir_sources(read_sources(directory))
    except RulesetError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    for rs in index.all():
        print(f"ok  {rs.name:<16} {rs.version:<20} {len(rs.rules):>3} rules  {rs.source}")
        if rs.parent_source is not None:
            print(f"    extends {rs.extends} from the shipped rulesets: {rs.parent_source}")
    for skipped in found.skipped:
        print(f"skipped  {skipped.path.name}: not a ruleset: {skipped.reason}")
    if found.tests:
        print(f"tests    {len(found.tests)} *_test.yaml files (run them with `firekeeper test`)")
    return 0


def _cmd_vocabulary(args: argparse.Namespace) -> int:
    from firekeeper.rules.vocabulary import FIELDS

    print("| field | type | on | meaning |")
    print("|---|---|---|---|")
    for f in FIELDS:
        on = "any" if f.on is None else ", ".join(sorted(k.value for k in f.on))
        print(f"| `{f.path}` | {f.type} | {on} | {f.doc} |")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from firekeeper.app import run_service
    from firekeeper.config import ENV, Settings
    from firekeeper.logs import configure

    flags = {
        "store_url": args.store,
        "grpc_address": args.address,
        "metrics_port": args.metrics_port,
        "rulesets_dir": args.rulesets,
        "log_format": args.log_format,
        "log_level": args.log_level,
        "credentials_file": args.credentials,
        "tls_cert": args.tls_cert,
        "tls_key": args.tls_key,
        "tls_client_ca": args.tls_client_ca,
        "insecure": "on" if args.insecure else None,
        "drain_seconds": args.drain_seconds,
        "decision_retention_days": args.decision_retention_days,
    }
    env = dict(os.environ) | {ENV[k]: str(v) for k, v in flags.items() if v is not None}
    try:
        settings = Settings.from_env(env)
    except ValueError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 2
    configure(settings.log_format, settings.log_level)
    try:
        return asyncio.run(run_service(settings))
    except RulesetError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    except FirekeeperError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


def _cmd_bench(args: argparse.Namespace) -> int:
    from firekeeper.bench import run
    from firekeeper.rulesets_dir import default_dir

    if args.reloads:
        from firekeeper import reload_bench

        return reload_bench.run(
            Path(args.rulesets) if args.rulesets else default_dir(),
            reloads=args.reloads,
            seconds=args.seconds,
            threads=args.threads,
            chats=args.chats,
        )
    return run(
        events=args.events,
        chats=args.chats,
        rulesets=Path(args.rulesets) if args.rulesets else default_dir(),
        store_url=args.store,
        target=args.target,
        batch=args.batch,
        grpc_enabled=not args.no_grpc,
    )


def _rpc_methods() -> dict[str, MethodDescriptor]:
    """Every method of every service in ``firekeeper.api.gen.firekeeper.v1``, as Service.Method."""
    import importlib
    import pkgutil

    from firekeeper.api.gen.firekeeper import v1

    out: dict[str, MethodDescriptor] = {}
    for found in sorted(pkgutil.iter_modules(v1.__path__), key=lambda m: m.name):
        if found.name.endswith("_pb2"):
            module = importlib.import_module(f"{v1.__name__}.{found.name}")
            for service in module.DESCRIPTOR.services_by_name.values():
                for method in service.methods:
                    out[f"{service.name}.{method.name}"] = method
    return out


def _serialize(message: Message) -> bytes:
    return message.SerializeToString()


def _cmd_rpc(args: argparse.Namespace) -> int:
    import grpc
    from google.protobuf import json_format
    from google.protobuf.message_factory import GetMessageClass

    methods = _rpc_methods()
    name = args.method if "." in args.method else f"Governance.{args.method}"
    method = methods.get(name)
    if method is None:
        print(
            f"firekeeper: no method {args.method!r}; methods (Service.Method, "
            f"or a bare Governance method): {', '.join(methods)}",
            file=sys.stderr,
        )
        return 2
    if method.client_streaming or method.server_streaming:
        print(
            f"firekeeper: {name} is a streaming method; `firekeeper rpc` calls unary methods only"
            " (use a gRPC client such as firekeeper.client for streams)",
            file=sys.stderr,
        )
        return 2
    text = sys.stdin.read() if args.request in ("-", None) else args.request
    if args.request and args.request.startswith("@"):
        text = Path(args.request[1:]).read_text(encoding="utf-8")
    request_type = GetMessageClass(method.input_type)
    response_type = GetMessageClass(method.output_type)
    try:
        request = json_format.Parse(text or "{}", request_type())
    except json_format.ParseError as exc:
        print(
            f"firekeeper: the request is not a valid {method.input_type.name}: {exc}",
            file=sys.stderr,
        )
        return 2
    try:
        token, tls = _rpc_credentials(args)
    except ValueError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 2
    metadata = (("authorization", f"Bearer {token}"),) if token else None
    opened = grpc.secure_channel(args.target, tls) if tls else grpc.insecure_channel(args.target)
    with opened as channel:
        call: grpc.UnaryUnaryMultiCallable[Message, Message] = channel.unary_unary(
            f"/{method.containing_service.full_name}/{method.name}",
            request_serializer=_serialize,
            response_deserializer=response_type.FromString,
        )
        try:
            response = call(request, timeout=args.timeout, metadata=metadata)
        except grpc.RpcError as exc:
            print(f"{exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    print(json_format.MessageToJson(response, preserving_proto_field_name=True, indent=2))
    return 0


def _rpc_credentials(args: argparse.Namespace) -> tuple[str, grpc.ChannelCredentials | None]:
    """The token and TLS settings of ``firekeeper rpc``: flags, else FIREKEEPER_TOKEN,
    FIREKEEPER_CA, FIREKEEPER_CLIENT_CERT, FIREKEEPER_CLIENT_KEY."""
    from firekeeper.client import tls_credentials

    def pick(flag: str | None, var: str) -> str | None:
        return flag or os.environ.get(var) or None

    token = pick(args.token, "FIREKEEPER_TOKEN") or ""
    ca = pick(args.ca, "FIREKEEPER_CA")
    cert = pick(args.cert, "FIREKEEPER_CLIENT_CERT")
    key = pick(args.key, "FIREKEEPER_CLIENT_KEY")
    if not (args.tls or ca or cert or key):
        return token, None
    return token, tls_credentials(ca=ca, cert=cert, key=key)


def _cmd_token(args: argparse.Namespace) -> int:
    import secrets

    from firekeeper.auth.credentials import token_hash

    token = secrets.token_urlsafe(32)
    print(f"token:        {token}")
    print(f"token_sha256: {token_hash(token)}")
    print("Give the token to the client; put only token_sha256 in the credentials file.")
    return 0


def _cmd_signals(args: argparse.Namespace) -> int:
    from firekeeper.signals_eval import run

    phishing = Path(args.phishing) if args.phishing else None
    return run(
        Path(args.spam),
        Path(args.ham),
        sys.stdout,
        phishing_file=phishing,
        show=args.show,
        learned=args.learned,
    )


def _cmd_train(args: argparse.Namespace) -> int:
    from firekeeper.learned.artefact import SHIPPED
    from firekeeper.learned.train import run

    return run(
        Path(args.datasets) if args.datasets else None,
        [Path(f) for f in args.samples],
        Path(args.out) if args.out else SHIPPED,
        sys.stdout,
        cv=args.cv,
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="firekeeper", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("serve", help="run the gRPC service")
    s.add_argument("--store", help="SQLAlchemy URL (env FIREKEEPER_STORE_URL; default SQLite file)")
    s.add_argument(
        "--address",
        help="gRPC listen address (env FIREKEEPER_GRPC_ADDRESS; default 127.0.0.1:50051)",
    )
    s.add_argument(
        "--metrics-port", help="Prometheus port, or off (env FIREKEEPER_METRICS_PORT; default 9464)"
    )
    s.add_argument(
        "--rulesets", help="rulesets directory (env FIREKEEPER_RULESETS_DIR; default ./rulesets)"
    )
    s.add_argument("--log-format", choices=["text", "json"], help="env FIREKEEPER_LOG_FORMAT")
    s.add_argument("--log-level", help="env FIREKEEPER_LOG_LEVEL (debug, info, warning, error)")
    s.add_argument("--credentials", help="credentials file (env FIREKEEPER_CREDENTIALS)")
    s.add_argument("--tls-cert", help="server certificate chain, PEM (env FIREKEEPER_TLS_CERT)")
    s.add_argument("--tls-key", help="server private key, PEM (env FIREKEEPER_TLS_KEY)")
    s.add_argument(
        "--tls-client-ca",
        help="CA of client certificates: mutual TLS (env FIREKEEPER_TLS_CLIENT_CA)",
    )
    s.add_argument(
        "--insecure",
        action="store_true",
        help="serve a non-loopback address without TLS and credentials (env FIREKEEPER_INSECURE)",
    )
    s.add_argument(
        "--drain-seconds",
        help="on SIGTERM, seconds of NOT_SERVING health while calls are still accepted"
        " (env FIREKEEPER_DRAIN_SECONDS; default 5)",
    )
    s.add_argument(
        "--decision-retention-days",
        help="days decisions are kept, 0: forever"
        " (env FIREKEEPER_DECISION_RETENTION_DAYS; default 30)",
    )
    s.set_defaults(func=_cmd_serve)

    c = sub.add_parser("check", help="validate rulesets; exit 1 with located errors")
    c.add_argument("dir", nargs="?", help="rulesets directory (default ./rulesets)")
    c.set_defaults(func=_cmd_check)

    b = sub.add_parser("bench", help="measure events/s and latency of the real pipeline")
    b.add_argument("--events", type=int, default=5000)
    b.add_argument("--chats", type=int, default=200)
    b.add_argument("--rulesets", help="rulesets directory (default ./rulesets)")
    b.add_argument(
        "--store", help="store URL for the in-process run (default: a temporary SQLite file)"
    )
    b.add_argument("--target", help="address of a running server (default: start one)")
    b.add_argument("--batch", type=int, default=100, help="events per EvaluateBatch call")
    b.add_argument("--no-grpc", action="store_true", help="skip the gRPC measurements")
    b.add_argument(
        "--reloads",
        type=int,
        default=0,
        help="instead: memory and latency across N hot reloads per phase (firekeeper.reload_bench)",
    )
    b.add_argument("--seconds", type=float, default=20.0, help="length of each --reloads phase")
    b.add_argument("--threads", type=int, default=1, help="worker threads for --reloads")
    b.set_defaults(func=_cmd_bench)

    r = sub.add_parser("rpc", help="call a unary method with a JSON request (proto JSON)")
    r.add_argument(
        "method",
        help="Service.Method (Screening.ListHeldJoins, Admin.ReloadRulesets, ...), or a bare"
        " Governance method (Evaluate, RegisterChat, GetChat, ...)",
    )
    r.add_argument("request", nargs="?", help="the request as JSON, @FILE, or - for stdin")
    r.add_argument("--target", default="127.0.0.1:50051", help="server address")
    r.add_argument("--timeout", type=float, default=10.0, help="deadline in seconds")
    r.add_argument("--token", help="bearer token (env FIREKEEPER_TOKEN)")
    r.add_argument("--tls", action="store_true", help="TLS with the system's root certificates")
    r.add_argument("--ca", help="CA certificate that signed the server's, PEM (env FIREKEEPER_CA)")
    r.add_argument("--cert", help="client certificate for mutual TLS (env FIREKEEPER_CLIENT_CERT)")
    r.add_argument("--key", help="client key for mutual TLS (env FIREKEEPER_CLIENT_KEY)")
    r.set_defaults(func=_cmd_rpc)

    t = sub.add_parser("token", help="make a bearer token and the hash the credentials file holds")
    t.set_defaults(func=_cmd_token)

    v = sub.add_parser("vocabulary", help="print the rule field vocabulary as a Markdown table")
    v.set_defaults(func=_cmd_vocabulary)

    g = sub.add_parser(
        "signals", help="score the promotion signals on labelled messages (one a line)"
    )
    g.add_argument("--spam", required=True, help="file of messages that should be flagged")
    g.add_argument("--ham", required=True, help="file of ordinary messages")
    g.add_argument("--phishing", help="a phishing domain list, as FIREKEEPER_PHISHING_DOMAINS")
    g.add_argument("--show", type=int, default=0, help="print up to N misses and false alarms")
    g.add_argument(
        "--learned",
        action="store_true",
        help="also the learned spam score and the combined judgment, on rows it did not train on",
    )
    g.set_defaults(func=_cmd_signals)

    tr = sub.add_parser(
        "train", help="build the spam model (message.spam_score) from labelled data"
    )
    tr.add_argument("--datasets", help="the shared datasets folder (shared/fixtures/datasets)")
    tr.add_argument(
        "--samples",
        action="append",
        default=[],
        help='a JSON Lines file of {"text","label","lang","source"} samples (repeatable)',
    )
    tr.add_argument("--out", help="where to write the model (default: the shipped model file)")
    tr.add_argument(
        "--cv",
        type=int,
        default=0,
        help="also K-fold cross-validation on the training rows",
    )
    tr.set_defaults(func=_cmd_train)

    from firekeeper.tools.commands import add_commands

    add_commands(sub)  # test, explain, replay, export, schema
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
