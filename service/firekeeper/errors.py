"""Every error Firekeeper raises on purpose, in one tree.

    FirekeeperError
    ├── RulesetError            a ruleset does not parse, validate or compile;
    │                           carries every Diagnostic (file:line:col, path, hint)
    ├── InvalidEvent            an event or request is malformed; carries the field
    │                           path and the reason (gRPC INVALID_ARGUMENT)
    ├── UnknownRuleset          a chat names a ruleset that is not loaded (NOT_FOUND)
    ├── ChatNotFound            GetChat on a chat never seen (NOT_FOUND)
    ├── HeldJoinNotFound        no join of that member is in the chat's review
    │                           queue (NOT_FOUND)
    ├── AlreadyResolved         a held join was already decided the other way
    │                           (FAILED_PRECONDITION)
    ├── InvalidParam            a parameter override does not fit the declared
    │                           type (INVALID_ARGUMENT)
    ├── StoreUnavailable        the database cannot be reached; nothing was
    │                           written (UNAVAILABLE: safe to retry)
    ├── DuplicateEvent          (firekeeper.store) a concurrent retry stored the
    │                           same event first; the pipeline answers with
    │                           the stored decision
    ├── NotAnAdmin              a correction's reporter is not an admin or the
    │                           owner of the chat (PERMISSION_DENIED)
    ├── DecisionNotFound        no decision is stored for that event in that
    │                           chat (NOT_FOUND)
    ├── NotCorrectable          the decision cannot be corrected that way: no
    │                           rule acted, or the wrong event kind
    │                           (FAILED_PRECONDITION)
    ├── SamplesError            (firekeeper.learned.samples) labelled samples that
    │                           cannot be read; names the file and line
    ├── SpamModelFileError      (firekeeper.learned.artefact) a spam model file that
    │                           cannot be read or is not a model
    └── TrainError              (firekeeper.learned.train) training cannot run:
                                scikit-learn missing, one label only

Exactly one place, ``firekeeper.api.status``, maps these to gRPC status codes.
Messages say what to do, not only what went wrong.
"""

from __future__ import annotations

from dataclasses import dataclass


class FirekeeperError(Exception):
    """Root of every error Firekeeper raises on purpose."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One located problem in a ruleset file."""

    file: str
    line: int  # 1-based; 0 when unknown
    column: int  # 1-based; 0 when unknown
    message: str
    path: str = ""  # dotted path in the document, e.g. "rules[2].when"
    hint: str = ""

    def render(self) -> str:
        """rustc-style rendering: ``error: msg\\n  --> file:line:col (path)\\n  = hint: ...``."""
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        out = f"error: {self.message}\n  --> {where}"
        if self.path:
            out += f" ({self.path})"
        if self.hint:
            out += f"\n  = hint: {self.hint}"
        return out


class RulesetError(FirekeeperError):
    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=lambda d: (d.file, d.line, d.column))
        n = len(self.diagnostics)
        super().__init__(
            f"{n} error{'s' if n != 1 else ''} in rulesets:\n"
            + "\n".join(d.render() for d in self.diagnostics)
        )


class InvalidEvent(FirekeeperError):
    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


class InvalidParam(FirekeeperError):
    def __init__(self, name: str, reason: str) -> None:
        self.field = f"params[{name}]"
        self.reason = reason
        super().__init__(f"parameter {name!r}: {reason}")


class UnknownRuleset(FirekeeperError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        super().__init__(
            f"no ruleset named {name!r} is loaded; loaded rulesets: {', '.join(sorted(known))}"
        )


class ChatNotFound(FirekeeperError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"chat {key} is not known: register it with RegisterChat or send an event")


class StoreUnavailable(FirekeeperError):
    def __init__(self, detail: str) -> None:
        super().__init__(f"the state store is unavailable, nothing was written; retry: {detail}")


class HeldJoinNotFound(FirekeeperError):
    def __init__(self, chat: str, user_id: str) -> None:
        self.chat, self.user_id = chat, user_id
        super().__init__(
            f"no join of user {user_id!r} is in the review queue of chat {chat}: "
            "list the queue with ListHeldJoins"
        )


class AlreadyResolved(FirekeeperError):
    def __init__(self, chat: str, user_id: str, status: str) -> None:
        self.chat, self.user_id, self.status = chat, user_id, status
        super().__init__(
            f"the held join of user {user_id!r} in chat {chat} was already {status}; "
            "a decision is not reversed here: use the platform, or the blocklist"
        )


class NotAnAdmin(FirekeeperError):
    def __init__(self, chat: str, user_id: str) -> None:
        self.user_id = user_id
        super().__init__(
            f"user {user_id!r} is not an admin or the owner of chat {chat} as the store knows "
            "it, so the correction was refused: only a chat's admins may correct its "
            "decisions (reporter_id is the admin's member id in that chat)"
        )


class DecisionNotFound(FirekeeperError):
    def __init__(self, chat: str, event_id: str) -> None:
        self.chat = chat
        self.event_id = event_id
        super().__init__(
            f"no decision is stored for event {event_id!r} in chat {chat}: give the event id "
            "of a decision of that chat (the decision log keeps them "
            "FIREKEEPER_DECISION_RETENTION_DAYS days)"
        )


class NotCorrectable(FirekeeperError):
    def __init__(self, event_id: str, reason: str) -> None:
        super().__init__(f"the decision on event {event_id!r} cannot be corrected so: {reason}")
