"""The ruleset test file format (``rulesets/*_test.yaml``), parsed into typed values.

The format is documented in ``docs/ruleset-tests.md``. A file is read with the
ruleset loader (``firekeeper.rules.source``), so every problem is reported with
its file, line and column, all at once. Steps are checked by building each
event once with a stand-in context (``firekeeper.tools.events``).
"""

from __future__ import annotations

import difflib
import pathlib
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
)

from firekeeper.domain.decisions import ActionType
from firekeeper.domain.events import Platform, Role
from firekeeper.errors import Diagnostic
from firekeeper.rules import domains as dl
from firekeeper.rules.compiler import RulesetIndex
from firekeeper.rules.params import parse_duration
from firekeeper.rules.source import Document, Limits, Path, decode, load
from firekeeper.rules.spec import ProfileKind
from firekeeper.rules.textmatch import PatternError, compile_pattern

DEFAULT_START = datetime(2025, 1, 6, 12, 0, tzinfo=UTC)
TEST_SUFFIXES = ("_test.yaml", "_test.yml")


def seconds(value: object) -> int:
    """``30d``/``6h``/``45s`` or a whole number of seconds, as seconds."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and (parsed := parse_duration(value)) is not None:
        return parsed
    raise ValueError(f"expected a duration like 30d, 6h, 10m or 45s, not {value!r}")


def moment(value: object) -> datetime:
    """An ISO-8601 time with a UTC offset (a YAML timestamp or a string)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"expected an ISO-8601 time, not {value!r}") from None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ValueError("expected an ISO-8601 time with a UTC offset, e.g. 2025-01-06T12:00:00Z")
    return value.astimezone(UTC)


Duration = Annotated[
    int,
    BeforeValidator(seconds),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "pattern": r"^\s*\d+\s*[smhdw]\s*$"}, {"type": "integer"}],
            "description": "a duration: 45s, 10m, 6h, 30d, 2w, or seconds",
        }
    ),
]
Moment = Annotated[
    datetime,
    BeforeValidator(moment),
    WithJsonSchema({"type": "string", "description": "ISO-8601 time, e.g. 2025-01-06T12:00:00Z"}),
]


def domain(value: str) -> str:
    """A domain as the Screening API stores it (lower case, no scheme, path or ``www.``)."""
    found = dl.normalize(value)
    if not found:
        raise ValueError(f"{value!r} is not a domain")
    return found


def entry_pattern(value: str) -> str:
    """An RE2 pattern, checked as SetChatScreening checks it."""
    if not value.strip():
        raise ValueError("empty pattern")
    try:
        compile_pattern(value)
    except PatternError as exc:
        raise ValueError(f"not a valid RE2 pattern: {exc}") from None
    return value


Domain = Annotated[
    StrictStr,
    AfterValidator(domain),
    WithJsonSchema({"type": "string", "description": "a domain: example.com"}),
]
EntryPattern = Annotated[
    StrictStr,
    AfterValidator(entry_pattern),
    WithJsonSchema({"type": "string", "description": "an RE2 pattern: (?i)rust|锈"}),
]
Scalar = StrictBool | StrictInt | StrictFloat | StrictStr
_ModelT = TypeVar("_ModelT", bound=BaseModel)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ChannelThemeState(_Model):
    channel_id: StrictStr = Field(min_length=1)
    keywords: list[StrictStr] = []
    phrases: list[StrictStr] = []
    examples: list[StrictStr] = []


class ThemeState(_Model):
    keywords: list[StrictStr] = []
    phrases: list[StrictStr] = []
    languages: list[StrictStr] = []
    channels: list[ChannelThemeState] = []
    examples: list[StrictStr] = []


class ScreeningState(_Model):
    """A chat's screening settings, as SetChatScreening sets them (docs/screening.md)."""

    allowed_domains: list[Domain] = []
    entry_patterns: list[EntryPattern] = []


class ChatState(_Model):
    kind: ProfileKind | Literal["unspecified"] | None = None
    member_count: StrictInt | None = Field(default=None, ge=0)
    age: Duration | None = None
    owner: StrictStr | None = None
    title: StrictStr | None = None
    params: dict[StrictStr, Scalar] = {}
    theme: ThemeState | None = None
    message_count: StrictInt | None = Field(default=None, ge=0)
    last_message: Duration | None = None
    screening: ScreeningState | None = None
    # the language declared at registration (BCP 47, e.g. zh-Hans); none: detected
    language: StrictStr | None = None


