"""The tick scheduler: time-driven rules without engine timers.

Every period (``FIREKEEPER_TICK_SECONDS``) the leading replica evaluates one
``chat.tick`` event per chat through the same pipeline as every other event, and
in the service through the same queue (``firekeeper.lifecycle_runtime.QueuedTicks``:
the server's batcher, so with SQLite's one evaluation thread a tick never runs
beside an Evaluate call):
the chat is locked, the decision is logged, areas load and write state, and
the lifecycle area puts the tick's actions in the outbox. After each completed
round the leader runs the retention sweep (``firekeeper.store.retention``), so
pruning happens once a period, on one replica, never on a request.

    period_index = floor(unix time / period)
    event_id     = "tick:<chat_id>:<period>s:<period_index>"   (idempotent)
    occurred_at  = period_index * period                       (the period's start)

A tick is evaluated once whoever tries: after a takeover or a restart in the
middle of a round, the new leader runs the period again and every chat already
done answers with its stored decision. Leadership (``firekeeper.store.leader``)
is checked before every round and every 200 chats within one.

The clock is injected; ``run_once`` does one check-and-round synchronously, so
tests drive the scheduler without waiting.

``run_ticks`` is the same round for a time the caller names, for one chat, a
tenant's chats or all of them (the Scheduler.RunTicks RPC and ``firekeeper
tick``): operators and tests exercise time-driven rules without waiting for
the clock. It makes the very events the scheduler would make for that period,
so running a period twice, or running one the scheduler runs too, decides
nothing new: the second time every chat answers with its stored decision.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa

from firekeeper.areas.lifecycle.queries import scheduler_runs, upsert
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import ChatTick, Envelope, Event, Platform
from firekeeper.errors import FirekeeperError
from firekeeper.store import Store
from firekeeper.store.db import SQLITE_BEGIN, unavailable_on_db_errors
from firekeeper.store.leader import Leadership
from firekeeper.store.models import chats

log = logging.getLogger("firekeeper.scheduler")

RUN_NAME = "ticks"
RECHECK_EVERY = 200


class QueueNotRunning(Exception):
    """Ticks cannot be evaluated now: the server's evaluation queue (its batcher) is
    not running yet, or no longer (start-up, shutdown), or did not answer in time (a
    stalled evaluation thread). A round that meets it stops there, is put off (not
    failed: no tick is counted as failed) and is run again at the next check; a manual
    round (``run_ticks``) stops and raises it."""


class TickObserver(Protocol):
    """What the scheduler reports (``firekeeper.areas.lifecycle.metrics.LifecycleMetrics``
    implements it)."""

    def observe_tick(self, event: Event, decision: Decision | None, seconds: float) -> None:
        """One tick; ``decision`` None when its evaluation failed."""
        ...

    def set_leader(self, leading: bool) -> None: ...

    def after_round(self) -> None:
        """A round ended (new outbox items may be waiting)."""
        ...


class _Unobserved:
    def observe_tick(self, event: Event, decision: Decision | None, seconds: float) -> None:
        return None

    def set_leader(self, leading: bool) -> None:
        return None

    def after_round(self) -> None:
        return None


@dataclass(frozen=True, slots=True)
class Round:
    period_index: int
    chats: int
    evaluated: int  # new decisions
    replayed: int  # already decided (an earlier, interrupted round)
    failed: int
    complete: bool  # False: leadership was lost part way, a tick failed, or put off
    put_off: bool = False  # the queue was not running (``QueueNotRunning``): run again later


@dataclass(frozen=True, slots=True)
class TickOutcome:
    key: ChatKey
    decision: Decision | None  # None: the evaluation failed (``error`` says why)
    error: Exception | None = None


@dataclass(frozen=True, slots=True)
class ManualRound:
    """What ``run_ticks`` did for one period."""

    period_seconds: int
    period_index: int
    outcomes: tuple[TickOutcome, ...]

    @property
    def period_start(self) -> datetime:
        return datetime.fromtimestamp(self.period_index * self.period_seconds, UTC)

    @property
    def evaluated(self) -> int:
        return sum(1 for o in self.outcomes if o.decision is not None and not o.decision.replayed)

    @property
    def replayed(self) -> int:
        return sum(1 for o in self.outcomes if o.decision is not None and o.decision.replayed)

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.decision is None)


@dataclass(frozen=True, slots=True)
class ChatSelection:
    """Which chats a manual round covers: all, a tenant's (on one platform or all), or one."""

    tenant: str = ""
    platform: Platform | None = None
    chat_id: str = ""

    def __post_init__(self) -> None:
        if self.chat_id and not (self.tenant and self.platform is not None):
            raise ValueError("a chat is named by platform, tenant and chat id together")


