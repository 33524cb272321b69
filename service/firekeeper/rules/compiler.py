"""Ruleset sources to a :class:`RulesetIndex` of compiled, matchable rulesets.

Stages: YAML text (``source``) -> validated spec (``spec``) -> inheritance
(``extends``) and rules (``rulebuild``: conditions parsed and type-checked,
actions validated) -> lowering to engine rules with the engine's limits
checked (``lowering``) -> one engine matcher per ruleset (``engine``). Every
problem in every file is collected and raised at once as
:class:`~firekeeper.errors.RulesetError`; nothing is registered in the engine
unless all sources compile.

A ruleset whose parent has errors is still checked on what of the parent did
compile, so one run reports the problems of both (a parameter or rule of the
parent that failed is not reported again in the child); it is never registered.

``shipped`` (the rulesets that ship with Firekeeper) supplies the parents that
``sources`` lack: ``extends: hobby`` in an author's directory without
``hobby.yaml`` builds on the shipped ``hobby`` (and its own parents, all taken
from ``shipped``). A name defined in ``sources`` always wins. The borrowed
parent is recorded in ``CompiledRuleset.parent_source``; it is not served on
its own.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from firekeeper.domain.chats import Theme
from firekeeper.domain.decisions import RuleMode
from firekeeper.errors import Diagnostic, InvalidParam, RulesetError, UnknownRuleset
from firekeeper.rules import lowering, source, spec
from firekeeper.rules.engine import EngineError, Matcher
from firekeeper.rules.language import valid_tag
from firekeeper.rules.lowering import KIND_PATH, TEXT_PREFIX, Test, TextAtom
from firekeeper.rules.params import ParamDef, convert, infer_type, parse_override
from firekeeper.rules.projection import Projection
from firekeeper.rules.rulebuild import (
    DEFAULT_LANGUAGES,
    ActionTemplate,
    BuiltRule,
    CompiledRule,
    RuleSource,
    build_rule,
    missing_translations,
)
from firekeeper.rules.textmatch import TextTest
from firekeeper.rules.vocabulary import CORE, Vocabulary

__all__ = [
    "ActionTemplate",
    "CompiledRule",
    "CompiledRuleset",
    "ParamDef",
    "RulesetIndex",
    "compile_sources",
]


@dataclass(frozen=True, slots=True)
class _KindPlan:
    fields: tuple[tuple[str, str], ...]  # (path, type) the engine reads
    texts: tuple[tuple[str, TextTest], ...]  # (key under "tp", predicate)
    projection: Projection  # the two above, ready to read from full facts


@dataclass(frozen=True, eq=False)
class CompiledRuleset:
    name: str
    version: str
    kind: str
    description: str
    extends: str | None
    source: str
    params: Mapping[str, ParamDef]
    rules: tuple[CompiledRule, ...]  # inherited and own, `off` rules included
    theme: Theme = field(default_factory=Theme)
    # the file of the parent when ``extends`` was resolved against the shipped rulesets
    parent_source: str | None = None
    # the languages every text ships in, the first the default (firekeeper.rules.language)
    languages: tuple[str, ...] = ("en",)
    # the fields its rules were checked against (the explanation reads their types)
    vocabulary: Vocabulary = field(default=CORE, repr=False)
    _plans: Mapping[str, _KindPlan] = field(default_factory=dict, repr=False)
    _matcher: Matcher | None = field(default=None, repr=False)

    def resolve_params(self, overrides: Mapping[str, str]) -> dict[str, object]:
        """Defaults merged with overrides given as YAML scalar text; raises InvalidParam."""
        values = {name: p.default for name, p in self.params.items()}
        for name, text in overrides.items():
            param = self.params.get(name)
            if param is None:
                known = ", ".join(sorted(self.params)) or "none"
                raise InvalidParam(
                    name, f"ruleset {self.name!r} has no such parameter; it declares: {known}"
                )
            try:
                values[name] = parse_override(str(text), param.type)
            except ValueError as exc:
                raise InvalidParam(name, f"{text!r} is not a valid {param.type}: {exc}") from None
        return values

    def match(self, fact: Mapping[str, object]) -> tuple[CompiledRule, ...]:
        """Rules (not `off`) whose `on` is the fact's event.kind and whose condition holds.

        ``fact`` is the full nested fact, with resolved params under ``"params"``; the
        engine sees only the fields this kind's rules read (``firekeeper.rules.projection``),
        serialised once."""
        section = fact.get("event")
        kind = section.get("kind") if isinstance(section, Mapping) else None
        plan = self._plans.get(kind) if isinstance(kind, str) else None
        if plan is None or self._matcher is None:
            return ()
        fired = self._matcher.match_members(plan.projection.members(fact))
        rules = self.rules
        return tuple(rules[i] for i in sorted({int(name[1:].split("_", 1)[0]) for name in fired}))


class RulesetIndex:
    """Compiled rulesets by name (immutable)."""

    __slots__ = ("_by_name",)

    def __init__(self, rulesets: Mapping[str, CompiledRuleset]) -> None:
        self._by_name = MappingProxyType(dict(sorted(rulesets.items())))

    def get(self, name: str) -> CompiledRuleset:
        found = self._by_name.get(name)
        if found is None:
            raise UnknownRuleset(name, list(self._by_name))
        return found

    def names(self) -> list[str]:
        return list(self._by_name)

    def all(self) -> tuple[CompiledRuleset, ...]:
        return tuple(self._by_name.values())

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __len__(self) -> int:
        return len(self._by_name)


@dataclass
class _Built:
    spec: spec.RulesetSpec
    params: dict[str, ParamDef]
    rules: list[BuiltRule]
    texts: list[str]
    kind: str
    theme: Theme
    languages: tuple[str, ...] = ("en",)
    ok: bool = True
    parent_source: str | None = None  # set when the parent came from the shipped rulesets
    plans: dict[str, _KindPlan] = field(default_factory=dict)
    definitions: dict[str, object] = field(default_factory=dict)
    # names declared here or in a parent whose definition failed (reported there): a
    # ruleset built on a broken parent does not report them again as unknown
    broken_params: frozenset[str] = frozenset()
    broken_rules: frozenset[str] = frozenset()


MAX_PARAMS = 500  # every evaluation resolves them all
LIMITS = source.Limits(
    top_level=MappingProxyType(
        {
            "rules": (lowering.MAX_RULES, "rules", "split the ruleset or merge rules"),
            "params": (MAX_PARAMS, "parameters", "remove the parameters no rule reads"),
        }
    )
)


def compile_sources(
    sources: Mapping[str, str],
    previous: RulesetIndex | None = None,
    *,
    shipped: Mapping[str, str] | None = None,
    vocabulary: Vocabulary,
) -> RulesetIndex:
    """Compile every ruleset in ``{file name: YAML text}``; raises RulesetError listing
    every problem in every file. ``shipped``: where parents missing from ``sources``
    are looked up (module docstring). ``vocabulary``: the fields rules may read (the
    service's: ``firekeeper.area_registry.VOCABULARY``, the core's and every area's);
    each compiled ruleset keeps it.

    ``previous`` (a hot reload: the index serving now): a ruleset whose version
    (its text and its parents') is unchanged shares the previous one's engine
    matcher instead of registering a new one, so editing one file registers
    only that ruleset and those extending it.

    Raises nothing else: an unexpected exception (a bug) becomes a located internal
    error of the file being compiled, so ``check`` and reload never crash on input."""
    problems: list[Diagnostic] = []
    at = [min(sources, default="<rulesets>")]  # the file being compiled
    try:
        return _compile(sources, shipped, previous, problems, at, vocabulary)
    except RulesetError:
        raise
    except Exception as exc:  # a bug: report it where it happened, never crash
        problems.append(
            Diagnostic(
                at[0],
                1,
                1,
                f"internal error while compiling: {type(exc).__name__}",
                hint="this is a bug in Firekeeper, not in the file: please report it with the file",
            )
        )
        raise RulesetError(list(dict.fromkeys(problems))) from exc


def _compile(
    sources: Mapping[str, str],
    shipped: Mapping[str, str] | None,
    previous: RulesetIndex | None,
    problems: list[Diagnostic],
    at: list[str],
    vocabulary: Vocabulary,
) -> RulesetIndex:
    specs = _read_specs(sources, problems, at)
    fallback = _ShippedParents(shipped, problems, at, vocabulary) if shipped else None
    built = _Linker(specs, problems, at, vocabulary, fallback).link_all()
    rulesets: dict[str, CompiledRuleset] = {}
    if not problems:  # register in the engine only when everything compiled
        for name, b in built.items():
            if b is not None:
                at[0] = b.spec.doc.file
                rulesets[name] = _finish(b, problems, previous, vocabulary)
    if problems:
        raise RulesetError(list(dict.fromkeys(problems)))
    return RulesetIndex(rulesets)


def _read_specs(
    sources: Mapping[str, str], problems: list[Diagnostic], at: list[str]
) -> dict[str, spec.RulesetSpec]:
    specs: dict[str, spec.RulesetSpec] = {}
    for file in sorted(sources):
        at[0] = file
        doc, found = source.load(file, sources[file], LIMITS)
        problems += found
        parsed, found = spec.read(doc) if doc is not None else (None, [])
        problems += found
        if parsed is None:
            continue
        name = parsed.header.ruleset
        if name in specs:
            first = specs[name].doc.file
            problems.append(
                parsed.doc.diagnostic(
                    ("ruleset",),
                    f"ruleset {name!r} is already defined in {first}",
                    "ruleset names are unique across files",
                )
            )
            continue
        specs[name] = parsed
    return specs


class _ShippedParents:
    """The shipped rulesets, parsed and linked among themselves only when first needed."""

    def __init__(
        self,
        sources: Mapping[str, str],
        problems: list[Diagnostic],
        at: list[str],
        vocabulary: Vocabulary,
    ) -> None:
        self._sources = sources
        self._problems = problems
        self._at = at
        self._vocabulary = vocabulary
        self._linker: _Linker | None = None

    @property
    def linker(self) -> _Linker:
        if self._linker is None:
            specs = _read_specs(self._sources, self._problems, self._at)
            self._linker = _Linker(specs, self._problems, self._at, self._vocabulary)
        return self._linker

    def names(self) -> list[str]:
        return list(self.linker.specs)

    def get(self, name: str) -> _Built | None:
        """The built shipped ruleset ``name``; None when it failed (reported)."""
        return self.linker.link(name, [])


class _Linker:
    """Resolves ``extends`` (parents first) and builds each ruleset on its parent."""

    def __init__(
        self,
        specs: dict[str, spec.RulesetSpec],
        problems: list[Diagnostic],
        at: list[str],
        vocabulary: Vocabulary,
        shipped: _ShippedParents | None = None,
    ) -> None:
        self.specs = specs
        self.problems = problems
        self.at = at
        self.vocabulary = vocabulary
        self.shipped = shipped
        self.done: dict[str, _Built | None] = {}

    def link_all(self) -> dict[str, _Built | None]:
        for name in self.specs:
            self.link(name, [])
        return self.done

    def link(self, name: str, chain: list[str]) -> _Built | None:
        if name in self.done:
            return self.done[name]
        if name in chain:
            cycle = [*chain[chain.index(name) :], name]
            for member in cycle[:-1]:
                self.problems.append(
                    self.specs[member].doc.diagnostic(
                        ("extends",),
                        "extends cycle: " + " -> ".join(cycle),
                        "a ruleset cannot extend itself, directly or not",
                    )
                )
                self.done[member] = None
            return None
        current = self.specs[name]
        parent_name = current.header.extends
        parent: _Built | None = None
        borrowed = False
        if (
            parent_name is not None
            and parent_name not in self.specs
            and self.shipped is not None
            and parent_name in self.shipped.names()
        ):
            parent = self.shipped.get(parent_name)
            if parent is None or not parent.ok:
                self.done[name] = None
                return None
            borrowed = True
        if parent_name is not None and not borrowed:
            if parent_name not in self.specs:
                shipped = self.shipped.names() if self.shipped else []
                others = sorted({*shipped, *(n for n in self.specs if n != name)})
                close = difflib.get_close_matches(parent_name, others, n=1)
                hint = (
                    f"did you mean {close[0]!r}?"
                    if close
                    else "known rulesets: " + (", ".join(others) or "none")
                )
                self.problems.append(
                    current.doc.diagnostic(
                        ("extends",), f"extends unknown ruleset {parent_name!r}", hint
                    )
                )
                self.done[name] = None
                return None
            parent = self.link(parent_name, [*chain, name])
            if name in self.done:  # part of a cycle, already reported
                return None
            if parent is None:
                self.done[name] = None
                return None
        self.at[0] = current.doc.file
        result = _build(current, parent, self.problems, self.vocabulary)
        if borrowed and parent is not None:
            result.parent_source = parent.spec.doc.file
        self.done[name] = result
        return result


def _build(
    current: spec.RulesetSpec,
    parent: _Built | None,
    problems: list[Diagnostic],
    vocabulary: Vocabulary,
) -> _Built:
    before = len(problems)
    doc, header = current.doc, current.header
    params = dict(parent.params) if parent else {}
    broken_params = set(parent.broken_params) if parent else set()
    broken_rules = set(parent.broken_rules) if parent else set()
    for declared in current.params:
        param = _param(declared, params.get(declared.name), doc, problems)
        if param is not None:
            params[declared.name] = param
    profile = header.profile
    kind = profile.kind if profile else (parent.kind if parent else "unspecified")
    theme = parent.theme if parent else Theme()
    if profile and profile.theme:
        t = profile.theme
        theme = Theme(
            tuple(t.keywords), tuple(t.phrases), tuple(t.languages), examples=tuple(t.examples)
        )
    languages = _languages(current, parent, problems)
    rules = list(parent.rules) if parent else []
    positions = {b.rule.id: i for i, b in enumerate(rules)}
    own: set[str] = set()
    for entry in current.rules:
        rule_id = entry.spec.id
        if rule_id in own:
            problems.append(
                doc.diagnostic(
                    ("rules", entry.index, "id"),
                    f"duplicate rule id {rule_id!r}",
                    "rule ids are unique within a ruleset",
                )
            )
            continue
        own.add(rule_id)
        at = positions.get(rule_id)
        if at is None and rule_id in broken_rules:
            continue  # overrides a parent rule that failed (reported there)
        src = (
            RuleSource.new(entry, doc) if at is None else _inherited(rules[at]).override(entry, doc)
        )
        built = build_rule(
            src,
            params,
            problems,
            lenient=not entry.valid,
            unknown=frozenset(broken_params),
            languages=languages,
            vocabulary=vocabulary,
        )
        if built is None or not entry.valid:
            continue
        if at is None:
            positions[rule_id] = len(rules)
            rules.append(built)
        else:
            rules[at] = built
    if parent is not None and languages != parent.languages:
        _check_inherited(rules, own, languages, header.ruleset, problems)
    texts = [*(parent.texts if parent else []), doc.text]
    broken_params.update(n for n in header.params if n not in params)
    built_ids = {b.rule.id for b in rules}
    broken_rules.update(
        str(r["id"]) for r in header.rules if isinstance(r, dict) and r.get("id") not in built_ids
    )
    result = _Built(
        current,
        params,
        rules,
        texts,
        kind,
        theme,
        languages,
        broken_params=frozenset(broken_params),
        broken_rules=frozenset(broken_rules),
    )
    if len(rules) > lowering.MAX_RULES:
        problems.append(
            doc.diagnostic(
                ("rules",),
                f"more than {lowering.MAX_RULES} rules",
                "split the ruleset or merge rules",
                key=True,
            )
        )
    _plan(result, problems)
    result.ok = current.complete and len(problems) == before and (parent is None or parent.ok)
    return result


def _languages(
    current: spec.RulesetSpec, parent: _Built | None, problems: list[Diagnostic]
) -> tuple[str, ...]:
    """The ruleset's declared languages, else its parent's, else English alone."""
    declared = current.header.languages
    if declared is None:
        return parent.languages if parent else DEFAULT_LANGUAGES
    doc = current.doc
    out: list[str] = []
    for i, tag in enumerate(declared):
        if not valid_tag(tag):
            problems.append(
                doc.diagnostic(
                    ("languages", i),
                    f"invalid language tag {tag!r}",
                    "a BCP 47 tag such as en, zh-Hans, zh-Hant, ja",
                )
            )
        elif tag in out:
            problems.append(doc.diagnostic(("languages", i), f"{tag} is listed twice"))
        else:
            out.append(tag)
    if not declared:
        problems.append(
            doc.diagnostic(
                ("languages",), "no languages listed", "list at least one, e.g. `[en, zh-Hans]`"
            )
        )
    return tuple(out) or (parent.languages if parent else DEFAULT_LANGUAGES)


def _check_inherited(
    rules: list[BuiltRule],
    own: set[str],
    languages: tuple[str, ...],
    name: str,
    problems: list[Diagnostic],
) -> None:
    """Inherited rules this ruleset does not redefine need texts in its languages too."""
    for built in rules:
        if built.rule.id in own or built.source is None:
            continue
        for key, sub, lang in missing_translations(built.rule, languages):
            what = "reason" if key == "reason" else "text"
            problems.append(
                built.source.at(
                    key,
                    f"no {lang} translation of this {what} "
                    f"(ruleset {name!r} ships {', '.join(languages)})",
                    f"add `{lang}: ...` here, or redefine rule {built.rule.id!r} in {name!r}",
                    sub=sub,
                )
            )


def _inherited(built: BuiltRule) -> RuleSource:
    assert built.source is not None
    return built.source


def _param(
    entry: spec.ParamEntry,
    inherited: ParamDef | None,
    doc: source.Document,
    problems: list[Diagnostic],
) -> ParamDef | None:
    where: source.Path = ("params", entry.name)
    full = entry.full
    value = full.default if full else entry.value
    declared = full.type if full and full.type else None
    type_ = declared or (inherited.type if inherited else infer_type(value))
    if inherited and type_ != inherited.type:
        problems.append(
            doc.diagnostic(
                (*where, "type") if declared else where,
                f"parameter {entry.name!r} is {inherited.type} in the parent ruleset, not {type_}",
                "an inherited parameter keeps its type",
            )
        )
        return None
    try:
        default = convert(value, type_)
    except ValueError as exc:
        problems.append(
            doc.diagnostic(
                (*where, "default") if full else where,
                f"invalid default for {entry.name!r} ({type_}): {exc}",
            )
        )
        return None
    description = (full.description if full else "") or (inherited.description if inherited else "")
    written = value if type_ == "duration" and isinstance(value, str) else ""
    return ParamDef(entry.name, type_, default, description, written.strip())


def _plan(built: _Built, problems: list[Diagnostic]) -> None:
    """Lower every active rule to engine rules and check the engine's limits."""
    text_keys: dict[TextTest, str] = {}
    layout: dict[str, list[tuple[int, list[tuple[Test, ...]]]]] = {}
    fields: dict[str, dict[str, str]] = {}
    texts: dict[str, dict[str, TextTest]] = {}
    for index, item in enumerate(built.rules):
        rule = item.rule
        if rule.mode is RuleMode.OFF:
            continue
        on = rule.on.value
        try:
            branches = lowering.branches(rule.condition, item.types)
        except lowering.TooManyBranches as exc:
            assert item.source is not None
            problems.append(
                item.source.at(
                    "when",
                    f"this condition expands to more than "
                    f"{lowering.MAX_BRANCHES_PER_RULE} alternatives",
                    "simplify it: fewer `or`/`not` combinations, or split the rule",
                    offset=exc.pos,
                )
            )
            continue
        kind_fields, kind_texts = fields.setdefault(on, {}), texts.setdefault(on, {})
        lowered: list[tuple[Test, ...]] = []
        for k, branch in enumerate(branches):
            tests: list[Test] = []
            for atom in branch:
                if isinstance(atom, TextAtom):
                    key = text_keys.setdefault(atom.test, f"p{len(text_keys)}")
                    kind_texts[key] = atom.test
                    tests.append(Test("eq", f"{TEXT_PREFIX}.{key}", atom.expected))
                else:
                    tests.append(atom)
                    for path in atom.reads():
                        kind_fields[path] = item.types[path]
            lowered.append(tuple(tests))
            checks = [Test("eq", KIND_PATH, on).to_json(), *(t.to_json() for t in tests)]
            built.definitions[f"r{index}_{k}"] = {"all": [{"m": {"$and": checks}}]}
        layout.setdefault(on, []).append((index, lowered))
    for problem in lowering.check_layout(layout):
        src = built.rules[problem.rule].source
        assert src is not None
        key = "when" if "when" in src.where else "id"
        problems.append(src.at(key, problem.message, problem.hint))
    built.plans = {
        on: _KindPlan(
            tuple(fields[on].items()),
            tuple(texts[on].items()),
            Projection.of(on, tuple(fields[on].items()), tuple(texts[on].items())),
        )
        for on in layout
    }


def _finish(
    built: _Built,
    problems: list[Diagnostic],
    previous: RulesetIndex | None,
    vocabulary: Vocabulary,
) -> CompiledRuleset:
    header = built.spec.header
    digest = hashlib.sha256("\0".join(built.texts).encode()).hexdigest()[:12]
    label = "" if header.version is None else str(header.version)
    version = f"{label}+{digest}" if label else digest
    matcher = None
    before = previous._by_name.get(header.ruleset) if previous is not None else None
    if before is not None and before.version == version:
        matcher = before._matcher  # the same text lowers to the same engine rules
    elif built.definitions:
        try:
            matcher = Matcher(built.definitions)
        except EngineError as exc:
            problems.append(built.spec.doc.diagnostic(("ruleset",), str(exc)))
    return CompiledRuleset(
        name=header.ruleset,
        version=version,
        kind=built.kind,
        description=header.description,
        extends=header.extends,
        source=built.spec.doc.file,
        params=MappingProxyType(dict(built.params)),
        rules=tuple(_in_mode(b.rule, header.mode) for b in built.rules),
        theme=built.theme,
        parent_source=built.parent_source,
        languages=built.languages,
        vocabulary=vocabulary,
        _plans=MappingProxyType(built.plans),
        _matcher=matcher,
    )


def _in_mode(rule: CompiledRule, ruleset_mode: str | None) -> CompiledRule:
    """A ruleset in shadow mode shadows every rule it would enforce (``off`` stays off)."""
    if ruleset_mode == RuleMode.SHADOW and rule.mode is RuleMode.ENFORCE:
        return dataclasses.replace(rule, mode=RuleMode.SHADOW)
    return rule
