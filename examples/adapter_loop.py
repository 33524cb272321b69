"""The loop every example adapter runs: payloads -> events -> decisions -> platform calls.

    native payload --translate_*--> events --FirekeeperClient.evaluate--> decision
        --calls_for_action--> PlatformCall values, printed instead of sent

A real adapter does the same with the platform's webhook or gateway as input
and its HTTP client as output. The platform scripts (``telegram_adapter.py``,
``discord_adapter.py``, ``wecom_adapter.py``) only say how to read and
translate their payloads and what context their calls need.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from firekeeper.adapters import (
    CallContext,
    MissingContext,
    PayloadError,
    PlatformCall,
    Translation,
    UnmappableAction,
    calls_for_action,
)
from firekeeper.client import ClientError, FirekeeperClient
from firekeeper.domain import Actor, Decision, Event, Platform
from firekeeper.domain.chats import ChatKey, ChatRegistration

UNREACHABLE = ("UNAVAILABLE", "DEADLINE_EXCEEDED")  # after the client's retries: stop the run
KINDS = ("work", "hobby", "growth", "family", "entertainment", "goal")


@dataclass(frozen=True)
class Payload:
    label: str  # where it came from: "file.json[3]", "file.json:chat_join_request"
    body: object  # a parsed JSON value, or the text of an XML document


@dataclass(frozen=True)
class Spec:
    """What one platform's example adapter plugs into the loop."""

    platform: Platform
    is_payload: Callable[[object], bool]  # a payload, rather than a collection of them
    translate: Callable[[object], Translation]
    call_context: Callable[[Event], CallContext]


# ---------------------------------------------------------------- arguments


