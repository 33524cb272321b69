"""The batcher: every evaluation of a server process goes through one queue, in batches.

Unary ``Evaluate`` calls and ``EvaluateBatch`` calls put their events on one queue
(``submit``); one evaluation thread takes what is waiting, up to ``batch_max``
events, runs ``port.evaluate_batch`` once on them, and hands each caller its
outcomes. Events that arrive while a batch runs wait for the next one, so batches
grow with the load by themselves; a call that arrives while the thread is idle goes
at once. Right after a batch, when fewer than ``batch_max`` events wait, the
thread waits up to ``wait_seconds`` for more (0: never).

Why one thread: durable-rules never releases the interpreter lock, and SQLite has
one writer, so evaluations on several threads only queue on those two locks (on
SQLite p99 went from 7 ms to 500 ms with eight); one thread and one hop per batch,
not per event. On PostgreSQL an event waits on many round trips, so there the
server runs a few threads (``threads``), each taking whole batches from the one
queue; a call never has two batches running at once, so its order holds.

Fairness: when a batch is made, the room is shared among the waiting calls in
arrival order, each getting an equal share (the rest to the calls that need it), so
a call waiting while a batch is made gets at least one slot when fewer than
``batch_max`` calls wait: a unary call waits for at most the batch that is running
and then its own, however big the ``EvaluateBatch`` calls beside it. A call's
events stay in their order, within a batch and across batches.

Deadlines: a call whose deadline passed (or whose caller went away) while it
waited is not evaluated further. If none of its events was decided it fails as a
whole (``Stopped``); otherwise the events not reached get ``NOT_REACHED`` and the
decided ones are returned, so the adapter resends only those.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Protocol

from firekeeper.domain import Decision, Event

log = logging.getLogger(__name__)


class BatchPort(Protocol):
    def evaluate_batch(
        self, events: Sequence[Event], *, explain: bool | Sequence[bool] = False
    ) -> list[Decision | Exception]:
        """One outcome per event, in order: its decision or the error it alone met."""
        ...


class BatchObserver(Protocol):
    def observe_batch(self, events: int, seconds: float) -> None: ...


class Stopped(Exception):
    """The call's deadline passed, or its caller went away, before any of its events
    was decided: nothing was done for it."""


class Closed(Exception):
    """The server is shutting down: the call was not evaluated."""


class NotReached:
    """The outcome of an event whose call ran out of time before it was evaluated."""

    def __repr__(self) -> str:
        return "NOT_REACHED"


NOT_REACHED = NotReached()
Outcome = Decision | Exception | NotReached


@dataclass(frozen=True, slots=True)
class Answer:
    """One event's outcome and how long it took from entering the queue to its answer."""

    outcome: Outcome
    seconds: float


class Call:
    """One caller's events, waiting for or going through the evaluation thread."""

    __slots__ = (
        "_future",
        "cancelled",
        "deadline",
        "events",
        "explain",
        "inflight",
        "next",
        "outcomes",
        "since",
        "waiter",
    )

    def __init__(
        self,
        events: Sequence[Event],
        explain: Sequence[bool],
        deadline: float | None,
        since: float,
        waiter: asyncio.Future[list[Answer]] | None = None,
    ) -> None:
        self.events = events
        self.explain = explain
        self.deadline = deadline  # on time.monotonic(); None: none
        self.since = since
        self.cancelled = False  # set from the caller's side; read by the evaluation thread
        self.next = 0  # the first event not yet taken into a batch
        self.inflight = 0  # events taken into a batch that is running
        self.outcomes: list[Answer | None] = [None] * len(events)
        # an event loop's caller (``Batcher.evaluate``) is answered on its loop, every
        # call a batch finished in one hand-over; only a thread's caller (``submit``)
        # gets a thread-safe future (making one costs a lock and a condition per call)
        self.waiter = waiter
        self._future: Future[list[Answer]] | None = None
        if waiter is None:
            self._future = Future()
            # running: a cancel from the caller's side cannot race the evaluation
            # thread's answer (the caller sets ``cancelled`` instead)
            self._future.set_running_or_notify_cancel()

    @property
    def future(self) -> Future[list[Answer]]:
        """A ``submit`` caller's answer (a call made by ``Batcher.evaluate`` has none)."""
        if self._future is None:
            raise RuntimeError("a call from Batcher.evaluate is answered on its event loop")
        return self._future

    def settle(self, result: list[Answer] | BaseException) -> None:
        """Answer the caller (on the thread that owns its future)."""
        target = self.waiter if self.waiter is not None else self.future
        if target.done():
            return
        if isinstance(result, BaseException):
            target.set_exception(result)
        else:
            target.set_result(result)

    @property
    def left(self) -> int:
        return len(self.events) - self.next

    def stopped(self, now: float) -> bool:
        return self.cancelled or (self.deadline is not None and now >= self.deadline)


