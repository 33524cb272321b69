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
    from firekeeper.errors import Diagnostic
    from firekeeper.rulesets_dir import compile_dir_sources, default_dir, no_rulesets, scan_all

    directory = Path(args.dir) if args.dir else default_dir()
    # every problem of every file and stage in one run: unreadable files, YAML, schema,
    # conditions, templates, engine limits, and the test files beside the rulesets
    problems: list[Diagnostic] = []
    index = None
    try:
        found, problems = scan_all(directory)
    except RulesetError as exc:
        print(str(exc), file=sys.stderr)
        return 1
    try:
        if found.sources:
            index = compile_dir_sources(found.sources)
        elif not problems:
            problems.append(no_rulesets(directory))
    except RulesetError as exc:
        problems += exc.diagnostics
    if found.tests:
        from firekeeper.tools.suite import check_test_files

        problems += check_test_files(found.tests, index)
    if problems:
        print(str(RulesetError(problems)), file=sys.stderr)
        return 1
    assert index is not None
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
    from firekeeper.area_registry import VOCABULARY

    print("| field | type | on | meaning |")
    print("|---|---|---|---|")
    for f in VOCABULARY.fields:
        on = "any" if f.on is None else ", ".join(sorted(k.value for k in f.on))
        print(f"| `{f.path}` | {f.type} | {on} | {f.doc} |")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    from firekeeper.app import run_service
    from firekeeper.config import Settings, load, render
    from firekeeper.logs import configure

    flags = {name: getattr(args, f"setting_{name}") for name in Settings.model_fields}
    try:
        loaded = load(os.environ, flags, args.config)
    except ValueError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 2
    if args.print_config:
        print(render(loaded))
        return 0
    settings = loaded.settings
    configure(settings.log_format, settings.log_level, libraries=settings.library_log_level)
    if settings.workers > 1:  # N processes on one port, each a whole server
        from firekeeper.app import migrate
        from firekeeper.workers import refuse_sqlite, supervise

        try:
            refuse_sqlite(loaded)  # several processes need PostgreSQL
        except ValueError as exc:
            print(f"firekeeper: {exc}", file=sys.stderr)
            return 2
        try:
            migrate(settings)  # once, before the processes start (they would race on it)
        except FirekeeperError as exc:
            print(f"firekeeper: {exc}", file=sys.stderr)
            return 1
        return supervise(settings, args.argv)
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

    if args.workers > 1 and not args.target and not (args.store or "").startswith("postgresql"):
        print(
            f"firekeeper: bench --workers {args.workers} starts `serve --workers"
            f" {args.workers}`, which needs PostgreSQL: give --store postgresql+psycopg://...",
            file=sys.stderr,
        )
        return 2
    if args.soak:
        from firekeeper import soak_bench

        return soak_bench.run(
            args.soak,
            args.chats,
            Path(args.rulesets) if args.rulesets else default_dir(),
            args.store,
            batch=max(args.batch),
        )
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
        concurrency=args.concurrency,
        rates=args.rate,
        workers=args.workers,
        replicas=args.replicas,
        stand_in=args.stand_in,
        in_process=not args.grpc_only,
        members=args.members,
        decisions=args.decisions,
        statements=args.statements,
    )


def _counts(text: str) -> tuple[int, ...]:
    """``"1,8,32"`` -> (1, 8, 32): positive whole numbers."""
    try:
        values = tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected numbers like 1,8,32") from None
    if any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: every number must be at least 1")
    return values


