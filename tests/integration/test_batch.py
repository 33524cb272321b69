"""The batch path (#10): one transaction per batch, the same decisions as one by one.

Every test runs on SQLite and on PostgreSQL (``store_url``), with every governance
area (``firekeeper.wiring``).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from firekeeper.area_registry import retention_policies
from firekeeper.areas.corrections.queries import rule_action_counts
from firekeeper.areas.screening.tables import held, invites, joins, questions, strikes, value
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.decisions import ActionType, Decision
from firekeeper.domain.events import (
    Actor,
    ChatTick,
    Envelope,
    Event,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    Platform,
)
from firekeeper.errors import InvalidEvent, StoreUnavailable
from firekeeper.pipeline import Pipeline, RulesetHolder
from firekeeper.rules.evaluate import Evaluation
from firekeeper.rulesets_dir import load
from firekeeper.store import Store
from firekeeper.store import batch as batch_store
from firekeeper.store.models import chats, decisions, members
from firekeeper.store.retention import Retention
from firekeeper.wiring import build_pipeline, governance_areas
from firekeeper.workload import build
from tests.conftest import RULESETS
from tests.core.builders import KEY, T0, event, message

INDEX = load(RULESETS)
DECIDED_AT = datetime(2026, 1, 6, tzinfo=UTC)


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
    # what the areas keep in memory for a batch and write at its end is what one by one wrote
    for table, columns in AREA_ROWS.items():
        one, many = (_area_rows(store, table, columns, t) for t in ("one", "many"))
        assert one == many, table.name
        # the workload holds no join for review and posts nothing counted as value
        assert one or table in (held, value), table.name


AREA_ROWS: dict[sa.Table, tuple[str, ...]] = {
    questions: ("message_id", "author_id", "asked_at", "answered_at"),
    joins: ("user_id", "at"),
    held: ("user_id", "status", "held_at", "resolved_at", "rule_id"),
    invites: ("inviter_id", "invitee_id", "invited_at", "outcome", "joined_at", "outcome_at"),
    strikes: ("user_id", "at", "rule_id"),
    rule_action_counts: ("day", "ruleset", "rule_id", "actions"),
    value: ("substantive_posts", "answered_questions"),
}


def _review_queue_events(tenant: str) -> list[Event]:
    """A rush of joins in one chat (the later ones held for review), a held member who
    leaves (withdrawn) and joins again (held again), a bot let in by nobody (held), a
    question and its answer."""
    key = replace(KEY, tenant=tenant)

    def at(second: int, payload: Any, eid: str, actor: Actor) -> Event:
        when = T0 + timedelta(seconds=second)
        return Event(Envelope(eid, key.platform, tenant, key.chat_id, when, actor), payload)

    def joined(second: int, who: Actor) -> Event:
        return at(second, MemberJoined(member=who), f"j{second}", who)

    people = [Actor(id=f"p{i}", display_name=f"P{i}") for i in range(14)]
    bot = Actor(id="b1", display_name="Bot", is_bot=True)
    asker, answerer = Actor(id="p0", display_name="P0"), Actor(id="p1", display_name="P1")
    out = [joined(20 * i, who) for i, who in enumerate(people)]
    out.append(at(300, MemberLeft(member=people[12]), "l300", people[12]))
    out.append(joined(320, people[12]))
    out.append(joined(340, bot))
    # invitations: one by a member, one by the same member to someone who leaves at
    # once, a request then its join, and the inviter's record read at each (an hour after
    # the rush, so none is held)
    host = people[0]
    for n, (second, who) in enumerate([(4000, "i1"), (4020, "i2"), (4040, "i3")]):
        guest = Actor(id=who, display_name=who.upper())
        payload: Any = (
            JoinRequested(member=guest, inviter=host)
            if n == 2
            else MemberJoined(member=guest, inviter=host)
        )
        out.append(at(second, payload, f"inv{n}", host))
    out.append(at(4050, MemberLeft(member=Actor(id="i2")), "l4050", Actor(id="i2")))
    out.append(at(4060, MemberJoined(member=Actor(id="i3"), inviter=host), "inv3", host))
    out.append(at(4070, MemberJoined(member=Actor(id="i4"), inviter=host), "inv4", host))
    question = MessagePosted(message_id="q1", text="Where do we meet on Saturday?")
    out.append(at(360, question, "q1", asker))
    answer = MessagePosted(message_id="a1", text="At the library", reply_to_message_id="q1")
    out.append(at(380, answer, "a1", answerer))
    return out


def test_the_review_queue_and_join_log_kept_in_memory_match_one_by_one(store: Store) -> None:
    """Holds, closes, the join log and open questions within one batch (read once, held in
    memory, written at the end) give the decisions and rows one by one gives."""
    p = _pipeline(store)
    for tenant in ("one", "many"):
        p.register_chat(ChatRegistration(key=replace(KEY, tenant=tenant)))
    singly = [p.evaluate(e) for e in _review_queue_events("one")]
    batched = p.evaluate_batch(_review_queue_events("many"))
    assert [replace(d, event_id="") for d in singly] == [
        replace(d, event_id="") if isinstance(d, Decision) else d for d in batched
    ]
    assert any(a.type == ActionType.HOLD_FOR_REVIEW for d in singly for a in d.actions)
    for table, columns in AREA_ROWS.items():
        one, many = (_area_rows(store, table, columns, t) for t in ("one", "many"))
        assert one == many, table.name
    outcomes = sorted(r[4] for r in _area_rows(store, invites, AREA_ROWS[invites], "many"))
    # four invitations (the request continued); after one left early the inviter's
    # record holds the next two
    assert outcomes == ["held", "held", "joined", "left_early"]
    statuses = sorted(r[2] for r in _area_rows(store, held, AREA_ROWS[held], "many"))
    assert statuses.count("pending") >= 2 and "withdrawn" not in statuses  # held again


def _area_rows(
    store: Store, table: sa.Table, columns: tuple[str, ...], tenant: str
) -> list[tuple[Any, ...]]:
    """The rows of an area's table for the chats of ``tenant``, by chat id, sorted."""
    query = (
        sa.select(chats.c.chat_id, *(table.c[c] for c in columns))
        .join_from(table, chats, chats.c.id == table.c.chat_pk)
        .where(chats.c.tenant == tenant)
    )
    with store.engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(query))


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