class Batcher:
    """Owned by the server, one per process. ``start()`` starts the evaluation thread."""

    def __init__(
        self,
        port: BatchPort,
        *,
        batch_max: int = 100,
        wait_seconds: float = 0.0,
        observer: BatchObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
        threads: int = 1,
    ) -> None:
        """``threads``: evaluation threads, each running whole batches; a call has at
        most one batch running at a time, so its events keep their order."""
        if batch_max < 1 or threads < 1:
            raise ValueError("batch_max and threads must be at least 1")
        self._count = threads
        self._port = port
        self._max = batch_max
        self._wait = wait_seconds
        self._observer = observer
        self._clock = clock
        self._lock = threading.Condition()
        self._queue: deque[Call] = deque()
        self._waiting = 0  # events not yet taken, over every queued call
        self._closed = False
        self._busy = 0  # batches running
        self._threads: list[threading.Thread] = []

    # ------------------------------------------------------------ callers

    def start(self) -> None:
        if not self._threads:
            for n in range(self._count):
                name = "firekeeper-evaluation" + (f"-{n}" if self._count > 1 else "")
                thread = threading.Thread(target=self._run, name=name, daemon=True)
                self._threads.append(thread)
                thread.start()

    def submit(
        self,
        events: Sequence[Event],
        explain: Sequence[bool] | None = None,
        *,
        deadline: float | None = None,
    ) -> Call:
        """Queue ``events`` (in their order); ``call.future`` gets one ``Answer`` each.
        ``deadline``: on ``time.monotonic()``; ``call.cancelled = True`` stops it too."""
        return self._submit(events, explain, deadline, None)

    def _submit(
        self,
        events: Sequence[Event],
        explain: Sequence[bool] | None,
        deadline: float | None,
        waiter: asyncio.Future[list[Answer]] | None,
    ) -> Call:
        flags = list(explain) if explain is not None else [False] * len(events)
        if len(flags) != len(events):
            raise ValueError(f"{len(flags)} explain flags for {len(events)} events")
        call = Call(events, flags, deadline, self._clock(), waiter)
        if not events:
            call.settle([])
            return call
        with self._lock:
            if self._closed:
                call.settle(Closed())
                return call
            self._queue.append(call)
            self._waiting += len(events)
            self._lock.notify()
        return call

    async def evaluate(
        self,
        events: Sequence[Event],
        explain: Sequence[bool] | None = None,
        *,
        deadline: float | None = None,
    ) -> list[Answer]:
        """``submit`` from the event loop; if the awaiting task is cancelled, the events
        not yet taken are not evaluated."""
        waiter: asyncio.Future[list[Answer]] = asyncio.get_running_loop().create_future()
        call = self._submit(events, explain, deadline, waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            call.cancelled = True
            raise

    @property
    def busy(self) -> int:
        """How many ``evaluate_batch`` calls are running right now."""
        return self._busy

    @property
    def waiting(self) -> int:
        """Events queued and not yet taken into a batch."""
        return self._waiting

    def close(self) -> None:
        """Refuse new calls; a batch running finishes, then the calls still queued end
        with ``Closed`` (their decided events stand) and the thread ends."""
        with self._lock:
            self._closed = True
            self._lock.notify_all()
            running = any(t.is_alive() for t in self._threads)
        if not running:
            self._drain()

    def _drain(self) -> None:
        """End the queued calls with ``Closed``; one with a batch running is ended by
        the thread running it, once that batch is done."""
        with self._lock:
            queued = [c for c in self._queue if not c.inflight]
            self._queue = deque(c for c in self._queue if c.inflight)
            self._waiting = sum(c.left for c in self._queue)
            ended = [self._finish_early(call, Closed()) for call in queued]
        _deliver(ended)

    # ------------------------------------------------------------ the evaluation thread

    def _run(self) -> None:
        after_batch = False
        while True:
            batch = self._take(after_batch)
            if batch is None:
                self._drain()
                return
            if batch:
                self._evaluate(batch)
            after_batch = bool(batch)

    def _take(self, after_batch: bool) -> list[tuple[Call, int]] | None:
        """The next batch (call, index) in order; [] when every waiting call had stopped;
        None once closed."""
        with self._lock:
            while not self._closed and all(c.inflight for c in self._queue):
                self._lock.wait()  # nothing queued, or only calls with a batch running
            if self._closed:
                return None
            if after_batch and self._wait > 0 and self._waiting < self._max:
                until = self._clock() + self._wait
                while self._waiting < self._max and not self._closed:
                    left = until - self._clock()
                    if left <= 0:
                        break
                    self._lock.wait(left)
                if self._closed:
                    return None
            now = self._clock()
            ready = [c for c in self._queue if not c.inflight]
            stopped = {id(c) for c in ready if c.stopped(now)}
            live = [c for c in ready if id(c) not in stopped]
            shares = dict(
                zip(map(id, live), _shares([c.left for c in live], self._max), strict=True)
            )
            batch: list[tuple[Call, int]] = []
            queue: deque[Call] = deque()
            for call in self._queue:  # arrival order kept for the calls that stay
                if id(call) in stopped:
                    continue
                share = shares.get(id(call), 0)
                batch.extend((call, i) for i in range(call.next, call.next + share))
                call.next += share
                call.inflight += share
                if call.left:
                    queue.append(call)
            self._queue = queue
            self._waiting = sum(c.left for c in queue)
            self._busy += bool(batch)
            ended = [self._finish_early(call, Stopped()) for call in ready if id(call) in stopped]
        _deliver(ended)
        return batch

    def _evaluate(self, batch: list[tuple[Call, int]]) -> None:
        events = [call.events[i] for call, i in batch]
        flags = [call.explain[i] for call, i in batch]
        started = self._clock()
        whole: Exception | None = None  # the batch failed as a whole (the store, say)
        try:
            outcomes: Sequence[Outcome] = self._port.evaluate_batch(events, explain=flags)
            if len(outcomes) != len(events):
                raise RuntimeError(
                    f"evaluate_batch returned {len(outcomes)} outcomes for {len(events)} events"
                )
        except Exception as exc:  # every event met it; logged once here
            log.exception("evaluate_batch failed as a whole", extra={"events": len(events)})
            whole = exc
            outcomes = [exc] * len(events)
        ended = self._clock()
        if self._observer is not None:
            self._observer.observe_batch(len(events), ended - started)
        touched: dict[int, Call] = {}
        settled: list[tuple[Call, list[Answer] | BaseException]] = []
        with self._lock:
            self._busy -= 1
            for (call, i), outcome in zip(batch, outcomes, strict=True):
                call.outcomes[i] = Answer(outcome, ended - call.since)
                call.inflight -= 1
                touched[id(call)] = call
            for call in touched.values():
                if call.next == len(call.events):  # every event taken, this batch its last
                    settled.append((call, _answers(call)))
                elif whole is not None or call.stopped(ended) or self._closed:
                    # Its other events never run: after a failed batch, running them
                    # would decide a chat's later events before the earlier ones, which
                    # the caller sends again; they get the same error, in order.
                    self._queue.remove(call)
                    self._waiting -= call.left
                    why = whole or (Closed() if self._closed else Stopped())
                    settled.append(self._finish_early(call, why))
            self._lock.notify_all()  # calls with more to run may be taken again
        _deliver(settled)

    def _finish_early(
        self, call: Call, why: Exception
    ) -> tuple[Call, list[Answer] | BaseException]:
        """A call that stops before all its events were taken: the decided ones stand."""
        if not any(a is not None for a in call.outcomes):
            return call, why
        ended = self._clock()
        # Stopped: not reached; Closed or a failed batch's error: that error
        rest: Outcome = NOT_REACHED if isinstance(why, Stopped) else why
        for i, answer in enumerate(call.outcomes):
            if answer is None:
                call.outcomes[i] = Answer(rest, ended - call.since)
        call.next = len(call.events)
        return call, _answers(call)


def _answers(call: Call) -> list[Answer]:
    return [a for a in call.outcomes if a is not None]


def _deliver(settled: Sequence[tuple[Call, list[Answer] | BaseException]]) -> None:
    """Answer these calls: event-loop callers with one hand-over per loop (one wake-up
    of the loop however many calls a batch finished), the others directly."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Call, list[Answer] | BaseException]]] = {}
    for call, result in settled:
        if call.waiter is None:
            call.settle(result)
        else:
            by_loop.setdefault(call.waiter.get_loop(), []).append((call, result))
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(_settle_all, items)


def _settle_all(items: list[tuple[Call, list[Answer] | BaseException]]) -> None:
    for call, result in items:
        call.settle(result)


def _shares(wants: Sequence[int], room: int) -> list[int]:
    """Split ``room`` among calls wanting ``wants`` events: equal shares, what a call
    does not need going to the others; if there are more calls than room, the first
    ``room`` calls (in arrival order) get one each."""
    shares = [0] * len(wants)
    active = [i for i, want in enumerate(wants) if want > 0]
    while room > 0 and active:
        each = max(1, room // len(active))
        for i in active:
            give = min(each, wants[i] - shares[i], room)
            shares[i] += give
            room -= give
            if room == 0:
                break
        active = [i for i in active if shares[i] < wants[i]]
    return shares
