"""One rule from its (possibly inherited and overridden) spec to a CompiledRule.

A rule in a ruleset that ``extends`` another replaces the parent's rule of the
same id; keys it leaves out are inherited from the parent's rule, so
``{id: size.hard_cap, mode: off}`` disables one. Problems are reported where
the offending key was written, in whichever file that is.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from firekeeper.domain.decisions import ActionType, RuleMode
from firekeeper.domain.events import EventKind
from firekeeper.errors import Diagnostic
from firekeeper.rules.checker import UNKNOWN_TYPE, check_all, field_refs, field_type
from firekeeper.rules.conditions import Condition, ConditionError, parse
from firekeeper.rules.language import Localized
from firekeeper.rules.params import ParamDef, parse_duration
from firekeeper.rules.source import Document, Path
from firekeeper.rules.spec import ActionSpec, RuleEntry
from firekeeper.rules.templates import MENTION, placeholders
from firekeeper.rules.vocabulary import PARAMS_PREFIX, Vocabulary

NEEDS_TEXT = frozenset(
    {
        ActionType.WARN_USER,
        ActionType.NOTIFY_ADMINS,
        ActionType.POST_MESSAGE,
        ActionType.MESSAGE_USER,
    }
)
NEEDS_DURATION = frozenset({ActionType.MUTE, ActionType.SET_SLOW_MODE, ActionType.PAUSE_INVITES})
TAKES_TARGET = frozenset(
    {
        ActionType.WARN_USER,
        ActionType.MUTE,
        ActionType.REMOVE,
        ActionType.BAN,
        ActionType.MESSAGE_USER,
    }
)
_JOINS = frozenset({EventKind.MEMBER_JOINED, EventKind.JOIN_REQUESTED})
ONLY_ON: Mapping[ActionType, frozenset[EventKind]] = {
    ActionType.DELETE_MESSAGE: frozenset({EventKind.MESSAGE_POSTED}),
    ActionType.APPROVE_JOIN: _JOINS,
    ActionType.DENY_JOIN: _JOINS,
    ActionType.HOLD_FOR_REVIEW: _JOINS,
}
TARGET_ON: Mapping[str, frozenset[EventKind] | None] = {
    "actor": None,
    "member": frozenset(
        {
            EventKind.MEMBER_JOINED,
            EventKind.JOIN_REQUESTED,
            EventKind.MEMBER_LEFT,
            EventKind.ROLE_CHANGED,
        }
    ),
    "inviter": _JOINS,
}
_KEYS = ("id", "on", "when", "mode", "reason", "priority", "actions")


DEFAULT_LANGUAGES = ("en",)  # a ruleset that declares no `languages`


@dataclass(frozen=True, slots=True)
class ActionTemplate:
    type: ActionType
    text: str = ""  # in the ruleset's default language
    duration_seconds: int = 0
    target: str = ""  # "" = the action's default target
    texts: Localized = field(default_factory=Localized.none)  # in each of the ruleset's languages


@dataclass(frozen=True, slots=True)
class CompiledRule:
    id: str
    on: EventKind
    mode: RuleMode
    reason: str
    priority: int
    actions: tuple[ActionTemplate, ...]
    condition: Condition | None
    fields: tuple[str, ...]  # paths the condition reads, in order of appearance
    file: str
    line: int
    reasons: Localized = field(default_factory=Localized.none)  # in each of the ruleset's languages
    # placeholders of the reason and texts by type, for rendering them for people
    durations: frozenset[str] = frozenset()  # paths of duration values


@dataclass(frozen=True)
class RuleSource:
    """A rule's merged keys and where each was written."""

    values: Mapping[str, object]
    where: Mapping[str, tuple[Document, Path]]
    rule: tuple[Document, Path]  # the most derived definition
    # keys the most derived definition wrote wrongly (reported while reading it)
    rejected: frozenset[str] = frozenset()

    def override(self, entry: RuleEntry, doc: Document) -> RuleSource:
        values, where = dict(self.values), dict(self.where)
        base: Path = ("rules", entry.index)
        for key in _KEYS:
            if key in entry.given:
                values[key] = entry.actions if key == "actions" else getattr(entry.spec, key)
                where[key] = (doc, (*base, key))
        return RuleSource(values, where, (doc, base), entry.rejected)

    @staticmethod
    def new(entry: RuleEntry, doc: Document) -> RuleSource:
        return RuleSource({}, {}, (doc, ("rules", entry.index))).override(entry, doc)

    def at(
        self, key: str, message: str, hint: str = "", offset: int = -1, sub: Path = ()
    ) -> Diagnostic:
        doc, path = self.where.get(key, self.rule)
        return doc.diagnostic((*path, *sub), message, hint, offset=offset)