def _rates(text: str) -> tuple[float, ...]:
    """``"500,1000"`` -> (500.0, 1000.0); 0 alone: no fixed-rate phase."""
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected rates like 500,1000") from None
    if any(v < 0 or v != v or v == float("inf") for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: rates must be finite and not negative")
    return tuple(v for v in values if v > 0)


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


def _cmd_rpc_reflect(args: argparse.Namespace) -> int:
    """``rpc list`` and ``rpc describe NAME``, through the server's reflection."""
    import grpc

    from firekeeper.reflection_client import (
        NotFoundError,
        Reflection,
        write_description,
        write_list,
    )

    if args.method == "describe" and not args.request:
        print("firekeeper: describe what? e.g. firekeeper.v1.Governance/Evaluate", file=sys.stderr)
        return 2
    if args.method == "list" and args.request:
        print(f"firekeeper: rpc list takes no argument, got {args.request!r}", file=sys.stderr)
        return 2
    try:
        token, tls = _rpc_credentials(args)
    except ValueError as exc:
        print(f"firekeeper: {exc}", file=sys.stderr)
        return 2
    metadata = (("authorization", f"Bearer {token}"),) if token else ()
    opened = grpc.secure_channel(args.target, tls) if tls else grpc.insecure_channel(args.target)
    with opened as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=args.timeout)
        except grpc.FutureTimeoutError:
            print(f"firekeeper: no server answers at {args.target}", file=sys.stderr)
            return 1
        reflection = Reflection(channel, metadata)
        try:
            if args.method == "list":
                write_list(reflection, sys.stdout)
            else:
                write_description(reflection.resolve(args.request), sys.stdout)
        except NotFoundError as exc:
            print(f"firekeeper: {exc}", file=sys.stderr)
            return 1
        except grpc.RpcError as exc:
            print(f"{exc.code().name}: {exc.details()}", file=sys.stderr)
            return 1
    return 0


def _cmd_rpc(args: argparse.Namespace) -> int:
    import grpc
    from google.protobuf import json_format
    from google.protobuf.message_factory import GetMessageClass

    if args.method in ("list", "describe"):
        return _cmd_rpc_reflect(args)
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
            _print_error_details(exc)
            return 1
    print(
        json_format.MessageToJson(
            response, preserving_proto_field_name=True, indent=2, ensure_ascii=False
        )
    )
    return 0


def _print_error_details(exc: grpc.RpcError) -> None:
    """The standard details of a failed call, one line each (``  field event.x: why``)."""
    from firekeeper.client._errors import error_from_rpc

    error = error_from_rpc(exc)
    for v in error.field_violations:
        print(f"  field {v.field}: {v.description}", file=sys.stderr)
    if error.resource is not None:
        print(
            f"  resource {error.resource.resource_type} {error.resource.resource_name}",
            file=sys.stderr,
        )
    for p in error.violations:
        print(f"  violation {p.type or 'quota'} {p.subject}: {p.description}", file=sys.stderr)
    if error.retry_delay is not None:
        print(f"  retry after {error.retry_delay:g}s", file=sys.stderr)
    if error.error_info is not None:
        print(f"  reason {error.error_info.domain}/{error.error_info.reason}", file=sys.stderr)


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


def _cmd_tick(args: argparse.Namespace) -> int:
    """``firekeeper tick``: Scheduler.RunTicks on a running server, through ``rpc``."""
    import json
    from datetime import UTC, datetime

    if args.at:
        try:
            at = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        except ValueError:
            print(f"firekeeper: --at {args.at!r} is not an ISO 8601 time", file=sys.stderr)
            return 2
        if at.tzinfo is None:
            print("firekeeper: --at needs a time zone (e.g. 2026-12-08T09:00:00Z)", file=sys.stderr)
            return 2
    else:
        at = datetime.now(UTC)
    request: dict[str, str] = {"at": at.astimezone(UTC).isoformat().replace("+00:00", "Z")}
    if args.tenant:
        request["tenant"] = args.tenant
    if args.platform:
        request["platform"] = f"PLATFORM_{args.platform.upper()}"
    if args.chat:
        request["chat_id"] = args.chat
    args.method = "Scheduler.RunTicks"
    args.request = json.dumps(request)
    return _cmd_rpc(args)


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
    if args.dataset or args.jsonl:
        from firekeeper.signals_eval import run_samples

        return run_samples(
            sys.stdout,
            datasets=args.dataset or (),
            jsonl=[Path(p) for p in args.jsonl or ()],
            root=Path(args.datasets) if args.datasets else None,
            split=args.split,
            phishing_file=phishing,
            show=args.show,
            learned=args.learned,
        )
    if not (args.spam and args.ham):
        print("firekeeper signals: give --spam and --ham, or --dataset / --jsonl", file=sys.stderr)
        return 2
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


def _cmd_precision(args: argparse.Namespace) -> int:
    from firekeeper.rulesets_dir import default_dir
    from firekeeper.signals_eval import shared_datasets
    from firekeeper.tools.precision import command, default_scenarios

    return command(
        Path(args.rulesets) if args.rulesets else default_dir(),
        Path(args.scenarios) if args.scenarios else default_scenarios(),
        store_url=args.store,
        datasets=Path(args.datasets) if args.datasets else shared_datasets(),
        only=args.only,
        show=args.show,
    )


