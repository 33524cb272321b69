"""Precision scenarios: a group's life over weeks, in a file a policy author can read.

A scenario file (``scenarios/*.yaml``, documented in ``docs/precision.md``) says
who the group is (platform, kind, language, theme, age, size, its people with
their join dates) and how it lives: ``talk`` generators (who posts how often,
drawing texts from pools) and ``moments`` (single events in the compact form of
ruleset tests: the owner's vote, a weekly challenge, a new member's link). A
scenario is healthy, or dying of one of the article's six death poses and then
names the rules that must act on it.

:func:`expand` turns a scenario into its events, deterministically (seeded by
the scenario's name and ``seed``): the same file always gives the same events,
ids and times. It reads no file: the text pools and the dialogue data are passed
in (``firekeeper.tools.precision`` reads them).
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from firekeeper.domain.chats import ChatKey, ChatRegistration, Theme
from firekeeper.domain.events import Event, Platform, Role
from firekeeper.domain.onboarding import ChatHistory, DayActivity, MemberHistory
from firekeeper.errors import Diagnostic
from firekeeper.rules.source import Document, Limits, load
from firekeeper.rules.spec import ProfileKind
from firekeeper.tools.events import EventContext, StepError, build_event, check_step
from firekeeper.tools.sandbox import param_text
from firekeeper.tools.suite import Duration, Moment, Scalar, ThemeState, validate

DAY = 86400
POSES = (
    "unplanned_expansion",
    "borderless_chat",
    "pay_without_trust",
    "no_leading",
    "shaking_people",
    "no_designed_communication",
)
Pose = Literal[
    "unplanned_expansion",
    "borderless_chat",
    "pay_without_trust",
    "no_leading",
    "shaking_people",
    "no_designed_communication",
]
DEFAULT_START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday
DATASET_PREFIX = "kdconv:"  # a pool drawn from the KdConv dialogues of one domain
MOMENT_KEYS = frozenset({"day", "time", "repeat", "every"})
# a scenario may be larger than a ruleset: its pools hold many lines
SCENARIO_LIMITS = Limits(file_bytes=512 * 1024, items=20_000)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Person(_Model):
    """Someone in the group at the start; what the platform would tell on import."""

    id: StrictStr = Field(min_length=1)
    name: StrictStr | None = None
    role: Role = Role.MEMBER
    joined: Duration = 90 * DAY  # before the start
    messages: StrictInt | None = Field(default=None, ge=0)  # all time; default from the talk
    last_message: Duration | None = None  # before the start; default from the talk


class History(_Model):
    """The activity imported with the group (``ImportChatHistory``): messages per week for
    the weeks before the start (default: the talk's rate at the start)."""

    weeks: StrictInt = Field(default=8, ge=0, le=17)
    per_week: StrictInt | list[StrictInt] | None = None
    # value delivered before (substantive posts, answered questions); default: a fifth
    # and a twentieth of the imported messages
    substantive_posts: StrictInt | None = Field(default=None, ge=0)
    answered_questions: StrictInt | None = Field(default=None, ge=0)


class Group(_Model):
    platform: Platform = Platform.TELEGRAM
    kind: ProfileKind
    ruleset: StrictStr | None = None  # default: the kind's ruleset
    language: StrictStr = Field(min_length=1)  # declared at registration (en, zh-Hans)
    title: StrictStr = ""
    theme: ThemeState | None = None
    age: Duration  # how old the group is at the start
    size: StrictInt | None = Field(default=None, ge=1)  # member count (default: the people)
    params: dict[StrictStr, Scalar] = {}
    people: list[Person] = Field(min_length=1)
    history: History = History()

    @model_validator(mode="after")
    def _one_owner(self) -> Group:
        owners = [p.id for p in self.people if p.role is Role.OWNER]
        if len(owners) != 1:
            raise ValueError(f"a group has exactly one person with role owner, not {len(owners)}")
        ids = [p.id for p in self.people]
        if len(set(ids)) != len(ids):
            raise ValueError("two people share an id")
        return self

    @property
    def owner(self) -> str:
        return next(p.id for p in self.people if p.role is Role.OWNER)


class Talk(_Model):
    """``per_week`` messages from ``who`` during days [``from``, ``until``), in sessions of
    ``session`` messages a few minutes apart, at hours within ``hours``."""

    who: list[StrictStr] = Field(min_length=1)
    per_week: StrictInt = Field(ge=1, le=500)
    pool: StrictStr = Field(min_length=1)
    from_: Duration = Field(default=0, alias="from")
    until: Duration | None = None
    hours: tuple[StrictInt, StrictInt] = (8, 23)
    session: StrictInt = Field(default=3, ge=1, le=20)
    wobble: float = Field(default=0.0, ge=0.0, le=0.5)  # +- share of per_week, week by week


class ScenarioFile(_Model):
    scenario: StrictStr = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9-]*$")
    description: StrictStr = ""
    pose: Pose | None = None  # none: a healthy group
    expect: list[StrictStr] = []  # rules that must act on a dying group
    source: StrictStr = ""  # where its texts come from (datasets: cite them)
    start: Moment = DEFAULT_START
    weeks: StrictInt = Field(ge=1, le=12)
    seed: StrictInt = 0
    group: Group
    talk: list[Talk] = []
    moments: list[dict[StrictStr, Any]] = []
    pools: dict[StrictStr, list[StrictStr]] = {}

    @model_validator(mode="after")
    def _expectations(self) -> ScenarioFile:
        if self.pose is not None and not self.expect:
            raise ValueError("a dying group names the rules that must act on it: expect: [...]")
        if self.pose is None and self.expect:
            raise ValueError("`expect` is for dying groups: add the `pose` it dies of")
        return self