@dataclass
class BuiltRule:
    rule: CompiledRule
    types: Mapping[str, str] = field(default_factory=dict)  # field types for lowering
    source: RuleSource | None = None


def build_rule(
    src: RuleSource,
    params: Mapping[str, ParamDef],
    problems: list[Diagnostic],
    *,
    lenient: bool,
    unknown: frozenset[str] = frozenset(),
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    vocabulary: Vocabulary,
) -> BuiltRule | None:
    """The compiled rule, or None after adding its problems, its condition and texts typed
    against ``vocabulary``. ``lenient``: the rule was already
    rejected while reading it; report what else is wrong but not what follows from that.
    ``unknown``: parameters declared where their definition failed (reported there): a
    rule reading one is not checked on it. ``languages``: those the ruleset ships; every
    text and the reason has each."""
    before = len(problems)
    values = src.values
    rule_id = str(values["id"])
    on = values.get("on")
    reason = values.get("reason")
    if not isinstance(on, EventKind) and "on" not in src.rejected:
        problems.append(
            src.at("id", "missing required key 'on'", "the event kind, e.g. `on: message.posted`")
        )
    if "reason" in src.rejected:
        reason = None
    elif not _given(reason):
        problems.append(
            src.at(
                "id",
                "missing required key 'reason'",
                "say why the rule exists; it is shown in every decision",
            )
        )
    mode = values.get("mode") or RuleMode.ENFORCE
    assert isinstance(mode, RuleMode)
    priority = values.get("priority") or 0
    assert isinstance(priority, int)
    given_reason = isinstance(reason, str | dict) and _given(reason)
    if not lenient and (not isinstance(on, EventKind) or not given_reason):
        return None
    # a rejected rule is still checked, so one run reports all of its problems; without
    # a valid `on` its fields are checked against every event kind
    kind = on if isinstance(on, EventKind) else None
    param_types = {name: UNKNOWN_TYPE for name in unknown} | {
        name: p.type for name, p in params.items()
    }
    durations: set[str] = set()

    def reason_problem(message: str, hint: str, offset: int, sub: Path = ()) -> None:
        problems.append(src.at("reason", message, hint, offset, sub))

    reasons = (
        localized(reason, languages, reason_problem, what="reason")
        if isinstance(reason, str | dict) and given_reason
        else None
    )
    for lang, text in reasons.texts if reasons is not None else ():  # rendered like texts
        sub: Path = (lang,) if isinstance(reason, dict) else ()
        _template(
            text,
            kind,
            param_types,
            lambda m, h, o, sub=sub: reason_problem(m, h, o, sub),  # type: ignore[misc]
            durations,
            mention=False,
            vocabulary=vocabulary,
        )
    condition, types = _condition(src, kind, param_types, problems, vocabulary)
    # "an enforced rule needs an action" follows from a rejected rule only when its actions
    # or its mode were what was wrong, or a key the format does not know (`actoins:`)
    doubtful = {k for k in src.rejected if k in ("actions", "mode") or k not in _KEYS}
    shadowed = RuleMode.SHADOW if lenient and doubtful else mode
    actions = _actions(
        src, kind, shadowed, param_types, problems, languages, durations, vocabulary=vocabulary
    )
    if len(problems) > before or not isinstance(on, EventKind) or reasons is None:
        return None
    if condition is not None and any(
        ref.path.removeprefix(PARAMS_PREFIX) in unknown
        for ref in field_refs(condition)
        if ref.path.startswith(PARAMS_PREFIX)
    ):
        return None  # reads a parameter whose declaration failed: never compiled
    doc, path = src.rule
    line, _ = doc.position(path)
    rule = CompiledRule(
        rule_id,
        on,
        mode,
        reasons.texts[0][1],
        priority,
        actions,
        condition,
        tuple(types),
        doc.file,
        line,
        reasons=reasons,
        durations=frozenset(durations),
    )
    return BuiltRule(rule, types, src)


