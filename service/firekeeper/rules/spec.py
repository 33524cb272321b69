"""The validated shape of a ruleset file (pydantic, unknown keys are errors).

``read`` turns a parsed :class:`~firekeeper.rules.source.Document` into a
:class:`RulesetSpec` piece by piece (the header, each parameter, each rule,
each action) so one bad rule does not hide the problems of the others. A rule
in a ruleset that ``extends`` another may override a parent rule of the same
id by giving only the keys it changes, so ``on``/``reason`` are checked after
inheritance (``firekeeper.rules.compiler``).
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from firekeeper.domain.decisions import ActionType, RuleMode
from firekeeper.domain.events import EventKind
from firekeeper.errors import Diagnostic
from firekeeper.rules.source import Document, Path

RULESET_NAME = r"^[a-z][a-z0-9_-]*$"
RULE_ID = r"^[a-z][a-z0-9_.-]*$"
PARAM_NAME = r"^[a-z][a-z0-9_]*$"

ProfileKind = Literal["work", "hobby", "growth", "family", "entertainment", "goal"]
ParamType = Literal["int", "number", "bool", "string", "duration"]
Target = Literal["actor", "member", "inviter"]
ScalarValue = StrictBool | StrictInt | StrictFloat | StrictStr
# A text for people: one string (in the ruleset's only language) or one per language,
# e.g. {en: "...", zh-Hans: "..."} (firekeeper.rules.language)
TextValue = StrictStr | dict[StrictStr, StrictStr]
M = TypeVar("M", bound=BaseModel)

_PATTERN_HINTS = {
    RULESET_NAME: "lower case letters, digits, '_' and '-', starting with a letter",
    RULE_ID: "lower case letters, digits, '_', '.' and '-', starting with a letter",
    PARAM_NAME: "lower case letters, digits and '_', starting with a letter",
}


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ThemeSpec(_Spec):
    keywords: list[StrictStr] = []
    phrases: list[StrictStr] = []
    languages: list[StrictStr] = []
    examples: list[StrictStr] = []  # messages on the theme, as the group writes them


class ProfileSpec(_Spec):
    kind: ProfileKind
    theme: ThemeSpec | None = None


class ParamSpec(_Spec):
    default: ScalarValue
    description: StrictStr = ""
    type: ParamType | None = None


class ActionSpec(_Spec):
    type: ActionType
    text: TextValue | None = None
    duration: StrictStr | StrictInt | None = None
    target: Target | None = None


class RuleSpec(_Spec):
    id: StrictStr = Field(pattern=RULE_ID)
    on: EventKind | None = None
    when: StrictStr | None = None
    mode: RuleMode | None = None
    reason: TextValue | None = None
    priority: StrictInt | None = None
    actions: list[Any] | None = None


class HeaderSpec(_Spec):
    ruleset: StrictStr = Field(pattern=RULESET_NAME)
    version: StrictStr | StrictInt | StrictFloat | None = None
    description: StrictStr = ""
    extends: StrictStr | None = Field(default=None, pattern=RULESET_NAME)
    # shadow: every rule of this ruleset (own and inherited) is evaluated and
    # recorded but returns no actions; not inherited by rulesets extending it
    mode: Literal["enforce", "shadow"] | None = None
    profile: ProfileSpec | None = None
    # the languages every text ships in, the first the default; inherited by rulesets
    # extending this one; none declared: one language, English
    languages: list[StrictStr] | None = None
    params: dict[StrictStr, Any] = {}
    rules: list[Any] = []


class RuleEntry(BaseModel):
    """A rule as written, with its actions validated and where it lives in the file."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    index: int
    spec: RuleSpec
    actions: tuple[ActionSpec, ...] | None  # None: not given (inherit or empty)
    given: frozenset[str]  # the keys written in this file
    valid: bool = True  # False: a problem was reported; checked further, never used
    rejected: frozenset[str] = frozenset()  # keys dropped after reporting them (not "missing")


class ParamEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    full: ParamSpec | None  # None: the shorthand form
    value: ScalarValue | None  # the shorthand value