class MemberState(_Model):
    id: StrictStr = Field(min_length=1)
    name: StrictStr | None = None
    role: Role = Role.MEMBER
    bot: StrictBool = False
    tenure: Duration = 30 * 86400
    account_age: Duration | None = None
    message_count: StrictInt = Field(default=0, ge=0)
    invited_count: StrictInt = Field(default=0, ge=0)
    inviter: StrictStr = ""
    last_seen: Duration | None = None
    left: StrictBool = False


class BlockedUser(_Model):
    """A blocked user: their id on a platform (default: the file's platform)."""

    id: StrictStr = Field(min_length=1)
    platform: Platform | None = None


class BlocklistState(_Model):
    """Entries of the tenant's blocklist, as AddBlocklistEntries adds them."""

    users: list[StrictStr | BlockedUser] = []
    domains: list[Domain] = []


class ReportedState(_Model):
    """Texts the tenant's admins reported as spam or as not spam (``ReportCorrection``)."""

    spam: list[StrictStr] = []
    ham: list[StrictStr] = []


class ActionExpect(_Model):
    type: ActionType
    text_contains: StrictStr | None = None
    target: StrictStr | None = None
    duration: Duration | None = None

    def describe(self) -> str:
        out = self.type.value
        if self.target is not None:
            out += f" on {self.target}"
        if self.duration is not None:
            out += f" for {self.duration}s"
        if self.text_contains is not None:
            out += f" with text containing {self.text_contains!r}"
        return out


class RuleExpect(_Model):
    id: StrictStr
    mode: Literal["enforce", "shadow"] | None = None

    def describe(self) -> str:
        return self.id if self.mode is None else f"{self.id} ({self.mode})"


class ChatExpect(_Model):
    member_count: StrictInt | None = None
    message_count: StrictInt | None = None


class Expect(_Model):
    actions: list[ActionType | ActionExpect] | None = None
    only: StrictBool = False
    rules: list[StrictStr | RuleExpect] = []
    not_: list[StrictStr | ActionExpect] = Field(default=[], alias="not")
    chat: ChatExpect | None = None

    def wanted_actions(self) -> list[ActionExpect] | None:
        if self.actions is None:
            return None
        return [a if isinstance(a, ActionExpect) else ActionExpect(type=a) for a in self.actions]

    def wanted_rules(self) -> list[RuleExpect]:
        return [r if isinstance(r, RuleExpect) else RuleExpect(id=r) for r in self.rules]


class TestCase(_Model):
    __test__ = False  # not a pytest test class
    name: StrictStr = Field(min_length=1)
    ruleset: StrictStr | None = None
    chat: ChatState | None = None
    params: dict[StrictStr, Scalar] = {}
    members: list[MemberState] = []
    blocklist: BlocklistState | None = None
    phishing: list[Domain] = []
    reported: ReportedState | None = None
    steps: list[dict[StrictStr, Any]] = Field(min_length=1)
    skip: StrictStr | None = None


class SuiteFile(_Model):
    ruleset: StrictStr | None = None
    description: StrictStr = ""
    start: Moment = DEFAULT_START
    platform: Platform = Platform.TELEGRAM
    chat: ChatState | None = None
    members: list[MemberState] = []
    blocklist: BlocklistState | None = None
    phishing: list[Domain] = []
    reported: ReportedState | None = None
    tests: list[dict[StrictStr, Any]] = Field(min_length=1)


