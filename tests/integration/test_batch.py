"""The batch path (#10): one transaction per batch, the same decisions as one by one.

Every test runs on SQLite and on PostgreSQL (``store_url``), with every governance
area (``firekeeper.wiring``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from firekeeper.areas.registry import retention_policies
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import Decision
from firekeeper.domain.events import ChatTick, Envelope, Event, MessagePosted
from firekeeper.errors import InvalidEvent, StoreUnavailable
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.rules.evaluate import Evaluation
from firekeeper.rulesets_dir import load
from firekeeper.store import Store, create_store
from firekeeper.store.models import chats, decisions, members
from firekeeper.store.retention import Retention
from firekeeper.wiring import build_pipeline, governance_areas
from firekeeper.workload import build
from tests.conftest import RULESETS
from tests.core.builders import KEY, T0, event, message

INDEX = load(RULESETS)
DECIDED_AT = datetime(2026, 1, 6, tzinfo=UTC)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = create_store(store_url)
    s.migrate()
    yield s
    s.close()


def _pipeline(store: Store, **kw: Any) -> Pipeline:
    return build_pipeline(store, RulesetHolder(INDEX), clock=lambda: DECIDED_AT, **kw)


def _count(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _as_tenant(e: Event, tenant: str) -> Event:
    return replace(e, envelope=replace(e.envelope, tenant=tenant))


def _ticks(keys: Sequence[ChatKey], at: datetime, index: int) -> list[Event]:
    return [
        Event(
            Envelope(f"tick:{k.chat_id}:86400s:{index}", k.platform, k.tenant, k.chat_id, at, None),
            ChatTick(period_seconds=86400, period_index=index),
        )
        for k in keys
    ]


class Statements:
    """The SQL statements sent to the database while it is in a ``with`` block."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine
        self.sent: list[str] = []

    def _seen(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        self.sent.append(" ".join(statement.split()))

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._seen)

    def count(self, start: str) -> int:
        return sum(1 for s in self.sent if s.startswith(start))


def test_batches_decide_exactly_what_one_by_one_decides(store: Store) -> None:
    """The workload's events over 6 chats (messages, joins, join requests, leaves, chat
    updates, with ticks between), one by one as tenant ``one`` and in batches of 40 as
    tenant ``many``: the same decisions, chats and members."""
    work = build(360, n_chats=6)
    keys = [r.key for r in work.chats]
    events = [*work.events[:180], *_ticks(keys, work.events[179].envelope.occurred_at, 1)]
    events += work.events[180:]
    p = _pipeline(store)
    for tenant in ("one", "many"):
        for reg in work.chats:
            p.register_chat(replace(reg, key=replace(reg.key, tenant=tenant)))
    singly = [p.evaluate(_as_tenant(e, "one")) for e in events]
    batched: list[Decision | Exception] = []
    for i in range(0, len(events), 40):
        batched += p.evaluate_batch([_as_tenant(e, "many") for e in events[i : i + 40]])
    assert len(batched) == len(singly) == len(events)
    assert any(d.actions for d in singly)  # the workload makes rules act
    for one, many in zip(singly, batched, strict=True):
        assert isinstance(many, Decision)
        assert many == one
    for reg in work.chats:
        one_chat = p.get_chat(replace(reg.key, tenant="one")).chat
        many_chat = p.get_chat(replace(reg.key, tenant="many")).chat
        assert many_chat == replace(one_chat, key=replace(one_chat.key, tenant="many"))
    with store.engine.connect() as conn:
        per_tenant = (
            sa.select(chats.c.tenant, sa.func.count(), sa.func.sum(members.c.message_count))
            .join_from(members, chats, chats.c.id == members.c.chat_pk)
            .group_by(chats.c.tenant)
        )
        rows = {r[0]: tuple(r[1:]) for r in conn.execute(per_tenant)}
    assert rows["one"] == rows["many"] and rows["one"][0] > 0


def test_one_batch_is_one_lock_one_lookup_and_one_insert_of_decisions(store: Store) -> None:
    work = build(60, n_chats=5)
    p = _pipeline(store)
    for reg in work.chats:
        p.register_chat(reg)
    with Statements(store) as sql:
        outcomes = p.evaluate_batch(work.events)
    assert all(isinstance(o, Decision) and not o.replayed for o in outcomes)
    assert sql.count("SELECT chats.") == 1  # the lock, every chat of the batch
    assert sql.count("SELECT decisions.") == 1  # the ids' look-up
    assert sql.count("INSERT INTO decisions") == 1  # every decision
    assert sql.count("UPDATE chats") <= 1 + sum(
        not isinstance(e.payload, MessagePosted) for e in work.events
    )
    assert _count(store, decisions) == 60
    with Statements(store) as sql:  # sent again: all replays, nothing written
        again = p.evaluate_batch(work.events)
    assert all(isinstance(o, Decision) and o.replayed for o in again)
    assert [o for o in again] == [replace(o, replayed=True) for o in outcomes]  # type: ignore[type-var]
    assert not any(s.startswith(("INSERT", "UPDATE", "DELETE")) for s in sql.sent)
    assert _count(store, decisions) == 60


