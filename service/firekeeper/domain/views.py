"""Read-side values the service answers with: a chat as the API shows it, a loaded ruleset.

Pure data, no I/O. The pipeline builds these; the API layer converts them to
protobuf messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from firekeeper.domain.chats import ChatRecord


@dataclass(frozen=True, slots=True)
class ChatView:
    """A chat's stored record plus what its ruleset makes of it."""

    chat: ChatRecord
    effective_params: dict[str, str] = field(default_factory=dict)  # defaults merged with overrides
    size_tier: str = ""  # small | middle | large


@dataclass(frozen=True, slots=True)
class RulesetSummary:
    """What ListRulesets tells about one loaded ruleset."""

    name: str
    version: str
    kind: str
    description: str = ""
    rule_count: int = 0
    params: tuple[tuple[str, str, str], ...] = ()  # (name, value as YAML scalar, description)
    source: str = ""  # file name the ruleset was loaded from
    extends: str = ""