def select_chat_keys(store: Store, selection: ChatSelection) -> list[ChatKey]:
    """The registered chats ``selection`` names, in registration order."""
    engine = store.engine
    query = sa.select(chats.c.platform, chats.c.tenant, chats.c.chat_id).order_by(chats.c.id)
    if selection.tenant:
        query = query.where(chats.c.tenant == selection.tenant)
    if selection.platform is not None:
        query = query.where(chats.c.platform == selection.platform.value)
    if selection.chat_id:
        query = query.where(chats.c.chat_id == selection.chat_id)
    with unavailable_on_db_errors(engine, "list chats for ticks"), engine.connect() as conn:
        rows = conn.execute(query).all()
    return [ChatKey(Platform(r.platform), r.tenant, r.chat_id) for r in rows]


def run_ticks(
    store: Store,
    evaluate: Callable[[Event], Decision],
    *,
    period_seconds: int,
    at: datetime,
    selection: ChatSelection = ChatSelection(),
    observer: TickObserver | None = None,
) -> ManualRound:
    """Evaluate the tick of the period ``at`` falls in for each chat of ``selection``.

    No leadership is needed: the events are the scheduler's own (same ids), so a
    chat already ticked for that period, by the scheduler or an earlier call,
    answers with its stored decision and nothing is sent twice. A chat whose
    evaluation fails is reported and the others go on.

    ``QueueNotRunning`` (the server's evaluation queue not running, or not answering)
    stops the round: it is logged once, at INFO, counted as no tick, and raised to the
    caller (RunTicks answers UNAVAILABLE); the chats done before it stand, and running
    the round again replays them."""
    if at.tzinfo is None:
        raise ValueError("the time of a tick round must carry a time zone")
    index = int(at.timestamp()) // period_seconds
    watcher: TickObserver = observer or _Unobserved()
    outcomes: list[TickOutcome] = []
    for key in select_chat_keys(store, selection):
        event = tick_event(key, period_seconds, index)
        start = time.perf_counter()
        try:
            decision = evaluate(event)
        except QueueNotRunning as exc:
            watcher.after_round()  # the chats done before it may have put items in the outbox
            log.info(
                "manual tick round put off",
                extra={"period": index, "done": len(outcomes), "reason": str(exc)},
            )
            raise
        except Exception as exc:
            log.warning(
                "manual tick failed",
                extra={"chat": str(key), "period": index, "error": type(exc).__name__},
                exc_info=not isinstance(exc, FirekeeperError),
            )
            watcher.observe_tick(event, None, time.perf_counter() - start)
            outcomes.append(TickOutcome(key, None, exc))
            continue
        watcher.observe_tick(event, decision, time.perf_counter() - start)
        outcomes.append(TickOutcome(key, decision))
    watcher.after_round()
    result = ManualRound(period_seconds, index, tuple(outcomes))
    log.info(
        "manual tick round done",
        extra={
            "period": index,
            "chats": len(outcomes),
            "evaluated": result.evaluated,
            "replayed": result.replayed,
            "failed": result.failed,
        },
    )
    return result