def parser(description: str | None, source_help: str) -> argparse.ArgumentParser:
    """The options every example shares; a platform script adds its own."""
    p = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("source", nargs="?", default="-", help=f"{source_help} (default: - for stdin)")
    p.add_argument("--target", default="127.0.0.1:50051", help="Firekeeper address")
    p.add_argument("--timeout", type=float, default=5.0, help="deadline of each call, seconds")
    p.add_argument("--retries", type=int, default=3, help="retries on UNAVAILABLE etc.")
    p.add_argument("--tenant", default="demo", help="the bot / installation owner (tenant)")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="feed only the payloads with this name in a named collection (repeatable)",
    )
    p.add_argument(
        "--register",
        choices=KINDS,
        metavar="KIND",
        help=f"register every chat seen, before its first event, as this kind ({', '.join(KINDS)})",
    )
    p.add_argument("--member-count", type=int, help="with --register: the starting member count")
    p.add_argument("--ruleset", default="", help="with --register: the ruleset (default: KIND's)")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="with --register: override a ruleset parameter (repeatable)",
    )
    p.add_argument(
        "--now",
        help="the time calls are made, ISO 8601 (mute/ban end times); default: each event's time,"
        " so the output is reproducible",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per line")
    return p


def pairs(values: Sequence[str], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"{option} wants NAME=VALUE, got {item!r}")
        out[name] = value
    return out


def parse_time(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SystemExit(f"{option} wants an ISO 8601 time, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def as_object(body: object, path: str) -> dict[str, Any]:
    """A payload that must be a JSON object, or the ``PayloadError`` a translator would raise."""
    if not isinstance(body, dict):
        raise PayloadError(path, f"expected a JSON object, got {type(body).__name__}")
    return body


def names_in(event: Event) -> dict[str, str]:
    """User id -> display name of everyone the event names (to name a warned user)."""
    people: list[Actor | None] = [event.envelope.actor]
    for attr in ("member", "inviter", "removed_by"):
        people.append(getattr(event.payload, attr, None))
    return {a.id: a.display_name for a in people if a is not None and a.display_name}


# ---------------------------------------------------------------- reading payloads


def read_payloads(
    source: str, is_payload: Callable[[object], bool], only: Sequence[str] = ()
) -> list[Payload]:
    """The payloads in ``source`` (a path, or ``-`` for stdin).

    Accepted: one XML document; one JSON payload; a JSON list of them; a JSON
    object of named payloads (or lists of them), keys starting with ``_`` left
    out, as in ``tests/adapters/samples/``; JSON lines, one payload a line.
    """
    name = "stdin" if source == "-" else Path(source).name
    raw = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    text = raw.strip()
    if text.startswith("<"):
        found = [Payload(name, text)]
    else:
        try:
            found = list(_walk(name, json.loads(text), is_payload, top=True))
        except json.JSONDecodeError:
            found = [
                Payload(f"{name}:{n}", _json_line(line, name, n))
                for n, line in enumerate(raw.splitlines(), start=1)
                if line.strip()
            ]
    if only:
        found = [p for p in found if any(_named(p.label, want) for want in only)]
        if not found:
            raise SystemExit(f"no payload named {', '.join(only)} in {name}")
    return found


def _json_line(line: str, name: str, number: int) -> object:
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise SystemExit(f"{name}:{number}: neither JSON nor JSON lines: {exc}") from None


def _walk(
    label: str, value: object, is_payload: Callable[[object], bool], *, top: bool
) -> Iterator[Payload]:
    if isinstance(value, list):
        for i, item in enumerate(value):
            yield from _walk(f"{label}[{i}]", item, is_payload, top=False)
    elif top and isinstance(value, dict) and not is_payload(value):
        for key, item in value.items():
            if not str(key).startswith("_"):
                yield from _walk(f"{label}:{key}", item, is_payload, top=False)
    else:
        yield Payload(label, value)


def _named(label: str, want: str) -> bool:
    """``file.json:chat_join_request`` and ``file.json:issue_1107[0]`` are named by their key."""
    _, _, key = label.partition(":")
    return key == want or key.split("[", 1)[0] == want


# ---------------------------------------------------------------- the loop


@dataclass
class Loop:
    spec: Spec
    client: FirekeeperClient
    out: TextIO
    as_json: bool = False
    registration: Callable[[ChatKey], ChatRegistration] | None = None
    registered: set[ChatKey] = field(default_factory=set)
    versions: dict[str, str] = field(default_factory=dict)  # WeCom: last member-list version
    failures: int = 0

    def feed(self, payload: Payload) -> None:
        try:
            translation = self.spec.translate(payload.body)
        except (PayloadError, MissingContext) as exc:
            self.failures += 1
            self._emit(payload.label, "error", error=str(exc))
            return
        hint = translation.sequence_hint
        if hint is not None:
            last = self.versions.get(hint.key)
            order = "in order" if last in (None, hint.previous) else f"OUT OF ORDER (last {last})"
            self._emit(
                payload.label, "sequence", previous=hint.previous, current=hint.current, order=order
            )
            self.versions[hint.key] = hint.current
        if not translation.events and not translation.skipped:
            self._emit(payload.label, "skipped", reason="no event and no note")
        for note in translation.skipped:
            self._emit(payload.label, "skipped", reason=note.reason, native_type=note.native_type)
        for event in translation.events:
            self._decide(payload.label, event)

    def _decide(self, label: str, event: Event) -> None:
        env = event.envelope
        key = ChatKey(env.platform, env.tenant, env.chat_id)
        if self.registration is not None and key not in self.registered:
            self.client.register_chat(self.registration(key))
            self.registered.add(key)
        try:
            decision = self.client.evaluate(event)
        except ClientError as exc:
            if exc.code_name in UNREACHABLE:
                raise  # the service is not there: stop, main() says so
            self.failures += 1
            self._emit(label, "error", event_id=env.event_id, error=str(exc), field=exc.field)
            return
        self._emit_decision(label, event, decision)
        ctx = self.spec.call_context(event)
        for action in decision.actions:
            try:
                calls = calls_for_action(self.spec.platform, action, ctx)
            except (MissingContext, UnmappableAction) as exc:
                self.failures += 1
                self._emit(label, "unmapped", action=action.type.value, error=str(exc))
                continue
            for call in calls:
                self._emit_call(label, call)

    # ------------------------------------------------------------ output

    def _emit_decision(self, label: str, event: Event, decision: Decision) -> None:
        fired = [m.rule_id for m in decision.trace]
        if self.as_json:
            self._emit(
                label,
                "decision",
                event_id=decision.event_id,
                kind=event.kind.value,
                chat_id=event.envelope.chat_id,
                ruleset=f"{decision.ruleset}@{decision.ruleset_version}",
                actions=[a.type.value for a in decision.actions],
                rules=fired,
                replayed=decision.replayed,
            )
            return
        actions = ", ".join(a.type.value for a in decision.actions) or "no actions"
        replay = " (replayed)" if decision.replayed else ""
        rules = f" [rules: {', '.join(fired)}]" if fired else ""
        self.out.write(
            f"{label}: {decision.event_id} {event.kind.value} in chat {event.envelope.chat_id}"
            f" -> {actions}{replay}{rules}\n"
        )

    def _emit_call(self, label: str, call: PlatformCall) -> None:
        if self.as_json:
            self._emit(
                label,
                "call",
                method=call.method,
                route=call.route,
                params=dict(call.params),
                action=call.action.value if call.action else "",
                rule_id=call.rule_id,
                fallback=call.fallback,
                note=call.note,
            )
            return
        target = f"{call.method} {call.route}" if call.route else call.method
        body = json.dumps(dict(call.params), ensure_ascii=False, sort_keys=True, default=str)
        self.out.write(f"    {target} {body}\n" if not call.is_noop else "    (no call)\n")
        if call.note:
            self.out.write(f"      note: {call.note}\n")

    def _emit(self, label: str, record_type: str, **fields: Any) -> None:
        if self.as_json:
            record = {"payload": label, "type": record_type, **fields}
            self.out.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
            return
        kind = record_type
        if kind == "skipped":
            what = f" ({fields['native_type']})" if fields.get("native_type") else ""
            self.out.write(f"{label}: skipped{what}: {fields['reason']}\n")
        elif kind == "sequence":
            self.out.write(
                f"{label}: member-list version {fields['previous']} -> {fields['current']},"
                f" {fields['order']}\n"
            )
        elif kind == "unmapped":
            self.out.write(f"    cannot map {fields['action']}: {fields['error']}\n")
        else:
            self.out.write(f"{label}: {kind}: {fields.get('error', '')}\n")


def call_time(args: argparse.Namespace, event: Event) -> datetime:
    return parse_time(args.now, "--now") if args.now else event.envelope.occurred_at


def run(spec: Spec, args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """Feed every payload. Exit status: 0 all went through, 1 some failed, 3 no service."""
    payloads = read_payloads(args.source, spec.is_payload, args.only)
    params = pairs(args.param, "--param")

    def registration(key: ChatKey) -> ChatRegistration:
        return ChatRegistration(
            key=key,
            kind=args.register,
            ruleset=args.ruleset,
            member_count=args.member_count,
            params=params,
        )

    with FirekeeperClient(args.target, timeout=args.timeout, retries=args.retries) as client:
        loop = Loop(
            spec,
            client,
            out,
            as_json=args.json,
            registration=registration if args.register else None,
        )
        try:
            for payload in payloads:
                loop.feed(payload)
        except ClientError as exc:
            if exc.code_name in UNREACHABLE:
                print(
                    f"firekeeper at {args.target} did not answer ({exc});"
                    " is `firekeeper serve` running there?",
                    file=sys.stderr,
                )
                return 3
            print(f"error: {exc}", file=sys.stderr)  # e.g. a registration the service refused
            return 1
    return 1 if loop.failures else 0