def test_an_id_twice_in_a_batch_is_decided_once_and_replayed(store: Store) -> None:
    other = replace(KEY, chat_id="-100999")
    twice = message(eid="m1", text="hello")
    elsewhere = replace(twice, envelope=replace(twice.envelope, chat_id=other.chat_id))
    p = _pipeline(store)
    first, second, third = p.evaluate_batch([twice, twice, elsewhere])
    assert isinstance(first, Decision) and not first.replayed
    assert second == third == replace(first, replayed=True)  # same id: the same decision
    assert _count(store, decisions) == 1
    chat = store.get_chat(KEY)
    assert chat is not None and chat.message_count == 1  # counted once
    assert store.get_chat(other) is not None  # locked (created), nothing counted
    assert store.get_chat(other).message_count == 0  # type: ignore[union-attr]


def test_a_refused_event_gets_its_own_error_and_the_others_go_through(store: Store) -> None:
    now = T0 + timedelta(days=31)
    _pipeline(store).evaluate(message(eid="m-seed"))  # something to prune
    Retention(store.engine, policies=retention_policies(), decision_days=30).sweep(
        now
    )  # publishes T0 + 1 day
    p = build_pipeline(store, RulesetHolder(INDEX), clock=lambda: now, decision_days=30)
    later = event(MessagePosted(message_id="m2", text="hi"), eid="m2", at=T0 + timedelta(days=2))
    outcomes = p.evaluate_batch(
        [
            later,
            message(eid="m-old"),
            replace(later, envelope=replace(later.envelope, event_id="m3")),
        ]
    )
    assert isinstance(outcomes[0], Decision) and isinstance(outcomes[2], Decision)
    assert isinstance(outcomes[1], InvalidEvent) and outcomes[1].field == "envelope.occurred_at"
    assert _count(store, decisions) == 3  # the seed, m2 and m3
    with pytest.raises(InvalidEvent):
        p.evaluate(message(eid="m-old"))


class _Failing:
    """An area whose write fails on one event: like a lost database (``error``
    ``store``), or with a bug of its own (``bug``)."""

    name = "failing"

    def __init__(self, event_id: str, error: str = "store") -> None:
        self.event_id = event_id
        self.error = error
        self.armed = True

    def load(self, tx: object, event: Event, ctx: object) -> None:
        return None

    def enrich(self, event: Event, ctx: object, loaded: None) -> dict[str, dict[str, Any]]:
        return {}

    def write(self, tx: object, event: Event, loaded: None, result: Evaluation) -> None:
        if self.armed and event.envelope.event_id == self.event_id:
            if self.error == "bug":
                raise KeyError("a field this area expected")
            raise sa.exc.OperationalError("INSERT", {}, Exception("connection lost"))


def test_a_store_failure_fails_the_whole_batch_and_writes_nothing(store: Store) -> None:
    failing = _Failing("m2")
    areas = (*governance_areas(RulesetHolder(INDEX)), failing)
    p = Pipeline(store, RulesetHolder(INDEX), areas=areas, clock=lambda: DECIDED_AT)
    batch = [message(eid="m1"), message(eid="m2"), message(eid="m3")]
    with pytest.raises(StoreUnavailable):  # the whole batch: its caller resends it
        p.evaluate_batch(batch)
    assert _count(store, decisions) == 0
    # nothing counted (on PostgreSQL a new chat's empty row is created before the lock)
    created = store.get_chat(KEY)
    assert created is None or (created.message_count, created.registered) == (0, False)
    failing.armed = False  # the caller sends it again
    again = p.evaluate_batch(batch)
    assert all(isinstance(o, Decision) and not o.replayed for o in again)
    chat = store.get_chat(KEY)
    assert chat is not None and chat.message_count == 3


def test_an_event_whose_own_writes_fail_fails_alone_and_the_others_are_decided(
    store: Store,
) -> None:
    failing = _Failing("m2", error="bug")
    areas = (*governance_areas(RulesetHolder(INDEX)), failing)
    p = Pipeline(store, RulesetHolder(INDEX), areas=areas, clock=lambda: DECIDED_AT)
    first, second, third = p.evaluate_batch(
        [message(eid="m1"), message(eid="m2"), message(eid="m3")]
    )
    assert isinstance(second, KeyError)
    assert isinstance(first, Decision) and isinstance(third, Decision)
    assert not first.replayed and not third.replayed
    assert _count(store, decisions) == 2
    chat = store.get_chat(KEY)
    assert chat is not None and chat.message_count == 2  # m2 counted nowhere
    failing.armed = False  # fixed: m2 sent again is decided, the others are replays
    again = p.evaluate_batch([message(eid="m1"), message(eid="m2"), message(eid="m3")])
    assert [isinstance(o, Decision) and o.replayed for o in again] == [True, False, True]


def test_batches_over_the_same_chats_in_any_order_all_commit(store: Store) -> None:
    """Two threads send batches naming the same chats in opposite orders: the chats are
    locked in one fixed order, so neither waits on the other forever."""
    keys = [replace(KEY, chat_id=f"-100{n}") for n in range(4)]

    def batch(thread: int, round_: int) -> list[Event]:
        order = keys if thread == 0 else keys[::-1]
        return [
            replace(
                message(eid=f"t{thread}-r{round_}-{k.chat_id}"),
                envelope=replace(
                    message().envelope,
                    chat_id=k.chat_id,
                    event_id=f"t{thread}-r{round_}-{k.chat_id}",
                ),
            )
            for k in order
        ]

    p = _pipeline(store)
    errors: list[object] = []

    def run(thread: int) -> None:
        for r in range(15):
            errors.extend(o for o in p.evaluate_batch(batch(thread, r)) if isinstance(o, Exception))

    threads = [threading.Thread(target=run, args=(t,)) for t in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _count(store, decisions) == 2 * 15 * 4
    for k in keys:
        chat = store.get_chat(k)
        assert chat is not None and chat.message_count == 30