class Suite:
    """One parsed test file: its header, its tests, and where everything is in the file."""

    def __init__(self, doc: Document, header: SuiteFile, tests: list[tuple[int, TestCase]]) -> None:
        self.doc = doc
        self.header = header
        self.tests = tests  # (index in the file, test)

    @property
    def file(self) -> str:
        return self.doc.file

    def line(self, path: Path) -> int:
        return self.doc.position(path)[0]

    def ruleset_of(self, test: TestCase) -> str:
        return test.ruleset or self.header.ruleset or ""

    def chat_of(self, test: TestCase) -> ChatState:
        base = self.header.chat.model_dump(exclude_unset=True) if self.header.chat else {}
        own = test.chat.model_dump(exclude_unset=True) if test.chat else {}
        merged = base | own
        merged["params"] = {**base.get("params", {}), **own.get("params", {}), **test.params}
        return ChatState.model_validate(merged)

    def members_of(self, test: TestCase) -> list[MemberState]:
        by_id = {m.id: m for m in self.header.members}
        by_id.update({m.id: m for m in test.members})
        return list(by_id.values())

    def blocked_users_of(self, test: TestCase) -> list[tuple[Platform, str]]:
        """The file's and the test's blocked users, as (platform, user id)."""
        out: dict[tuple[Platform, str], None] = {}
        for entry in (self.header.blocklist, test.blocklist):
            for user in entry.users if entry else ():
                if isinstance(user, str):
                    user = BlockedUser(id=user)
                out[(user.platform or self.header.platform, user.id)] = None
        return list(out)

    def blocked_domains_of(self, test: TestCase) -> list[str]:
        """The file's and the test's blocked domains."""
        both = (self.header.blocklist, test.blocklist)
        return list(dict.fromkeys(d for entry in both for d in (entry.domains if entry else ())))

    def reported_of(self, test: TestCase) -> list[tuple[str, str]]:
        """The file's and the test's reported texts, as (label, text)."""
        out: dict[tuple[str, str], None] = {}
        for entry in (self.header.reported, test.reported):
            for text in entry.spam if entry else ():
                out[("spam", text)] = None
            for text in entry.ham if entry else ():
                out[("ham", text)] = None
        return list(out)

    def phishing_of(self, test: TestCase) -> frozenset[str]:
        """The phishing list the test runs with: the file's and the test's domains."""
        return frozenset((*self.header.phishing, *test.phishing))


def read_suite(file: str, text: str) -> tuple[Suite | None, list[Diagnostic]]:
    """Parse one test file; every problem comes back located (the suite is None if any)."""
    doc, problems = load(file, text)
    if doc is None or problems:
        return None, problems
    header = validate(SuiteFile, doc.data, (), doc, problems)
    if header is None:
        return None, problems
    tests: list[tuple[int, TestCase]] = []
    names: set[str] = set()
    for i, raw in enumerate(header.tests):
        test = validate(TestCase, raw, ("tests", i), doc, problems)
        steps = raw.get("steps") if isinstance(raw, dict) else None
        for j, step in enumerate(steps if isinstance(steps, list) else []):
            if isinstance(step, dict):
                _check_step(step, ("tests", i, "steps", j), doc, problems)
        if test is None:
            continue
        if test.name in names:
            problems.append(doc.diagnostic(("tests", i, "name"), f"duplicate test {test.name!r}"))
        names.add(test.name)
        if not (test.ruleset or header.ruleset):
            problems.append(
                doc.diagnostic(
                    ("tests", i), "no ruleset to test", "add `ruleset: NAME` to the file or test"
                )
            )
        tests.append((i, test))
    if problems:
        return None, problems
    return Suite(doc, header, tests), problems


def _check_step(
    step: dict[Any, Any], where: Path, doc: Document, problems: list[Diagnostic]
) -> None:
    from firekeeper.tools.events import check_step  # events imports this module

    for sub, message, hint in check_step(step):
        problems.append(doc.diagnostic((*where, *sub), message, hint, key="unknown key" in message))
    if "expect" in step:
        validate(Expect, step["expect"], (*where, "expect"), doc, problems)