def _given(value: object) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, dict) and bool(value)


def localized(
    value: str | Mapping[str, str],
    languages: Sequence[str],
    fail: Callable[..., None],
    *,
    what: str = "text",
) -> Localized:
    """``value`` (one string or one per language) in each of ``languages``; problems go to
    ``fail(message, hint, offset, sub_path)``. What is there is kept, for further checks."""
    shipped = ", ".join(languages)
    example = "{" + ", ".join(f"{lang}: ..." for lang in languages) + "}"
    if isinstance(value, str):
        if len(languages) > 1:
            fail(
                f"this {what} is in one language only; the ruleset ships {shipped}",
                f"write it in each: `{what}: {example}`",
                -1,
                (),
            )
        return Localized(((languages[0], value),))
    texts: list[tuple[str, str]] = []
    for lang, text in value.items():
        if lang not in languages:
            close = difflib.get_close_matches(lang, list(languages), n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"add {lang} to `languages:`"
            fail(f"{lang!r} is not one of this ruleset's languages ({shipped})", hint, -1, (lang,))
        elif not text.strip():
            fail(f"the {lang} {what} is empty", "write it, or leave the language out", -1, (lang,))
    for lang in languages:
        if lang not in value:
            fail(
                f"no {lang} translation of this {what}",
                f"the ruleset ships {shipped}; add `{lang}: ...`",
                -1,
                (),
            )
    for lang in languages:
        if lang in value:
            texts.append((lang, value[lang]))
    return Localized(tuple(texts) or tuple(value.items()))


def missing_translations(
    rule: CompiledRule, languages: Sequence[str]
) -> list[tuple[str, Path, str]]:
    """(key, path under it, language) of the texts ``rule`` lacks a language of: for the
    rules a ruleset inherits."""
    out: list[tuple[str, Path, str]] = []
    for lang in languages:
        if lang not in rule.reasons.languages:
            out.append(("reason", (), lang))
        for j, action in enumerate(rule.actions):
            if action.texts.texts and lang not in action.texts.languages:
                out.append(("actions", (j, "text"), lang))
    return out


def _condition(
    src: RuleSource,
    on: EventKind | None,
    params: Mapping[str, str],
    problems: list[Diagnostic],
    vocabulary: Vocabulary,
) -> tuple[Condition | None, dict[str, str]]:
    text = src.values.get("when")
    if not isinstance(text, str):
        return None, {}
    try:
        node = parse(text)
    except ConditionError as exc:
        problems.append(src.at("when", exc.message, exc.hint, offset=exc.pos))
        return None, {}
    errors, checked = check_all(node, on, params, vocabulary)
    for error in errors:
        problems.append(src.at("when", error.message, error.hint, offset=error.pos))
    return node, dict(checked.types)


def _actions(
    src: RuleSource,
    on: EventKind | None,
    mode: RuleMode,
    params: Mapping[str, str],
    problems: list[Diagnostic],
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    durations: set[str] | None = None,
    *,
    vocabulary: Vocabulary,
) -> tuple[ActionTemplate, ...]:
    raw = src.values.get("actions") or ()
    assert isinstance(raw, tuple)
    if not raw and mode is RuleMode.ENFORCE:
        key = "actions" if "actions" in src.where else "id"
        problems.append(
            src.at(
                key,
                "an enforced rule needs at least one action",
                "add actions, or set `mode: shadow` to only record matches",
            )
        )
    out: list[ActionTemplate] = []
    for j, action in enumerate(raw):
        assert isinstance(action, ActionSpec)
        built = _action(
            src, j, action, on, params, problems, languages, durations, vocabulary=vocabulary
        )
        if built is not None:
            out.append(built)
    return tuple(out)


def _action(
    src: RuleSource,
    j: int,
    action: ActionSpec,
    on: EventKind | None,
    params: Mapping[str, str],
    problems: list[Diagnostic],
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    durations: set[str] | None = None,
    *,
    vocabulary: Vocabulary,
) -> ActionTemplate | None:
    before = len(problems)
    kind = action.type

    def fail(sub: str, message: str, hint: str = "", offset: int = -1, more: Path = ()) -> None:
        sub_path: Path = (j, sub, *more) if sub else (j,)
        problems.append(src.at("actions", message, hint, offset, sub_path))

    allowed = ONLY_ON.get(kind)
    if allowed is not None and on is not None and on not in allowed:
        kinds = ", ".join(sorted(k.value for k in allowed))
        fail("type", f"{kind.value} does not apply to {on.value} events", f"it applies to {kinds}")
    text = action.text
    texts = Localized(())
    if kind in NEEDS_TEXT and not _given(text):
        fail("", f"{kind.value} needs `text`", "the message to send; {placeholders} allowed")
    elif kind not in NEEDS_TEXT and text is not None:
        fail("text", f"{kind.value} takes no text")
    elif text:
        texts = localized(text, languages, lambda m, h, o, more: fail("text", m, h, o, more))
        for lang, one in texts.texts:
            more: Path = (lang,) if isinstance(text, dict) else ()
            _template(
                one,
                on,
                params,
                lambda m, h, o, more=more: fail("text", m, h, o, more),  # type: ignore[misc]
                durations,
                mention=kind is ActionType.WARN_USER,
                vocabulary=vocabulary,
            )
    seconds = 0
    if kind in NEEDS_DURATION:
        if action.duration is None:
            fail("", f"{kind.value} needs `duration`", "e.g. `duration: 10m`")
        else:
            value = action.duration
            parsed = parse_duration(value) if isinstance(value, str) else value
            if parsed is None or parsed <= 0:
                fail("duration", f"invalid duration {value!r}", "like 45s, 10m, 6h, 1d or 2w")
            else:
                seconds = parsed
    elif action.duration is not None:
        fail("duration", f"{kind.value} takes no duration")
    target = action.target or ""
    if target:
        if kind not in TAKES_TARGET:
            names = ", ".join(sorted(t.value for t in TAKES_TARGET))
            fail("target", f"{kind.value} takes no target", f"targets are for {names}")
        kinds_for = TARGET_ON[target]
        if kinds_for is not None and on is not None and on not in kinds_for:
            fail("target", f"there is no {target} on {on.value} events", "use `target: actor`")
    if len(problems) > before:
        return None
    default = texts.texts[0][1] if texts.texts else ""
    return ActionTemplate(kind, default, seconds, target, texts)


def _template(
    text: str,
    on: EventKind | None,
    params: Mapping[str, str],
    fail: Callable[[str, str, int], None],
    durations: set[str] | None = None,
    *,
    mention: bool,
    vocabulary: Vocabulary,
) -> None:
    found, error = placeholders(text)
    if error is not None:
        fail(error.message, "", error.pos)
    for path, pos in found:
        if path == MENTION:
            if not mention:
                fail(
                    f"{{{MENTION}}} is only for warn_user texts",
                    "a mention names the member warned; other texts name people by "
                    "{actor.display_name}",
                    pos,
                )
            continue
        try:
            if field_type(path, on, params, vocabulary) == "duration" and durations is not None:
                durations.add(path)
        except ConditionError as exc:
            unknown = exc.message.startswith("unknown")
            message = f"unknown placeholder {{{path}}}" if unknown else exc.message
            fail(message, exc.hint, pos)