class RulesetSpec(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    header: HeaderSpec
    params: tuple[ParamEntry, ...]
    rules: tuple[RuleEntry, ...]
    complete: bool  # False: some part was rejected (its diagnostics were reported)
    doc: Document


def read(doc: Document) -> tuple[RulesetSpec | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []
    if not isinstance(doc.data, dict):
        problems.append(
            doc.diagnostic((), "a ruleset file must be a mapping", "start with `ruleset: <name>`")
        )
        return None, problems
    header = _validate(HeaderSpec, doc.data, (), doc, problems)
    complete = header is not None
    if header is None:
        header = _salvage_header(doc.data)  # reported; read its params and rules too
        if header is None:
            return None, problems
    params: list[ParamEntry] = []
    for name, raw in header.params.items():
        where: Path = ("params", name)
        ok = True
        if not _matches(PARAM_NAME, name):
            problems.append(
                doc.diagnostic(
                    where, f"invalid parameter name {name!r}", _PATTERN_HINTS[PARAM_NAME], key=True
                )
            )
            ok = False
        if isinstance(raw, dict):
            full = _validate(ParamSpec, raw, where, doc, problems)
            ok = ok and full is not None
            if ok:
                params.append(ParamEntry(name=name, full=full, value=None))
        elif isinstance(raw, bool | int | float | str):
            if ok:
                params.append(ParamEntry(name=name, full=None, value=raw))
        else:
            problems.append(
                doc.diagnostic(
                    where,
                    f"parameter {name!r} needs a value",
                    "write `name: value` or `name: {default: value}`",
                )
            )
            ok = False
        complete = complete and ok
    rules: list[RuleEntry] = []
    for i, raw in enumerate(header.rules):
        entry = _read_rule(doc, i, raw, problems)
        if entry is None:
            complete = False
        else:
            rules.append(entry)
    spec = RulesetSpec(
        header=header, params=tuple(params), rules=tuple(rules), complete=complete, doc=doc
    )
    return spec, problems


def _read_rule(doc: Document, i: int, raw: object, problems: list[Diagnostic]) -> RuleEntry | None:
    where: Path = ("rules", i)
    if not isinstance(raw, dict):
        problems.append(
            doc.diagnostic(where, "a rule must be a mapping", "start it with `- id: ...`")
        )
        return None
    spec = _validate(RuleSpec, raw, where, doc, problems)
    ok = spec is not None
    rejected: frozenset[str] = frozenset()
    if spec is None:
        spec = _salvage(raw)  # check the rest of the rule too; it stays rejected
        if spec is None:
            return None
        rejected |= rejected_keys(raw)
    actions: list[ActionSpec] | None = None
    if spec.actions is not None:
        actions = []
        for j, action in enumerate(spec.actions):
            path: Path = (*where, "actions", j)
            if not isinstance(action, dict):
                problems.append(
                    doc.diagnostic(path, "an action must be a mapping", "write `- type: <action>`")
                )
                ok = False
                rejected |= {"actions"}
                continue
            parsed = _validate(ActionSpec, action, path, doc, problems)
            if parsed is None:
                ok = False
                rejected |= {"actions"}
            else:
                actions.append(parsed)
    return RuleEntry(
        valid=ok,
        index=i,
        spec=spec,
        actions=tuple(actions) if actions is not None else None,
        given=frozenset(spec.model_fields_set),
        rejected=rejected,
    )


# keys of a rejected rule that may be dropped to check the rest of it; a dropped key
# is remembered (``RuleEntry.rejected``) so its absence is not reported a second time
_DROPPABLE = frozenset({"mode", "priority", "when", "on", "reason", "actions"})
# keys of a rejected header that may be dropped to check its params and rules; never
# ``ruleset`` (its name) or ``extends`` (its parent's rules decide what its own mean)
_HEADER_DROPPABLE = frozenset({"version", "description", "mode", "profile", "params", "rules"})


def _salvage(raw: dict[Any, Any]) -> RuleSpec | None:
    """The rule without its unknown keys and broken optional keys, if that validates."""
    kept = _without_bad_keys(RuleSpec, raw, _DROPPABLE)
    return None if kept is None else RuleSpec.model_validate(kept)


def rejected_keys(raw: object) -> frozenset[str]:
    """The keys of a rule that ``_salvage`` drops."""
    if not isinstance(raw, dict):
        return frozenset()
    try:
        RuleSpec.model_validate(raw)
    except ValidationError as exc:
        return frozenset(str(e["loc"][0]) for e in exc.errors() if e["loc"])
    return frozenset()


def _salvage_header(raw: dict[Any, Any]) -> HeaderSpec | None:
    kept = _without_bad_keys(HeaderSpec, raw, _HEADER_DROPPABLE)
    return None if kept is None else HeaderSpec.model_validate(kept)


def _without_bad_keys(
    model: type[BaseModel], raw: dict[Any, Any], droppable: frozenset[str]
) -> dict[Any, Any] | None:
    """``raw`` without the keys that fail ``model`` (unknown ones, broken droppable ones),
    if what is left validates; None when a key that cannot be dropped is broken."""
    try:
        model.model_validate(raw)
    except ValidationError as exc:
        bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
        if not all(k in droppable or k not in model.model_fields for k in bad):
            return None
        kept = {k: v for k, v in raw.items() if k not in bad}
        try:
            model.model_validate(kept)
        except ValidationError:
            return None
        return kept
    return None


def _matches(pattern: str, value: str) -> bool:
    return re.match(pattern, value) is not None


def _validate(
    model: type[M], data: object, base: Path, doc: Document, problems: list[Diagnostic]
) -> M | None:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        grouped: dict[tuple[int | str, ...], list[Any]] = {}
        for error in exc.errors():
            where = tuple(p for p in error["loc"] if p not in _UNION_TAGS)
            grouped.setdefault(where, []).append(error)
        for where, errors in grouped.items():
            problems.append(_diagnostic(model, where, errors, base, doc))
        return None


_UNION_TAGS = frozenset({"str", "int", "float", "bool"})
_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "list_type": "a list",
}


def _diagnostic(
    model: type[BaseModel], loc: tuple[object, ...], errors: list[Any], base: Path, doc: Document
) -> Diagnostic:
    path: Path = (*base, *(p for p in loc if isinstance(p, str | int)))
    error = errors[0]
    kind = error["type"]
    name = str(loc[-1]) if loc else "value"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "allowed keys: " + ", ".join(allowed)
        return doc.diagnostic(path, f"unknown key {name!r}", hint, key=True)
    if kind == "missing":
        return doc.diagnostic(path[:-1], f"missing required key {name!r}")
    if kind == "string_pattern_mismatch":
        pattern = error.get("ctx", {}).get("pattern", "")
        hint = _PATTERN_HINTS.get(pattern, "")
        return doc.diagnostic(path, f"invalid {name} {error['input']!r}", hint)
    if kind in ("enum", "literal_error"):
        expected = str(error.get("ctx", {}).get("expected", ""))
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        close = difflib.get_close_matches(str(error["input"]), options, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected {expected}"
        return doc.diagnostic(path, f"invalid {name} {error['input']!r}", hint)
    words = [_TYPE_WORDS[e["type"]] for e in errors if e["type"] in _TYPE_WORDS]
    if words:
        expected = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
        return doc.diagnostic(path, f"invalid {name}: expected {expected}")
    message = str(error["msg"])
    return doc.diagnostic(path, f"invalid {name}: {message[:1].lower()}{message[1:]}")


def _allowed_keys(model: type[BaseModel], loc: tuple[object, ...]) -> list[str]:
    current: type[BaseModel] = model
    for part in loc:
        info = current.model_fields.get(part) if isinstance(part, str) else None
        annotation = info.annotation if info else None
        options = getattr(annotation, "__args__", (annotation,))
        nested = [a for a in options if isinstance(a, type) and issubclass(a, BaseModel)]
        if nested:
            current = nested[0]
    return list(current.model_fields)