def validate(
    model: type[_ModelT], data: object, base: Path, doc: Document, problems: list[Diagnostic]
) -> _ModelT | None:
    """``data`` as ``model``, or None after adding one located problem per bad value."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        seen: set[tuple[str | int, ...]] = set()
        for error in exc.errors():
            loc, branch = _split_union(tuple(error["loc"]))
            if branch is not None and not _branch_fits(branch, _at(data, loc[: branch[0]])):
                continue  # the union member the value was not written as
            if loc in seen:
                continue
            seen.add(loc)
            problems.append(_diagnostic(model, error, loc, base, doc))
        return None


def _is_tag(part: object) -> bool:
    """pydantic names union members in error paths: ``str``, ``str-enum[..]``, ``Model``..."""
    return isinstance(part, str) and (
        part[:1].isupper() or part in _TAGS or "[" in part or part.startswith("function")
    )


_TAGS = frozenset({"str", "int", "float", "bool"})


def _split_union(raw: tuple[Any, ...]) -> tuple[tuple[str | int, ...], tuple[int, str] | None]:
    """The path without union tags, and (position, tag) of the first tag."""
    loc: list[str | int] = []
    branch: tuple[int, str] | None = None
    for part in raw:
        if _is_tag(part):
            if branch is None:
                branch = (len(loc), str(part))
        elif isinstance(part, str | int):
            loc.append(part)
    return tuple(loc), branch


def _branch_fits(branch: tuple[int, str], value: object) -> bool:
    is_model = branch[1][:1].isupper()
    return is_model == isinstance(value, dict)


def _at(data: object, loc: tuple[str | int, ...]) -> object:
    for part in loc:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data


def _name(loc: tuple[str | int, ...]) -> str:
    if not loc:
        return "value"
    if isinstance(loc[-1], int):
        return f"{_name(loc[:-1])}[{loc[-1]}]"
    return str(loc[-1])


def _diagnostic(
    model: type[BaseModel], error: Any, loc: tuple[str | int, ...], base: Path, doc: Document
) -> Diagnostic:
    path: Path = (*base, *loc)
    kind = error["type"]
    name = _name(loc)
    if kind == "extra_forbidden":
        allowed = _keys_at(model, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "allowed keys: " + ", ".join(allowed)
        return doc.diagnostic(path, f"unknown key {name!r}", hint, key=True)
    if kind == "missing":
        return doc.diagnostic(path[:-1], f"missing required key {name!r}")
    if kind in ("enum", "literal_error"):
        expected = str(error.get("ctx", {}).get("expected", ""))
        options = [o.strip(" '") for o in expected.replace(" or ", ", ").split(",")]
        close = difflib.get_close_matches(str(error["input"]), options, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"expected {expected}"
        return doc.diagnostic(path, f"invalid {name} {error['input']!r}", hint)
    message = str(error["msg"]).removeprefix("Value error, ")
    return doc.diagnostic(path, f"invalid {name}: {message[:1].lower()}{message[1:]}")


def _keys_at(model: type[BaseModel], loc: tuple[str | int, ...]) -> list[str]:
    current: type[BaseModel] = model
    for part in loc:
        if not isinstance(part, str):
            continue
        info = current.model_fields.get(part)
        annotation = info.annotation if info else None
        stack = [annotation]
        nested: list[type[BaseModel]] = []
        while stack:
            item = stack.pop()
            if isinstance(item, type) and issubclass(item, BaseModel):
                nested.append(item)
            stack.extend(getattr(item, "__args__", ()))
        if nested:
            current = nested[0]
    return [f.alias or name for name, f in current.model_fields.items()]


def is_test_file(name: str) -> bool:
    return name.endswith(TEST_SUFFIXES)


def unknown_rulesets(suite: Suite, index: RulesetIndex) -> list[Diagnostic]:
    out: dict[Diagnostic, None] = {}
    for i, test in suite.tests:
        name = suite.ruleset_of(test)
        if name not in index:
            path = ("tests", i, "ruleset") if test.ruleset else ("ruleset",)
            found = suite.doc.diagnostic(
                path, f"no ruleset named {name!r} is loaded", "loaded: " + ", ".join(index.names())
            )
            out[found] = None
    return list(out)


def check_test_files(files: Sequence[pathlib.Path], index: RulesetIndex | None) -> list[Diagnostic]:
    """Every problem of the test files without running them: reading, parsing, the format,
    and (with the compiled ``index``) tests naming a ruleset that is not loaded."""
    problems: list[Diagnostic] = []
    limit = Limits().file_bytes
    for path in files:
        try:
            with path.open("rb") as f:  # never more than the size limit and one byte
                data = f.read(limit + 1)
        except OSError as exc:
            problems.append(Diagnostic(str(path), 0, 0, f"cannot read the file: {exc}"))
            continue
        text, found = decode(str(path), data)
        if text is None:
            problems += found
            continue
        suite, found = read_suite(str(path), text)
        problems += found
        if suite is not None and index is not None:
            problems += unknown_rulesets(suite, index)
    return problems
