"""Inputs of ``firekeeper explain`` and ``replay``: chat state files and event files.

A chat state file (``--chat`` / ``--chats``) gives the starting state of chats,
with the keys of a ruleset test (docs/ruleset-tests.md)::

    ruleset: hobby                      # optional: else the decision's or the kind's default
    chat: {member_count: 150, age: 30d, owner: olga}
    members: [{id: olga, role: owner}]
    chats:                              # optional: per chat id, replacing the keys above
      "-100123": {chat: {member_count: 40}}

Ages are measured back from the chat's first event. An event is either the
compact form of a test step (``{kind: member.joined, member: carol}``), the
store's event JSON (``firekeeper.store.codec``), or a line of ``firekeeper export``
(``{"event": ..., "decision": ...}``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, StrictStr

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event, Platform
from firekeeper.errors import Diagnostic, FirekeeperError
from firekeeper.rules.source import load
from firekeeper.store.codec import CodecError, decision_from_json, event_from_json
from firekeeper.tools.events import EventContext, StepError, build_event, step_time
from firekeeper.tools.suite import DEFAULT_START, ChatState, MemberState, validate


class InputError(FirekeeperError):
    """An input file of a tool cannot be used; the message says where and why."""


class ChatSetup(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    ruleset: StrictStr | None = None
    chat: ChatState = ChatState()
    members: list[MemberState] = []


class StateFile(ChatSetup):
    chats: dict[StrictStr, ChatSetup] = {}

    def setup_for(self, chat_id: str) -> ChatSetup:
        own = self.chats.get(chat_id)
        if own is None:
            return ChatSetup(ruleset=self.ruleset, chat=self.chat, members=self.members)
        return ChatSetup(
            ruleset=own.ruleset or self.ruleset,
            chat=own.chat if "chat" in own.model_fields_set else self.chat,
            members=own.members if "members" in own.model_fields_set else self.members,
        )


def read_state(path: Path | None) -> StateFile:
    """The state file at ``path`` (an empty state without one); InputError when invalid."""
    if path is None:
        return StateFile()
    text = _read(path)
    doc, problems = load(str(path), text)
    state = validate(StateFile, doc.data, (), doc, problems) if doc is not None else None
    if problems or state is None:
        raise InputError(_render(problems) or f"{path}: not a chat state file")
    return state


@dataclass(frozen=True)
class Recorded:
    """One event to evaluate, and the decision recorded for it (from an export), if any."""

    event: Event
    recorded: Decision | None = None
    line: int = 0


def parse_event(data: object, *, where: str, start: datetime = DEFAULT_START) -> Recorded:
    """An event in any of the three forms (see the module docstring)."""
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: an event must be a JSON/YAML object")
    try:
        if isinstance(data.get("event"), Mapping):
            recorded = data.get("decision")
            return Recorded(
                event_from_json(data["event"]),
                decision_from_json(recorded) if isinstance(recorded, Mapping) else None,
            )
        if "envelope" in data:
            return Recorded(event_from_json(data))
    except CodecError as exc:
        raise InputError(f"{where}: {exc}") from None
    try:
        when = step_time(data, start, None)
        ctx = EventContext(
            platform=Platform(str(data.get("platform", Platform.TELEGRAM.value))),
            tenant=str(data.get("tenant", "tests")),
            chat_id=str(data.get("chat", "chat")),
            occurred_at=when,
            event_id=str(data.get("id", "explain-1")),
        )
        extra = {k: v for k, v in data.items() if k not in ("platform", "tenant", "chat")}
        return Recorded(build_event(extra, ctx))
    except StepError as exc:
        at = ".".join(str(p) for p in exc.path)
        hint = f" ({exc.hint})" if exc.hint else ""
        raise InputError(f"{where}{' at ' + at if at else ''}: {exc.message}{hint}") from None
    except ValueError as exc:
        raise InputError(f"{where}: {exc}") from None


def read_event(path: Path) -> Recorded:
    """One event from a JSON or YAML file."""
    text = _read(path)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not JSON or YAML: {exc}") from None
    return parse_event(data, where=str(path))


def read_events(path: Path) -> Iterator[Recorded]:
    """Events of a JSON Lines file (``-`` for stdin is not supported: pass a file)."""
    try:
        with path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                try:
                    data: Any = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}:{number}: not JSON: {exc.msg}") from None
                item = parse_event(data, where=f"{path}:{number}")
                yield Recorded(item.event, item.recorded, number)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from None


def has_decisions(path: Path) -> bool:
    """Whether the file's first event line carries a recorded decision (an export)."""
    try:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip() and not line.lstrip().startswith("#"):
                    return '"decision"' in line
    except (OSError, UnicodeDecodeError):
        return False
    return False


def count_lines(path: Path) -> int:
    try:
        with path.open("rb") as f:
            return sum(1 for line in f if line.strip())
    except OSError:
        return 0


def chat_key(event: Event) -> ChatKey:
    env = event.envelope
    return ChatKey(env.platform, env.tenant, env.chat_id)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None


def _render(problems: list[Diagnostic]) -> str:
    return "\n".join(d.render() for d in problems)
