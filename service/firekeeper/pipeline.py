"""The event pipeline: a batch of events in one transaction, pure evaluation inside.

    events -> one transaction for the batch (store.batch_transaction):
                 the batch's chats locked in one statement, in a fixed order
                 stored decisions for the batch's ids, one look-up -> replays
                 the members the events name, one query
              -> each event in order, its chat's state carried in memory:
                 areas load (their typed state), evaluate (pure core: fact,
                 engine, decision, state changes), areas write (held)
              -> every write sent with multi-row statements, one commit

``evaluate`` is a batch of one. Everything that touches the outside world
(store, clock, logs) is here or below; ``firekeeper.rules`` stays pure.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from firekeeper.domain.chats import ChatContext, ChatKey, ChatRecord, ChatRegistration
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import Event
from firekeeper.domain.onboarding import ChatHistory, ImportSummary
from firekeeper.domain.views import ChatView, RulesetSummary
from firekeeper.errors import ChatNotFound, InvalidEvent, InvalidParam, UnknownRuleset
from firekeeper.rules.compiler import CompiledRuleset, RulesetIndex
from firekeeper.rules.evaluate import Budget, Enricher, Evaluation, evaluate
from firekeeper.rules.explain import explained
from firekeeper.rules.facts import people_ids, size_tier
from firekeeper.rules.language import as_written
from firekeeper.store import STORE_FAILURES, ChatTx, DuplicateEvent, Store
from firekeeper.store.batch import BatchTx, EventKey

log = logging.getLogger("firekeeper.pipeline")

S = TypeVar("S")

DEFAULT_RULESET = "base"
# The retention mark is read again after this long (store.retention.MARK_GRACE is longer).
MARK_TTL_SECONDS = 30.0


class Area(Protocol[S]):
    """A governance area with state of its own (invite records, windows, queues), typed
    by what it loads (``S``, a value of its own).

    ``load`` runs under the chat's lock before evaluation and returns the area's
    state for the event; ``enrich`` is the area's pure feature stage and receives
    that value back with the event (its pure part lives in ``firekeeper.rules``);
    ``write`` runs after evaluation in the same transaction and receives it again,
    with the evaluation, so the area's state and the decision commit together.
    """

    name: str

    def load(self, tx: ChatTx, event: Event, ctx: ChatContext) -> S: ...

    def enrich(
        self, event: Event, ctx: ChatContext, loaded: S
    ) -> Mapping[str, Mapping[str, Any]]: ...

    def write(self, tx: ChatTx, event: Event, loaded: S, result: Evaluation) -> None: ...


class _EventFailed(Exception):
    """One event's writes failed (not the store): its batch rolls back and is decided
    again without it."""

    def __init__(self, position: int, cause: Exception) -> None:
        super().__init__(f"event {position} of the batch: {cause}")
        self.position = position
        self.cause = cause


class StoreTiming(Protocol):
    def observe_store(self, operation: str, seconds: float) -> None: ...


class _NoTiming:
    def observe_store(self, operation: str, seconds: float) -> None:
        return None


# merges a chat's history into the areas' tables
# (firekeeper.areas.lifecycle.onboarding.import_history)
HistoryImport = Callable[[Store, ChatKey, ChatHistory], ImportSummary]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class RulesetHolder:
    """The current compiled rulesets; replaced whole, read without locks."""

    def __init__(self, index: RulesetIndex) -> None:
        self._index = index

    @property
    def index(self) -> RulesetIndex:
        return self._index

    def replace(self, index: RulesetIndex) -> None:
        self._index = index


class Pipeline:
    def __init__(
        self,
        store: Store,
        rulesets: RulesetHolder,
        *,
        clock: Callable[[], datetime] = _utcnow,
        timing: StoreTiming | None = None,
        areas: Sequence[Area[Any]] = (),
        decision_days: int = 0,
        budget_seconds: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        on_over_budget: Callable[[str], None] | None = None,
        history: HistoryImport | None = None,
    ) -> None:
        """``budget_seconds``: how long one event's pure feature stages may take
        (``firekeeper.rules.evaluate.Budget``); ``on_over_budget(kind)`` counts an overrun.
        ``history``: merges a chat's history from before Firekeeper saw it into the areas'
        tables (``firekeeper.wiring`` passes
        ``firekeeper.areas.lifecycle.onboarding.import_history``)."""
        self._areas = tuple(areas)
        self._history = history
        # decisions are kept this many days (0: forever); an older event is refused
        self._decision_days = decision_days
        self._mark: tuple[float, datetime | None] | None = None  # (read at, retention mark)
        self._budget_seconds = budget_seconds
        self._monotonic = monotonic
        self._on_over_budget = on_over_budget
        self._store = store
        self._rulesets = rulesets
        self._clock = clock
        self._timing: StoreTiming = timing or _NoTiming()

    # ------------------------------------------------------------ events
    def evaluate(self, event: Event, *, explain: bool = False) -> Decision:
        """The decision on ``event`` (a batch of one); ``explain``: with its explanation."""
        outcome = self.evaluate_batch([event], explain=explain)[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def evaluate_batch(
        self, events: Sequence[Event], *, explain: bool | Sequence[bool] = False
    ) -> list[Decision | Exception]:
        """The decisions on ``events``, in order: one outcome per event, a ``Decision`` or
        the error that event alone met (the others go through). ``explain``: for every
        event, or one flag per event. An event id decided before (or earlier in the batch)
        gets its stored decision, ``replayed=True``.

        When the store fails, the batch fails as a whole: the store's error is raised and
        nothing is written (send the events again, in order). An event whose own writes
        fail (an area's bug on that event) gets that error, and the batch is decided
        again without it, so it cannot take the others down with it."""
        flags = [explain] * len(events) if isinstance(explain, bool) else list(explain)
        if len(flags) != len(events):
            raise ValueError(f"{len(flags)} explain flags for {len(events)} events")
        failed: dict[int, Exception] = {}  # position -> the error its writes met
        while True:
            keep = [i for i in range(len(events)) if i not in failed]
            batch, batch_flags = [events[i] for i in keep], [flags[i] for i in keep]
            try:
                try:
                    decided = self._decide_batch(batch, batch_flags) if batch else []
                except DuplicateEvent:  # a replica stored one of these ids meanwhile
                    decided = self._decide_batch(batch, batch_flags)
            except _EventFailed as failure:  # rolled back whole: again without that event
                failed[keep[failure.position]] = failure.cause
                continue
            break
        by_position = dict(zip(keep, decided, strict=True))
        outcomes = [failed[i] if i in failed else by_position[i] for i in range(len(events))]
        for event, outcome in zip(events, outcomes, strict=True):
            if isinstance(outcome, Decision) and not outcome.replayed:
                self._log_decided(event, outcome)
        return outcomes

    def _decide_batch(
        self, events: Sequence[Event], explain: Sequence[bool]
    ) -> list[Decision | Exception]:
        """One transaction: the batch's chats locked, its stored decisions looked up and
        its members read once, each event decided in order, every write sent at the end."""
        with (
            self._timed("batch_transaction"),
            self._store.batch_transaction(_chat_key(e) for e in events) as batch,
        ):
            decided = batch.stored_decisions(_event_key(e) for e in events)
            batch.preload_members(
                (_chat_key(e), uid)
                for e in events
                if _event_key(e) not in decided
                for uid in people_ids(e)
            )
            return [
                self._decide(batch, position, event, flag, decided)
                for position, (event, flag) in enumerate(zip(events, explain, strict=True))
            ]

    def _decide(
        self,
        batch: BatchTx,
        position: int,
        event: Event,
        explain: bool,
        decided: dict[EventKey, Decision],
    ) -> Decision | Exception:
        """One event of the batch: its stored decision, its own error, or its new decision
        (whose writes the batch keeps; ``decided`` gets it, so a second event with its id
        in the batch is its replay)."""
        key = _event_key(event)
        if (stored := decided.get(key)) is not None:
            return replace(stored, replayed=True)
        tx = batch.chat(_chat_key(event))
        try:
            self._refuse_if_too_old(event)
            # The ruleset is chosen once, before the areas load, so a hot reload
            # between two reads can never mix two rulesets within one event.
            ruleset = self._ruleset_for(tx.chat)
            ctx = ChatContext(tx.chat, tx.members(people_ids(event)), profile_theme=ruleset.theme)
            loaded = [(area, area.load(tx, event, ctx)) for area in self._areas]
            params = self._params_for(ruleset, tx.chat)
            started = self._monotonic()
            result = evaluate(
                ruleset,
                event,
                ctx,
                params,
                self._clock(),
                {area.name: _stage(area, state) for area, state in loaded},
                budget=self._budget(started),
            )
            if result.over_budget:
                self._over_budget(event, result, self._monotonic() - started)
            if explain:
                result = replace(result, decision=explained(ruleset, result.decision, result.fact))
        except STORE_FAILURES:
            raise  # the transaction is lost: the batch fails as a whole
        except Exception as exc:  # this event's own error; nothing of it was written
            return exc
        try:
            tx.apply(result.changes)
            for area, state in loaded:
                area.write(tx, event, state, result)
            tx.save_decision(event, result.decision)
        except STORE_FAILURES:
            raise
        except Exception as exc:  # half of its writes may be held: the batch must roll back
            raise _EventFailed(position, exc) from exc
        decided[key] = result.decision
        return result.decision

    def _log_decided(self, event: Event, decision: Decision) -> None:
        env = event.envelope
        log.info(
            "decided",
            extra={
                "event_id": env.event_id,
                "kind": event.kind.value,
                "platform": env.platform.value,
                "ruleset": decision.ruleset,
                "rules": [m.rule_id for m in decision.trace],
                "actions": [a.type.value for a in decision.actions],
            },
        )

    # ------------------------------------------------------------ chats
    def register_chat(self, reg: ChatRegistration) -> ChatView:
        index = self._rulesets.index
        name = reg.ruleset or self._default_name(reg.kind)
        if name not in index:
            raise UnknownRuleset(name, index.names())
        index.get(name).resolve_params(reg.params)  # raises InvalidParam before anything is written
        with self._timed("register_chat"):
            record = self._store.register_chat(reg)
        return self._view(record)

    def import_history(self, key: ChatKey, history: ChatHistory) -> ImportSummary:
        """Merge a chat's history from before Firekeeper saw it (``ChatNotFound`` for a
        chat never registered); see ``firekeeper.areas.lifecycle.onboarding``."""
        if self._history is None:
            raise RuntimeError(
                "this pipeline cannot import histories: build it with firekeeper.wiring"
            )
        with self._timed("import_history"):
            return self._history(self._store, key, history)

    def get_chat(self, key: ChatKey) -> ChatView:
        with self._timed("get_chat"):
            record = self._store.get_chat(key)
        if record is None:
            raise ChatNotFound(str(key))
        return self._view(record)

    def list_rulesets(self) -> list[RulesetSummary]:
        out = []
        for rs in self._rulesets.index.all():
            out.append(
                RulesetSummary(
                    name=rs.name,
                    version=rs.version,
                    kind=rs.kind,
                    description=rs.description,
                    rule_count=len(rs.rules),
                    params=tuple(
                        (p.name, _as_written(rs, p.name, p.default), p.description)
                        for p in rs.params.values()
                    ),
                    source=rs.source,
                    extends=rs.extends or "",
                )
            )
        return out

    def ready(self) -> bool:
        return bool(self._rulesets.index.names()) and self._store.ping()

    # ------------------------------------------------------------ helpers
    def _refuse_if_too_old(self, event: Event) -> None:
        """An event older than the decision log's retention mark may have been decided and
        pruned: evaluating it again could count it twice, so it is refused (its stored
        decision, while the sweep has not deleted it yet, is still returned above). Until
        the sweep has pruned anything, no event is refused, however old."""
        if not self._decision_days:
            return
        mark = self._pruned_before()
        occurred = event.envelope.occurred_at
        if mark is None or occurred >= mark:
            return
        days = self._decision_days
        raise InvalidEvent(
            "envelope.occurred_at",
            f"the event occurred at {occurred.isoformat()}, before {mark.isoformat()}, up to "
            f"which the decision log has been pruned (decisions are kept {days} days, "
            "FIREKEEPER_DECISION_RETENTION_DAYS), so an event this old may already have "
            "been decided: it is not evaluated",
        )

    def _pruned_before(self) -> datetime | None:
        """The store's retention mark, read at most every MARK_TTL_SECONDS (the sweep
        deletes only up to a mark published longer ago than that)."""
        now = time.monotonic()
        cached = self._mark
        if cached is None or now - cached[0] > MARK_TTL_SECONDS:
            cached = (now, self._store.decisions_pruned_before())
            self._mark = cached
        return cached[1]

    def _budget(self, started: float) -> Budget | None:
        if self._budget_seconds is None:
            return None
        return Budget(self._monotonic, started + self._budget_seconds)

    def _over_budget(self, event: Event, result: Evaluation, seconds: float) -> None:
        """Log (without any text) and count an evaluation that ran past its budget."""
        env = event.envelope
        log.warning(
            "evaluation over its time budget",
            extra={
                "event_id": env.event_id,
                "kind": event.kind.value,
                "platform": env.platform.value,
                "budget_ms": round((self._budget_seconds or 0) * 1000, 3),
                "elapsed_ms": round(seconds * 1000, 3),
                "skipped_stages": list(result.decision.skipped_stages),
            },
        )
        if self._on_over_budget is not None:
            self._on_over_budget(event.kind.value)

    def _default_name(self, kind: str) -> str:
        return kind if kind in self._rulesets.index else DEFAULT_RULESET

    def _ruleset_for(self, chat: ChatRecord) -> CompiledRuleset:
        index = self._rulesets.index
        if chat.ruleset and chat.ruleset in index:
            return index.get(chat.ruleset)
        if chat.ruleset:
            log.warning(
                "chat's ruleset is not loaded; using its kind's default",
                extra={"chat": str(chat.key), "ruleset": chat.ruleset},
            )
        return index.get(self._default_name(chat.kind))

    def _params_for(self, ruleset: CompiledRuleset, chat: ChatRecord) -> dict[str, object]:
        try:
            return ruleset.resolve_params(chat.param_overrides())
        except InvalidParam as exc:
            log.warning(
                "chat's parameter overrides no longer fit its ruleset; using defaults",
                extra={"chat": str(chat.key), "ruleset": ruleset.name, "error": str(exc)},
            )
            return ruleset.resolve_params({})

    def _view(self, record: ChatRecord) -> ChatView:
        ruleset = self._ruleset_for(record)
        params = self._params_for(ruleset, record)
        return ChatView(
            chat=replace(record, ruleset=ruleset.name),
            effective_params={
                k: record.param_overrides().get(k) or _as_written(ruleset, k, v)
                for k, v in params.items()
            },
            size_tier=size_tier(record.member_count),
        )

    @contextmanager
    def _timed(self, operation: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self._timing.observe_store(operation, time.perf_counter() - start)


def _stage(area: Area[S], loaded: S) -> Enricher:
    """The area's pure stage for one event, with what the area loaded for it."""
    return lambda event, ctx: area.enrich(event, ctx, loaded)


def _chat_key(event: Event) -> ChatKey:
    env = event.envelope
    return ChatKey(env.platform, env.tenant, env.chat_id)


def _event_key(event: Event) -> EventKey:
    env = event.envelope
    return (env.tenant, env.platform, env.event_id)


def _as_written(ruleset: CompiledRuleset, name: str, value: object) -> str:
    """A parameter's value the way its author writes it: durations as ``14d``, not seconds."""
    param = ruleset.params.get(name)
    if param is not None and param.type == "duration" and isinstance(value, int):
        return param.written if value == param.default and param.written else as_written(value)
    return _scalar(value)


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