def test_the_chats_are_locked_in_one_order_whatever_the_batchs_order(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keys handed to the lock are sorted (platform, tenant, chat id) for every
    shuffle of a batch's chats, and PostgreSQL's lock statement takes the rows in that
    order (ORDER BY .. FOR UPDATE): without either, this fails."""
    keys = [
        ChatKey(platform, tenant, f"-100{n}")
        for n in (3, 1, 2)
        for platform in (Platform.TELEGRAM, Platform.DISCORD)
        for tenant in ("b", "a")
    ]
    handed: list[list[ChatKey]] = []
    real_lock = batch_store._lock

    def recording(conn: Any, wanted: Sequence[ChatKey]) -> Any:
        handed.append(list(wanted))
        return real_lock(conn, wanted)

    monkeypatch.setattr(batch_store, "_lock", recording)
    p = _pipeline(store)
    rng = random.Random(3)
    expected = sorted(keys, key=lambda k: (k.platform.value, k.tenant, k.chat_id))
    for round_ in range(6):
        order = keys[:]
        rng.shuffle(order)
        events = [
            replace(
                message(eid=f"r{round_}-{n}"),
                envelope=replace(
                    message().envelope,
                    platform=k.platform,
                    tenant=k.tenant,
                    chat_id=k.chat_id,
                    event_id=f"r{round_}-{n}",
                ),
            )
            for n, k in enumerate(order)
        ]
        handed.clear()
        assert all(isinstance(o, Decision) for o in p.evaluate_batch(events))
        assert handed and handed[0] == expected, order  # the lock of every chat, in order
    lock_sql = str(batch_store._CHATS_FOR_UPDATE.compile(dialect=postgresql.dialect()))
    assert " ".join(lock_sql.split()).endswith(
        "ORDER BY chats.platform, chats.tenant, chats.chat_id FOR UPDATE OF chats"
    )


def test_batches_over_the_same_chats_in_opposite_orders_all_commit(store: Store) -> None:
    """Two threads send batches naming the same chats in opposite orders, 15 times each:
    every batch commits (no deadlock, no lock time-out) and every message is counted."""
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


def _one_by_one_and_batched(
    store: Store, events: Sequence[Event], starts: Sequence[int] = ()
) -> None:
    """``events`` one by one as tenant ``one`` and in batches as tenant ``many`` (one, or
    a new one from each index of ``starts`` on): the same decisions (event ids aside),
    chats and area rows."""
    p = _pipeline(store)
    for tenant in ("one", "many"):
        for key in {replace(_chat_key(e), tenant=tenant) for e in events}:
            p.register_chat(ChatRegistration(key=key, created_at=T0 - timedelta(days=400)))
    singly = [p.evaluate(_as_tenant(e, "one")) for e in events]
    bounds = [0, *starts, len(events)]
    batched = [
        d
        for a, b in pairwise(bounds)
        for d in p.evaluate_batch([_as_tenant(e, "many") for e in events[a:b]])
    ]
    assert [replace(d, event_id="") for d in singly] == [
        replace(d, event_id="") if isinstance(d, Decision) else d for d in batched
    ]
    for table, columns in AREA_ROWS.items():
        one, many = (_area_rows(store, table, columns, t) for t in ("one", "many"))
        assert one == many, table.name
    for key in {_chat_key(e) for e in events}:
        one_chat = p.get_chat(replace(key, tenant="one")).chat
        many_chat = p.get_chat(replace(key, tenant="many")).chat
        assert many_chat == replace(one_chat, key=many_chat.key)


def _chat_key(e: Event) -> ChatKey:
    return ChatKey(e.envelope.platform, e.envelope.tenant, e.envelope.chat_id)


def _said(second: int, who: str, message_id: str, text: str, eid: str, reply_to: str = "") -> Event:
    return Event(
        Envelope(
            eid,
            KEY.platform,
            KEY.tenant,
            KEY.chat_id,
            T0 + timedelta(seconds=second),
            Actor(id=who, display_name=who.upper()),
        ),
        MessagePosted(message_id=message_id, text=text, reply_to_message_id=reply_to),
    )


def test_a_message_id_asked_again_after_its_answer_stays_answered_in_a_batch(
    store: Store,
) -> None:
    """A question, its answer, the same message asked again (a redelivery under a new
    event id), and another reply to it: the second reply answers nothing, in a batch as
    one by one (the answer's counter counts one answer, and the question stays answered)."""
    question = "Where do we meet on Saturday?"
    events = [
        _said(0, "p0", "q1", question, "e-q1"),
        _said(20, "p1", "a1", "At the library, the big room upstairs", "e-a1", reply_to="q1"),
        _said(40, "p0", "q1", question, "e-q1-again"),
        _said(60, "p2", "a2", "At the library, from six in the evening", "e-a2", reply_to="q1"),
        _said(80, "p0", "q2", "And who brings the projector?", "e-q2"),
        _said(100, "p0", "q2", "And who brings the projector?", "e-q2-again"),
        _said(120, "p1", "a3", "I will bring mine, it is in my car", "e-a3", reply_to="q2"),
    ]
    _one_by_one_and_batched(store, events)
    rows = _area_rows(store, value, AREA_ROWS[value], "many")
    assert [r[2] for r in rows] == [2]  # two questions answered, each once


def test_a_question_answered_in_an_earlier_batch_and_asked_again_stays_answered(
    store: Store,
) -> None:
    """A question and its answer in one batch; in the next, the same message asked again
    (a redelivery under a new event id) and another reply to it: the stored row is
    answered, so the second reply answers nothing, batched as one by one (the counter
    counts one answer, and the question keeps its first answer's time)."""
    question = "Where do we meet on Saturday?"
    events = [
        _said(0, "p0", "q1", question, "e-q1"),
        _said(20, "p1", "a1", "At the library, the big room upstairs", "e-a1", reply_to="q1"),
        _said(40, "p0", "q1", question, "e-q1-again"),
        _said(60, "p2", "a2", "At the library, from six in the evening", "e-a2", reply_to="q1"),
    ]
    _one_by_one_and_batched(store, events, starts=[2])
    rows = _area_rows(store, value, AREA_ROWS[value], "many")
    assert [r[2] for r in rows] == [1]  # one question answered, once


def test_events_more_than_30_days_out_of_order_in_one_batch_match_one_by_one(
    store: Store,
) -> None:
    """The workload's events over two chats, the first half moved 40 days later, so the
    batch goes back more than the 30 days the open questions and strikes are kept: the
    same decisions and rows as one by one."""
    work = build(160, n_chats=2)
    start, key = work.events[0].envelope.occurred_at, work.chats[0].key
    later = timedelta(days=40)

    def moved(e: Event, by: timedelta) -> Event:
        env = e.envelope
        return replace(e, envelope=replace(env, occurred_at=env.occurred_at + by))

    def in_chat(e: Event, at: datetime) -> Event:
        env = replace(e.envelope, platform=key.platform, chat_id=key.chat_id, occurred_at=at)
        return replace(e, envelope=env)

    question = "Can someone share the spreadsheet template from yesterday's call?"
    reply = "Here it is: the shared folder, second tab"
    old_q = in_chat(_said(0, "u0-5", "old-q", question, "old-q"), start)
    late_q = in_chat(_said(0, "u0-6", "late-q", question, "late-q"), start + later)
    replies = [  # at the late end, to both questions
        in_chat(_said(0, "u0-7", f"r{n}", reply, f"r{n}", q), start + later + timedelta(hours=1))
        for n, q in enumerate(("old-q", "late-q"))
    ]
    events = [late_q, *(moved(e, later) for e in work.events[:80]), old_q]
    _one_by_one_and_batched(store, [*events, *work.events[80:], *replies])