def tick_event(key: ChatKey, period_seconds: int, index: int) -> Event:
    return Event(
        Envelope(
            event_id=f"tick:{key.chat_id}:{period_seconds}s:{index}",
            platform=key.platform,
            tenant=key.tenant,
            chat_id=key.chat_id,
            occurred_at=datetime.fromtimestamp(index * period_seconds, UTC),
            actor=None,
        ),
        ChatTick(period_seconds=period_seconds, period_index=index),
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


class TickScheduler:
    def __init__(
        self,
        store: Store,
        evaluate: Callable[[Event], Decision],
        leadership: Leadership,
        *,
        period_seconds: int,
        clock: Callable[[], datetime] = _utcnow,
        observer: TickObserver | None = None,
        node: str = "",
        sweep: Callable[[datetime], object] | None = None,
    ) -> None:
        if period_seconds < 1:
            raise ValueError("the tick period must be at least one second")
        self._store = store
        self._evaluate = evaluate
        self._leadership = leadership
        self.period_seconds = period_seconds
        self._clock = clock
        self._observer: TickObserver = observer or _Unobserved()
        self.node = node or f"{socket.gethostname()}/{uuid.uuid4().hex[:8]}"
        self._done: int | None = None
        self.leading = False
        # housekeeping after each completed round (the retention sweep), leader only
        self._sweep = sweep

    def period_index(self, now: datetime) -> int:
        return int(now.timestamp()) // self.period_seconds

    # ------------------------------------------------------------ one round

    def run_once(self) -> Round | None:
        """Check leadership; when leading and this period's round is not done, run it."""
        leading = self._leadership.ensure()
        if leading != self.leading:
            self.leading = leading
            self._observer.set_leader(leading)
            if not leading:
                self._done = None  # a later takeover reads what was done from the store
        if not leading:
            return None
        index = self.period_index(self._clock())
        if self._done is None:
            self._done = self._last_finished()
        if self._done is not None and self._done >= index:
            return None
        result = self._round(index)
        if result.complete:
            self._done = index
            self._record(result)
        self._observer.after_round()
        if result.complete and self._sweep is not None:
            try:
                self._sweep(self._clock())
            except Exception:  # the next round sweeps again; ticks go on regardless
                log.exception("retention sweep failed", extra={"period": index})
        return result

    def _round(self, index: int) -> Round:
        keys = self._chat_keys()
        evaluated = replayed = failed = 0
        for n, key in enumerate(keys):
            if n and n % RECHECK_EVERY == 0 and not self._leadership.ensure():
                log.warning("lost leadership during a tick round", extra={"period": index})
                self.leading = False
                self._observer.set_leader(False)
                return Round(index, len(keys), evaluated, replayed, failed, complete=False)
            event = tick_event(key, self.period_seconds, index)
            start = time.perf_counter()
            try:
                decision = self._evaluate(event)
            except QueueNotRunning as exc:  # not a failure: the round is run again later
                log.info("tick round put off", extra={"period": index, "reason": str(exc)})
                return Round(
                    index, len(keys), evaluated, replayed, failed, complete=False, put_off=True
                )
            except Exception:
                failed += 1
                log.exception("tick failed", extra={"chat": str(key), "period": index})
                self._observer.observe_tick(event, None, time.perf_counter() - start)
                continue
            self._observer.observe_tick(event, decision, time.perf_counter() - start)
            if decision.replayed:
                replayed += 1
            else:
                evaluated += 1
        log.info(
            "tick round done",
            extra={
                "period": index,
                "chats": len(keys),
                "evaluated": evaluated,
                "replayed": replayed,
                "failed": failed,
            },
        )
        # A round with failures is not done: the next run retries it (chats
        # already decided come back as cheap replays), on this replica or a new leader.
        return Round(index, len(keys), evaluated, replayed, failed, complete=failed == 0)

    # ------------------------------------------------------------ store

    def _chat_keys(self) -> list[ChatKey]:
        return select_chat_keys(self._store, ChatSelection())

    def _last_finished(self) -> int | None:
        engine = self._store.engine
        s = scheduler_runs
        with (
            unavailable_on_db_errors(engine, "read the scheduler's progress"),
            engine.connect() as conn,
        ):
            row = conn.execute(
                sa.select(s.c.period_seconds, s.c.period_index).where(s.c.name == RUN_NAME)
            ).one_or_none()
        if row is None or row.period_seconds != self.period_seconds:
            return None
        return int(row.period_index)

    def _record(self, result: Round) -> None:
        engine = self._store.engine
        values = {
            "period_seconds": self.period_seconds,
            "period_index": result.period_index,
            "finished_at": self._clock(),
            "chats": result.chats,
            "leader": self.node[:128],
        }
        with (
            unavailable_on_db_errors(engine, "record the scheduler's progress"),
            engine.connect() as conn,
        ):
            conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
            with conn.begin():
                stmt = upsert(conn, scheduler_runs).values(values | {"name": RUN_NAME})
                conn.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=values))

    def resign(self) -> None:
        """Give up leadership (shutdown); another replica takes over at its next check."""
        self._leadership.release()
        if self.leading:
            self.leading = False
            self._observer.set_leader(False)

    # ------------------------------------------------------------ the loop

    def check_seconds(self) -> float:
        """How often leadership and the period are checked: a tenth of the period,
        between 0.05 and 30 seconds (a standby takes over within that)."""
        return min(30.0, max(0.05, self.period_seconds / 10))

    async def run(self, stop: asyncio.Event, executor: Executor) -> None:
        """Until ``stop`` is set; blocking work runs on ``executor``. Releases the lock."""
        loop = asyncio.get_running_loop()
        try:
            while not stop.is_set():
                try:
                    await loop.run_in_executor(executor, self.run_once)
                except Exception:
                    log.exception("scheduler round failed; retrying at the next check")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.check_seconds())
        finally:
            await loop.run_in_executor(executor, self.resign)