class PoolsFile(_Model):
    """Text pools shared by the scenarios of a directory (``pools: {name: [texts]}``)."""

    pools: dict[StrictStr, list[StrictStr]]
    description: StrictStr = ""


@dataclass(frozen=True)
class Scenario:
    file: str
    spec: ScenarioFile
    doc: Document

    @property
    def name(self) -> str:
        return self.spec.scenario

    @property
    def healthy(self) -> bool:
        return self.spec.pose is None

    def line(self) -> int:
        return self.doc.position(("scenario",))[0]

    def datasets(self) -> set[str]:
        """The dataset domains its talk draws on (``kdconv:film`` -> ``film``)."""
        return {
            t.pool.removeprefix(DATASET_PREFIX)
            for t in self.spec.talk
            if t.pool.startswith(DATASET_PREFIX)
        }


def read_scenarios(
    file: str, text: str
) -> tuple[Scenario | None, dict[str, list[str]], list[Diagnostic]]:
    """One file: a scenario, or shared pools; every problem located."""
    doc, problems = load(file, text, SCENARIO_LIMITS)
    if doc is None or problems:
        return None, {}, problems
    data = doc.data
    if isinstance(data, dict) and "scenario" not in data and "pools" in data:
        pools = validate(PoolsFile, data, (), doc, problems)
        return None, dict(pools.pools) if pools else {}, problems
    spec = validate(ScenarioFile, data, (), doc, problems)
    if spec is None:
        return None, {}, problems
    people = {p.id for p in spec.group.people}
    for i, talk in enumerate(spec.talk):
        for j, who in enumerate(talk.who):
            if who not in people:
                problems.append(
                    doc.diagnostic(
                        ("talk", i, "who", j), f"{who!r} is not one of the group's people"
                    )
                )
    for i, raw in enumerate(spec.moments):
        if not isinstance(raw.get("day"), int) or isinstance(raw.get("day"), bool):
            problems.append(
                doc.diagnostic(("moments", i), "a moment needs `day:` (days after the start)")
            )
        step = {k: v for k, v in raw.items() if k not in MOMENT_KEYS}
        for sub, message, hint in check_step(step):
            problems.append(doc.diagnostic(("moments", i, *sub), message, hint))
        try:
            _clock(raw.get("time"))
        except ValueError as exc:
            problems.append(doc.diagnostic(("moments", i, "time"), str(exc)))
    return (None if problems else Scenario(file, spec, doc)), {}, problems


def check_pools(
    scenario: Scenario, pools: Mapping[str, Sequence[str]], dataset_domains: set[str] | None
) -> list[Diagnostic]:
    """Pools the scenario's talk names that exist nowhere (``dataset_domains`` None: the
    dataset was not read, so its pools are not checked)."""
    problems = []
    for i, talk in enumerate(scenario.spec.talk):
        if talk.pool.startswith(DATASET_PREFIX):
            domain = talk.pool.removeprefix(DATASET_PREFIX)
            if dataset_domains is not None and domain not in dataset_domains:
                problems.append(
                    scenario.doc.diagnostic(
                        ("talk", i, "pool"),
                        f"the dialogue data has no domain {domain!r}",
                        "one of: " + ", ".join(sorted(dataset_domains)),
                    )
                )
        elif talk.pool not in scenario.spec.pools and talk.pool not in pools:
            problems.append(
                scenario.doc.diagnostic(
                    ("talk", i, "pool"),
                    f"no text pool named {talk.pool!r}",
                    "define it under `pools:` in this file or in a pools file beside it",
                )
            )
    return problems


def _clock(value: object) -> int:
    """``"20:30"`` as seconds after midnight; none: noon."""
    if value is None:
        return 12 * 3600
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < DAY:
        return value  # YAML reads 20:30 as a sexagesimal number of minutes
    if isinstance(value, str):
        hours, _, minutes = value.partition(":")
        if hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60:
            return int(hours) * 3600 + int(minutes) * 60
    raise ValueError(f'a time of day is HH:MM, e.g. "20:30", not {value!r}')