def _add_setting_flags(s: argparse.ArgumentParser) -> None:
    """One flag per field of ``firekeeper.config.Settings``, plus --config and --print-config."""
    from firekeeper.config import CONFIG_ENV, Settings, env_name, flag_name, shown

    for name, field in Settings.model_fields.items():
        default = shown(name, field.default) or "empty"
        text = f"{field.description} (env {env_name(name)}; default {default})"
        if field.annotation is bool:
            s.add_argument(
                flag_name(name),
                dest=f"setting_{name}",
                action=argparse.BooleanOptionalAction,
                default=None,
                help=text,
            )
        else:
            s.add_argument(flag_name(name), dest=f"setting_{name}", metavar="VALUE", help=text)
    s.add_argument(
        "--config",
        metavar="FILE",
        help=f"a YAML mapping of setting names to values (env {CONFIG_ENV})",
    )
    s.add_argument(
        "--print-config",
        action="store_true",
        help="print every setting's effective value and where it came from (default, file,"
        " env, flag), secrets masked, and exit",
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="firekeeper", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser(
        "serve",
        help="run the gRPC service",
        description="Run the gRPC service. Every setting is a flag and an environment"
        " variable (docs/operations.md); flags override variables, which override the"
        " --config file, which overrides the defaults.",
    )
    _add_setting_flags(s)
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
    b.add_argument(
        "--target",
        help="address(es) of running servers, comma-separated (default: start them here)",
    )
    b.add_argument(
        "--batch",
        type=_counts,
        default=(10, 100),
        help="events per EvaluateBatch call, comma-separated sizes (default 10,100)",
    )
    b.add_argument(
        "--concurrency",
        type=_counts,
        default=(1, 8, 32),
        help="unary calls in flight, comma-separated (default 1,8,32)",
    )
    b.add_argument(
        "--rate",
        type=_rates,
        default=(1000.0,),
        help="unary calls per second offered, comma-separated (default 1000; 0: none)",
    )
    b.add_argument(
        "--workers", type=int, default=1, help="processes of each server started (serve --workers)"
    )
    b.add_argument(
        "--replicas", type=int, default=1, help="servers started on the one store (default 1)"
    )
    b.add_argument(
        "--stand-in",
        action="store_true",
        help="serve a pipeline that does nothing: what transport, servicer and batcher cost",
    )
    b.add_argument("--no-grpc", action="store_true", help="skip the gRPC measurements")
    b.add_argument("--grpc-only", action="store_true", help="only the gRPC measurements")
    b.add_argument(
        "--members",
        type=int,
        default=0,
        help="members stored beforehand, spread over the chats (the batched in-process run)",
    )
    b.add_argument(
        "--decisions",
        type=int,
        default=0,
        help="decisions stored beforehand in the decision log (the batched in-process run)",
    )
    b.add_argument(
        "--statements",
        type=int,
        default=0,
        help="list the N SQL statements the in-process runs send most, per event",
    )
    b.add_argument(
        "--reloads",
        type=int,
        default=0,
        help="instead: memory and latency across N hot reloads per phase (firekeeper.reload_bench)",
    )
    b.add_argument(
        "--soak",
        type=int,
        default=0,
        help="instead: RSS and store size over N events across --chats chats, in batches of"
        " the largest --batch (firekeeper.soak_bench)",
    )
    b.add_argument("--seconds", type=float, default=20.0, help="length of each --reloads phase")
    b.add_argument("--threads", type=int, default=1, help="worker threads for --reloads")
    b.set_defaults(func=_cmd_bench)

    r = sub.add_parser(
        "rpc",
        help="call a unary method with a JSON request (proto JSON); `rpc list` and"
        " `rpc describe NAME` show a running server's API through reflection",
    )
    r.add_argument(
        "method",
        help="Service.Method (Screening.ListHeldJoins, Admin.ReloadRulesets, ...), or a bare"
        " Governance method (Evaluate, RegisterChat, GetChat, ...); or `list` (services and"
        " methods), or `describe` (then NAME: firekeeper.v1.Governance/Evaluate, a service,"
        " a message)",
    )
    r.add_argument(
        "request", nargs="?", help="the request as JSON, @FILE, or - for stdin; NAME of describe"
    )
    r.add_argument("--target", default="127.0.0.1:50051", help="server address")
    r.add_argument("--timeout", type=float, default=10.0, help="deadline in seconds")
    r.add_argument("--token", help="bearer token (env FIREKEEPER_TOKEN)")
    r.add_argument("--tls", action="store_true", help="TLS with the system's root certificates")
    r.add_argument("--ca", help="CA certificate that signed the server's, PEM (env FIREKEEPER_CA)")
    r.add_argument("--cert", help="client certificate for mutual TLS (env FIREKEEPER_CLIENT_CERT)")
    r.add_argument("--key", help="client key for mutual TLS (env FIREKEEPER_CLIENT_KEY)")
    r.set_defaults(func=_cmd_rpc)

    k = sub.add_parser(
        "tick",
        help="run the scheduler's round for a given time now (Scheduler.RunTicks); idempotent",
    )
    k.add_argument("--at", help="ISO 8601 time whose tick period to run (default: now)")
    k.add_argument("--tenant", help="only this tenant's chats")
    k.add_argument("--platform", help="only this platform's chats (telegram, discord, wecom, ...)")
    k.add_argument("--chat", help="one chat (with --tenant and --platform)")
    k.add_argument("--target", default="127.0.0.1:50051", help="server address")
    k.add_argument("--timeout", type=float, default=60.0, help="deadline in seconds")
    k.add_argument("--token", help="bearer token (env FIREKEEPER_TOKEN)")
    k.add_argument("--tls", action="store_true", help="TLS with the system's root certificates")
    k.add_argument("--ca", help="CA certificate that signed the server's, PEM (env FIREKEEPER_CA)")
    k.add_argument("--cert", help="client certificate for mutual TLS (env FIREKEEPER_CLIENT_CERT)")
    k.add_argument("--key", help="client key for mutual TLS (env FIREKEEPER_CLIENT_KEY)")
    k.set_defaults(func=_cmd_tick)

    t = sub.add_parser("token", help="make a bearer token and the hash the credentials file holds")
    t.set_defaults(func=_cmd_token)

    v = sub.add_parser("vocabulary", help="print the rule field vocabulary as a Markdown table")
    v.set_defaults(func=_cmd_vocabulary)

    g = sub.add_parser(
        "signals", help="score the promotion signals on labelled messages (one a line)"
    )
    g.add_argument("--spam", help="file of messages that should be flagged")
    g.add_argument("--ham", help="file of ordinary messages")
    g.add_argument(
        "--dataset",
        action="append",
        choices=("qq", "tg-spam", "kdconv"),
        help="a shared labelled dataset (repeatable); figures per dataset and language",
    )
    g.add_argument(
        "--jsonl", action="append", help='labelled JSONL {"text","label","lang"} (repeatable)'
    )
    g.add_argument("--datasets", help="folder of the shared datasets (default ../shared/...)")
    g.add_argument(
        "--split", choices=("dev", "held-out"), help="only this part of the qq set (default both)"
    )
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

    pr = sub.add_parser(
        "precision",
        help="run the healthy and dying group scenarios; per rule: actions on healthy groups"
        " and poses caught",
    )
    pr.add_argument("--rulesets", help="rulesets directory (default ./rulesets, else shipped)")
    pr.add_argument(
        "--scenarios", help="scenarios directory (default ./scenarios, else the shipped ones)"
    )
    pr.add_argument("--store", help="a database URL to run on (default: a temporary SQLite file)")
    pr.add_argument(
        "--datasets",
        help="the shared datasets folder, for scenarios that draw on the KdConv dialogues",
    )
    pr.add_argument("--only", help="only scenarios whose name contains this")
    pr.add_argument(
        "--show", type=int, default=0, help="print up to N actions of each failing scenario"
    )
    pr.set_defaults(func=_cmd_precision)

    from firekeeper.tools.commands import add_commands

    add_commands(sub)  # test, explain, replay, export, schema

    from firekeeper.tools.corrections import add_corrections

    add_corrections(sub)  # corrections report, corrections export
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # serve --workers N re-runs it
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
