"""Admins' corrections of decisions, as values (``firekeeper.areas.corrections.admin`` acts
on them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from firekeeper.domain.chats import ChatKey


class CorrectionKind(enum.StrEnum):
    NOT_SPAM = "not_spam"  # a message a rule acted on was fine: a false positive
    MISSED_SPAM = "missed_spam"  # a message no rule acted on was spam: a false negative
    JOIN_WAS_FINE = "join_was_fine"  # a join a rule held, denied or removed was fine


#: the kinds that count as a false positive of the rules that acted
FALSE_POSITIVE_KINDS = frozenset({CorrectionKind.NOT_SPAM, CorrectionKind.JOIN_WAS_FINE})


@dataclass(frozen=True, slots=True)
class CorrectionRequest:
    chat: ChatKey
    kind: CorrectionKind
    reporter_id: str  # the admin's member id in that chat
    event_id: str = ""  # the corrected decision's event (missed_spam: or give text)
    text: str = ""  # missed_spam without an event id: the message text
    lang: str = ""  # BCP 47 tag of the text, when known
    note: str = ""


@dataclass(frozen=True, slots=True)
class Correction:
    """A stored correction."""

    id: int
    chat: ChatKey
    kind: CorrectionKind
    reporter_id: str
    event_id: str
    ruleset: str
    rule_ids: tuple[str, ...]  # the rules whose actions were wrong (empty for missed_spam)
    label: str  # the sample it made: spam, ham, or "" (a join)
    reported_at: datetime
    decided_at: datetime | None  # when the corrected decision was made (None: no decision)
    note: str = ""


@dataclass(frozen=True, slots=True)
class CorrectionOutcome:
    correction: Correction
    stored: bool  # False: the same correction was already stored (nothing changed)


@dataclass(frozen=True, slots=True)
class RuleCorrections:
    """One rule's record over a time range: how often it acted, how often wrongly."""

    ruleset: str
    rule_id: str  # "" for missed spam: no rule acted
    actions: int  # decisions in which the rule returned an action
    false_positives: int  # of those, corrected as not_spam or join_was_fine
    missed: int = 0  # missed_spam corrections (rule_id "")

    @property
    def false_positive_rate(self) -> float | None:
        """false_positives / actions; None when the rule never acted."""
        return self.false_positives / self.actions if self.actions else None