# ------------------------------------------------------------------ expansion


@dataclass(frozen=True)
class Step:
    """One event of a scenario, with its place in the file (the talk or moment it came from)."""

    at: datetime
    event: Event
    origin: str  # "talk 2" or "moment 4"


@dataclass(frozen=True)
class Expanded:
    key: ChatKey
    registration: ChatRegistration
    history: ChatHistory
    steps: tuple[Step, ...]
    days: int  # the ticks run for days 0..days
    start: datetime = field(default=DEFAULT_START)


def _rng(scenario: ScenarioFile, salt: str) -> random.Random:
    digest = hashlib.sha256(f"{scenario.scenario}/{scenario.seed}/{salt}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def _week_counts(talk: Talk, weeks: int, rng: random.Random) -> list[int]:
    out = []
    for _ in range(weeks):
        change = rng.uniform(-talk.wobble, talk.wobble) if talk.wobble else 0.0
        out.append(max(0, round(talk.per_week * (1 + change))))
    return out


def _texts(
    talk: Talk,
    n: int,
    pools: Mapping[str, Sequence[str]],
    dialogues: Mapping[str, Sequence[Sequence[str]]],
    rng: random.Random,
) -> list[str]:
    """``n`` texts for a talk: a pool shuffled and cycled, or whole dialogues in order."""
    if talk.pool.startswith(DATASET_PREFIX):
        chosen = list(dialogues.get(talk.pool.removeprefix(DATASET_PREFIX), ()))
        rng.shuffle(chosen)
        flat = [m for d in chosen for m in d]
    else:
        flat = list(pools[talk.pool])
        rng.shuffle(flat)
    if not flat:
        return []
    return [flat[i % len(flat)] for i in range(n)]


def _session_times(
    talk: Talk, start: datetime, days: Sequence[int], rng: random.Random
) -> list[datetime]:
    """When a talk's messages fall on ``days`` (days after ``start``, may be negative):
    week by week, ``per_week`` (+- the wobble) in sessions on random days and hours."""
    if not days:
        return []
    counts = _week_counts(talk, (len(days) + 6) // 7, rng)
    times: list[datetime] = []
    low, high = talk.hours
    for w, count in enumerate(counts):
        week_days = days[w * 7 : w * 7 + 7]
        left = count
        while left > 0:
            day = rng.choice(week_days)
            second = rng.randrange(low * 3600, max(low * 3600 + 1, high * 3600))
            at = start + timedelta(days=day, seconds=second)
            for _ in range(min(talk.session, left)):
                times.append(at)
                at += timedelta(seconds=rng.randrange(40, 400))
                left -= 1
    times.sort()
    return times


def _talk_steps(
    spec: ScenarioFile,
    i: int,
    talk: Talk,
    pools: Mapping[str, Sequence[str]],
    dialogues: Mapping[str, Sequence[Sequence[str]]],
) -> list[tuple[datetime, dict[str, Any]]]:
    rng = _rng(spec, f"talk-{i}")
    first = talk.from_ // DAY
    last = min(spec.weeks * 7, (talk.until // DAY) if talk.until is not None else spec.weeks * 7)
    times = _session_times(talk, spec.start, list(range(first, last)), rng)
    texts = _texts(talk, len(times), pools, dialogues, rng)
    out = []
    speaker = rng.randrange(len(talk.who))
    for at, text in zip(times, texts, strict=False):
        # a conversation goes back and forth: the next speaker is rarely the same one
        if len(talk.who) > 1 and rng.random() < 0.85:
            speaker = (speaker + rng.randrange(1, len(talk.who))) % len(talk.who)
        out.append((at, {"kind": "message.posted", "actor": talk.who[speaker], "text": text}))
    return out


def expand(
    scenario: Scenario,
    *,
    tenant: str,
    pools: Mapping[str, Sequence[str]],
    dialogues: Mapping[str, Sequence[Sequence[str]]],
) -> Expanded:
    """The scenario's registration, imported history and events, in time order."""
    spec = scenario.spec
    group = spec.group
    start = spec.start.replace(hour=0, minute=0, second=0, microsecond=0)
    spec = spec.model_copy(update={"start": start})
    key = ChatKey(group.platform, tenant, spec.scenario)
    names = {p.id: p.name or p.id for p in group.people}
    all_pools = {**pools, **spec.pools}
    ctx = EventContext(
        platform=group.platform, tenant=tenant, chat_id=spec.scenario, owner=group.owner
    )
    raw: list[tuple[datetime, str, dict[str, Any]]] = []
    for i, talk in enumerate(spec.talk):
        for at, step in _talk_steps(spec, i, talk, all_pools, dialogues):
            raw.append((at, f"talk {i + 1}", step))
    for i, moment in enumerate(spec.moments):
        step = {k: v for k, v in moment.items() if k not in MOMENT_KEYS}
        at = start + timedelta(days=int(moment["day"]), seconds=_clock(moment.get("time")))
        every = timedelta(seconds=int(_every(moment)))
        for n in range(int(moment.get("repeat", 1))):
            raw.append((at + every * n, f"moment {i + 1}", step))
    raw.sort(key=lambda item: item[0])
    steps = []
    for n, (at, origin, step) in enumerate(raw):
        event_ctx = EventContext(
            platform=ctx.platform,
            tenant=tenant,
            chat_id=spec.scenario,
            occurred_at=at,
            event_id=f"{spec.scenario}:{n + 1}",
            owner=group.owner,
            names=names,
            n=n + 1,
        )
        try:
            event = build_event(step, event_ctx)
        except StepError as exc:  # checked when the file was read; kept for safety
            raise ValueError(f"{scenario.file}: {origin}: {exc.message}") from None
        steps.append(Step(at, event, origin))
    return Expanded(
        key=key,
        registration=_registration(spec, key),
        history=_history(spec),
        steps=tuple(steps),
        days=spec.weeks * 7,
        start=start,
    )


def _every(moment: Mapping[str, Any]) -> int:
    from firekeeper.tools.suite import seconds

    value = moment.get("every")
    return 7 * DAY if value is None else seconds(value)


def _registration(spec: ScenarioFile, key: ChatKey) -> ChatRegistration:
    group = spec.group
    theme = Theme()
    if group.theme is not None:
        t = group.theme
        theme = Theme(
            tuple(t.keywords), tuple(t.phrases), tuple(t.languages), examples=tuple(t.examples)
        )
    return ChatRegistration(
        key=key,
        ruleset=group.ruleset or "",
        kind=group.kind,
        theme=theme,
        created_at=spec.start - timedelta(seconds=group.age),
        params={name: param_text(v) for name, v in group.params.items()},
        title=group.title,
        member_count=group.size or len(group.people),
        owner_id=group.owner,
        language=group.language,
    )


def _rate_at_start(spec: ScenarioFile) -> dict[str, float]:
    """Messages a week each person posts in the talk running at the start."""
    rate: dict[str, float] = {}
    for talk in spec.talk:
        if talk.from_ == 0:
            for who in talk.who:
                rate[who] = rate.get(who, 0.0) + talk.per_week / len(talk.who)
    return rate


def _history(spec: ScenarioFile) -> ChatHistory:
    group = spec.group
    start = spec.start
    rate = _rate_at_start(spec)
    hist = group.history
    per_day: Counter[date] = Counter()
    back = list(range(-7 * hist.weeks, 0))  # the imported weeks, oldest day first
    if hist.per_week is None:
        # the talk running at the start, lived the same way before it: its ups and downs
        # are the group's usual variation
        for i, talk in enumerate(spec.talk):
            if talk.from_ == 0:
                rng = _rng(spec, f"history-{i}")
                for at in _session_times(talk, start, back, rng):
                    per_day[at.date()] += 1
    else:
        given = hist.per_week if isinstance(hist.per_week, list) else [hist.per_week] * hist.weeks
        given = ([0] * hist.weeks + list(given))[-hist.weeks :] if hist.weeks else []
        for w, count in enumerate(given):  # the oldest week first
            for d in range(7):
                day = (start + timedelta(days=back[w * 7 + d])).date()
                per_day[day] += count // 7 + (1 if d < count % 7 else 0)
    days = [
        DayActivity((start + timedelta(days=d)).date(), per_day[(start + timedelta(days=d)).date()])
        for d in back
    ]
    imported = sum(per_day.values())
    members = []
    for p in group.people:
        weekly_own = rate.get(p.id, 0.0)
        in_30d = round(weekly_own * 30 / 7)
        joined_days = p.joined / DAY
        count = p.messages if p.messages is not None else round(weekly_own * joined_days / 7)
        count = max(count, in_30d)
        last = p.last_message
        if last is None and weekly_own > 0:
            last = DAY
        members.append(
            MemberHistory(
                user_id=p.id,
                display_name=p.name or p.id,
                role=p.role,
                joined_at=start - timedelta(seconds=p.joined),
                message_count=count,
                last_message_at=None if last is None else start - timedelta(seconds=last),
                messages_30d=in_30d if last is None or last <= 30 * DAY else 0,
            )
        )
    return ChatHistory(
        as_of=start,
        members=tuple(members),
        days=tuple(days),
        substantive_posts=(
            hist.substantive_posts if hist.substantive_posts is not None else imported // 5
        ),
        answered_questions=(
            hist.answered_questions if hist.answered_questions is not None else imported // 20
        ),
    )
