"""Turn the rules that matched into a Decision. Pure.

Ordering: enforced rules' actions by rule priority (higher first), then
ruleset order, then the order the rule lists them. De-duplication: the same
action on the same target is kept once (texts are part of the identity of
warn, notify and post, so two different notices both go out). Conflicts are
resolved toward the stronger action on the same member: ban > remove > mute;
deny_join > hold_for_review > approve_join.

One voice per chat: on a ``chat.tick`` (the scheduler's proactive round) at most
one enforced rule speaks (warns, notifies the admins or posts): the first by
priority, then ruleset order. The others that matched stay in the trace with
``silenced_by`` naming it, and their actions are dropped, so a chat gets one
reminder per period whichever rules fire (the reminder clock,
``chat.days_since_reminder``, then keeps the next one to its interval).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol, TypeVar

from firekeeper.domain.decisions import Action, ActionType, Decision, RuleMatch, RuleMode
from firekeeper.domain.events import ChatTick, Event, MessagePosted
from firekeeper.rules import language as lang_
from firekeeper.rules import templates
from firekeeper.rules.facts import lookup
from firekeeper.rules.language import Localized

_TEXTUAL = frozenset(
    {
        ActionType.WARN_USER,
        ActionType.NOTIFY_ADMINS,
        ActionType.POST_MESSAGE,
        ActionType.MESSAGE_USER,
    }
)
_USER_TARGETED = frozenset(
    {
        ActionType.WARN_USER,
        ActionType.MESSAGE_USER,
        ActionType.MUTE,
        ActionType.REMOVE,
        ActionType.BAN,
        ActionType.APPROVE_JOIN,
        ActionType.DENY_JOIN,
        ActionType.HOLD_FOR_REVIEW,
    }
)
# (weaker, stronger): drop the weaker when the stronger targets the same user.
_SUBSUMED = (
    (ActionType.MUTE, ActionType.REMOVE),
    (ActionType.MUTE, ActionType.BAN),
    (ActionType.REMOVE, ActionType.BAN),
    (ActionType.APPROVE_JOIN, ActionType.DENY_JOIN),
    (ActionType.APPROVE_JOIN, ActionType.HOLD_FOR_REVIEW),
    (ActionType.HOLD_FOR_REVIEW, ActionType.DENY_JOIN),
)


class _Template(Protocol):
    @property
    def type(self) -> ActionType: ...
    @property
    def text(self) -> str: ...
    @property
    def duration_seconds(self) -> int: ...
    @property
    def target(self) -> str: ...
    @property
    def texts(self) -> Localized: ...


class _Rule(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def mode(self) -> RuleMode: ...
    @property
    def reason(self) -> str: ...
    @property
    def priority(self) -> int: ...
    @property
    def fields(self) -> tuple[str, ...]: ...
    @property
    def actions(self) -> Sequence[_Template]: ...
    @property
    def reasons(self) -> Localized: ...
    @property
    def durations(self) -> frozenset[str]: ...


_R = TypeVar("_R", bound=_Rule)


def render(
    text: str,
    fact: Mapping[str, Any],
    language: str = "en",
    durations: frozenset[str] = frozenset(),
) -> str:
    """Fill ``{field.path}`` placeholders from the fact, for a reader of ``language``;
    unknown values render as ``?``. Durations (``durations``: their paths) read "3 天" /
    "3 days", shares and ratios as percentages, a value given in several languages
    (:class:`Localized`) in ``language``; ``{mention}`` is left for the adapter.

    The compiler has already checked every template, so this cannot fail on a
    compiled rule's text.
    """

    def one(path: str) -> str:
        if path == templates.MENTION:
            return templates.MENTION_TOKEN
        present, value = lookup(fact, path)
        if path.endswith(".display_name") and not value:
            # platforms that send no names (WeCom callbacks): the person's id, never a gap
            present, value = lookup(fact, path.removesuffix("display_name") + "id")
        return _for_people(path, value, language, durations) if present else "?"

    return templates.render(text, one)


def _for_people(path: str, value: Any, language: str, durations: frozenset[str]) -> str:
    if isinstance(value, Localized):
        out = value.get(language)
    elif isinstance(value, bool):
        out = lang_.yes_no(value, language)
    elif isinstance(value, list):
        out = lang_.join([str(v) for v in value], language)
    elif path in durations and isinstance(value, int | float):
        out = lang_.duration(int(value), language)
    elif isinstance(value, int | float):
        share = path.endswith(("_share", "_ratio"))
        out = lang_.number(value, language, share=share)
    else:
        out = str(value)
    return out.replace(templates.MENTION_TOKEN, "{ mention }")


def _json(value: Any) -> str:
    if isinstance(value, Localized):
        value = dict(value.texts)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def trace_values(fields: Sequence[str], fact: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    out = []
    for path in fields:
        present, value = lookup(fact, path)
        out.append((path, _json(value) if present else "absent"))
    return tuple(out)


def _default_target(fact: Mapping[str, Any]) -> str:
    for who in ("member", "actor"):
        present, value = lookup(fact, f"{who}.id")
        if present and value:
            return str(value)
    return ""


def _target(template: _Template, fact: Mapping[str, Any]) -> str:
    if template.type not in _USER_TARGETED:
        return ""
    if template.target:
        present, value = lookup(fact, f"{template.target}.id")
        return str(value) if present and value else ""
    return _default_target(fact)


def _resolve(actions: list[Action]) -> list[Action]:
    seen: set[tuple[object, ...]] = set()
    kept: list[Action] = []
    for a in actions:
        key: tuple[object, ...] = (a.type, a.target_user_id, a.target_message_id)
        if a.type in _TEXTUAL:
            key += (a.text,)
        if key not in seen:
            seen.add(key)
            kept.append(a)
    present = {(a.type, a.target_user_id) for a in kept}
    return [
        a
        for a in kept
        if not any(
            weak == a.type and (strong, a.target_user_id) in present for weak, strong in _SUBSUMED
        )
    ]


def _one_voice(ordered: list[_R]) -> tuple[list[_R], dict[str, str]]:
    """Keep the first rule that speaks; later speakers are silenced (rule id -> by whom)."""
    speaker = ""
    kept: list[_R] = []
    silenced: dict[str, str] = {}
    for r in ordered:
        if any(t.type in _TEXTUAL for t in r.actions):
            if speaker:
                silenced[r.id] = speaker
                continue
            speaker = r.id
        kept.append(r)
    return kept, silenced


def decide(
    event: Event,
    matched: Sequence[_Rule],
    fact: Mapping[str, Any],
    ruleset: str,
    version: str,
    decided_at: datetime,
    language: str = "",
    *,
    language_source: str = "",
    skipped_stages: tuple[str, ...] = (),
) -> Decision:
    """``language``: the chat's, one of the ruleset's (firekeeper.rules.language.choose);
    empty: each text's first (the ruleset's default). ``language_source`` and
    ``skipped_stages`` are recorded in the decision as given."""
    env = event.envelope
    message_id = event.payload.message_id if isinstance(event.payload, MessagePosted) else ""
    trace = tuple(
        RuleMatch(
            r.id,
            r.mode,
            _render(_pick(r.reasons, r.reason, language), fact, r.durations),
            trace_values(r.fields, fact),
        )
        for r in matched
        if r.mode != RuleMode.OFF
    )
    ordered = sorted(
        (r for r in matched if r.mode == RuleMode.ENFORCE),
        key=lambda r: -r.priority,  # stable: ruleset order within a priority
    )
    if isinstance(event.payload, ChatTick):
        ordered, silenced = _one_voice(ordered)
        if silenced:
            trace = tuple(
                replace(m, silenced_by=silenced[m.rule_id]) if m.rule_id in silenced else m
                for m in trace
            )
    actions = [
        Action(
            type=t.type,
            rule_id=r.id,
            target_user_id=_target(t, fact),
            target_message_id=message_id if t.type == ActionType.DELETE_MESSAGE else "",
            text=_render(_pick(t.texts, t.text, language), fact, r.durations) if t.text else "",
            mention_user_id=_mention(t, fact),
            duration_seconds=t.duration_seconds,
            chat_id=env.chat_id,
            channel_id=env.channel_id,
        )
        for r in ordered
        for t in r.actions
    ]
    return Decision(
        event_id=env.event_id,
        actions=tuple(_resolve(actions)),
        trace=trace,
        ruleset=ruleset,
        ruleset_version=version,
        decided_at=decided_at,
        language=language,
        language_source=language_source,
        skipped_stages=skipped_stages,
    )


def _render(picked: tuple[str, str], fact: Mapping[str, Any], durations: frozenset[str]) -> str:
    return render(picked[0], fact, picked[1], durations)


def _pick(texts: Localized, default: str, language: str) -> tuple[str, str]:
    """The text for a reader of ``language`` and the language it is in."""
    if not texts.texts:
        return default, language or "en"
    if not language:
        return texts.texts[0][1], texts.texts[0][0]
    return texts.get(language), language


def _mention(template: _Template, fact: Mapping[str, Any]) -> str:
    """Whom the text's ``{mention}`` names: the member the warning is for."""
    if templates.MENTION_TOKEN not in (template.text or "") and not any(
        templates.MENTION_TOKEN in text for _, text in template.texts.texts
    ):
        return ""
    return _target(template, fact)
