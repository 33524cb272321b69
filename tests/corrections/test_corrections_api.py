"""Corrections through a real gRPC server on port 0, over a real store (SQLite and PostgreSQL):
an admin's correction changes the next decision on a near-duplicate and moves the rule's
false-positive metric; a non-admin's is refused; the same correction twice is stored once.

Texts: umputun/tg-spam data/{ham,spam}-samples.txt (``../shared/fixtures/SOURCES.md``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest

from firekeeper.api import convert
from firekeeper.api.corrections_servicer import CorrectionsServices
from firekeeper.api.gen.firekeeper.v1 import corrections_pb2 as cpb
from firekeeper.api.gen.firekeeper.v1 import corrections_pb2_grpc as cpb_grpc
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.areas.corrections.metrics import FALSE_POSITIVE_RATIO
from firekeeper.config import Settings
from firekeeper.domain.events import Actor, Event
from firekeeper.server import Server
from firekeeper.store import create_store

from .support import KEY, OLGA, RECRUITING, TESTIMONIAL, Service, post, register

IVAN = Actor(id="ivan", display_name="Ivan")
BEN = Actor(id="ben", display_name="Ben")
NOT_SPAM = cpb.CORRECTION_KIND_NOT_SPAM
MISSED = cpb.CORRECTION_KIND_MISSED_SPAM


@dataclass
class Running:
    service: Service
    governance: pb_grpc.GovernanceAsyncStub
    corrections: cpb_grpc.CorrectionsAsyncStub

    async def decide(self, event: Event) -> pb.Decision:
        answer = await self.governance.Evaluate(
            pb.EvaluateRequest(event=convert.event_to_proto(event))
        )
        return answer.decision

    async def report(
        self, kind: int, who: str, event_id: str = "", text: str = ""
    ) -> cpb.ReportCorrectionResponse:
        return await self.corrections.ReportCorrection(
            cpb.ReportCorrectionRequest(
                chat=convert.chat_key_to_proto(KEY),
                kind=kind,  # type: ignore[arg-type]
                event_id=event_id,
                reporter_id=who,
                text=text,
            )
        )


@pytest.fixture
async def running(store_url: str) -> AsyncIterator[Running]:
    store = create_store(store_url)
    store.migrate()
    svc = Service(store)
    settings = Settings(grpc_address="127.0.0.1:0", metrics_port=None, workers=2, grace_seconds=1)
    server = Server(
        settings,
        svc.pipeline,
        svc.metrics,
        readiness_interval=60,
        services=[CorrectionsServices(svc.admin)],
    )
    port = await server.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield Running(svc, pb_grpc.GovernanceStub(channel), cpb_grpc.CorrectionsStub(channel))  # type: ignore[arg-type]
    finally:
        await channel.close()
        await server.stop(0)
        store.close()


def _types(decision: pb.Decision) -> list[str]:
    return [pb.ActionType.Name(a.type) for a in decision.actions]


def _rules(decision: pb.Decision) -> set[str]:
    return {a.rule_id for a in decision.actions}


async def test_not_spam_frees_near_duplicates_and_moves_the_false_positive_rate(
    running: Running,
) -> None:
    svc = running.service
    register(svc)
    first = await running.decide(post("m1", IVAN, RECRUITING))
    assert "ACTION_TYPE_DELETE_MESSAGE" in _types(first)
    assert "promo.too_early" in _rules(first)
    labels = {"ruleset": "base", "rule": "promo.too_early"}
    assert svc.sample(FALSE_POSITIVE_RATIO, **labels) == 0.0  # acted once, never corrected

    # Ben is a member, not an admin: refused, and nothing is stored or counted
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await running.report(NOT_SPAM, BEN.id, "m1")
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "'ben' is not an admin or the owner" in (refused.value.details() or "")
    # nor may the author vouch for their own message
    with pytest.raises(grpc.aio.AioRpcError) as author:
        await running.report(NOT_SPAM, IVAN.id, "m1")
    assert author.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert svc.sample(FALSE_POSITIVE_RATIO, **labels) == 0.0

    answer = await running.report(NOT_SPAM, OLGA.id, "m1")
    assert answer.stored
    assert "promo.too_early" in answer.correction.rule_ids
    assert answer.correction.label == "ham"
    assert svc.sample(FALSE_POSITIVE_RATIO, **labels) == 1.0
    kind = {"ruleset": "base", "rule": "promo.too_early", "kind": "not_spam"}
    assert svc.sample("firekeeper_corrections_total", **kind) == 1.0

    again = await running.report(NOT_SPAM, OLGA.id, "m1")  # idempotent: stored once
    assert not again.stored
    assert again.correction.id == answer.correction.id
    assert svc.sample("firekeeper_corrections_total", **kind) == 1.0
    assert svc.sample(FALSE_POSITIVE_RATIO, **labels) == 1.0

    # a near-duplicate (another greeting, other punctuation) is no longer deleted
    variant = RECRUITING.replace("Добрый день", "Добрый вечер").replace("!)", "🙂")
    second = await running.decide(post("m2", BEN, variant, minutes=5))
    assert _types(second) == [], second
    # while the rule still acts on promotions that are not like it
    other = "Набираю людей, доход от 500$ в неделю, пишите в лс"
    third = await running.decide(post("m3", Actor(id="zoe"), other, minutes=6))
    assert "promo.too_early" in _rules(third)
    assert svc.sample(FALSE_POSITIVE_RATIO, **labels) == 0.5  # 1 wrong of 2


async def test_missed_spam_deletes_its_near_duplicates(running: Running) -> None:
    svc = running.service
    register(svc)
    missed = await running.decide(post("s1", IVAN, TESTIMONIAL))
    assert _types(missed) == []  # no signal fires on it: missed
    answer = await running.report(MISSED, OLGA.id, "s1")
    assert answer.stored and answer.correction.label == "spam"
    assert list(answer.correction.rule_ids) == []
    kind = {"ruleset": "base", "rule": "", "kind": "missed_spam"}
    assert svc.sample("firekeeper_corrections_total", **kind) == 1.0

    variant = TESTIMONIAL.replace("wonderful", "wonderful!!") + " 👍"
    next_one = await running.decide(post("s2", BEN, variant, minutes=3))
    assert _rules(next_one) == {"promo.reported_spam"}
    assert _types(next_one) == ["ACTION_TYPE_DELETE_MESSAGE"]
    # an admin posting it is left alone (not actor.is_admin)
    by_owner = await running.decide(post("s3", OLGA, variant, minutes=4))
    assert _types(by_owner) == []


async def test_spam_reported_by_an_admin_outranks_ham(running: Running) -> None:
    register(running.service)
    await running.decide(post("h1", IVAN, RECRUITING))
    await running.report(NOT_SPAM, OLGA.id, "h1")
    # the owner then reports the same text as spam after all, given as text
    answer = await running.report(MISSED, OLGA.id, text=RECRUITING + " ")
    assert answer.stored
    again = await running.decide(post("h2", BEN, RECRUITING, minutes=2))
    assert "promo.reported_spam" in _rules(again)


async def test_bad_corrections_get_clear_errors_and_store_nothing(running: Running) -> None:
    svc = running.service
    register(svc)
    await running.decide(post("q1", IVAN, "Что посмотреть на выходных в Казани?"))
    cases = [
        ((NOT_SPAM, OLGA.id, "nope"), grpc.StatusCode.NOT_FOUND, "no decision is stored"),
        ((NOT_SPAM, OLGA.id, "q1"), grpc.StatusCode.FAILED_PRECONDITION, "no rule acted"),
        ((NOT_SPAM, "", "q1"), grpc.StatusCode.INVALID_ARGUMENT, "reporter_id"),
        ((NOT_SPAM, OLGA.id, ""), grpc.StatusCode.INVALID_ARGUMENT, "event_id"),
        ((MISSED, OLGA.id, ""), grpc.StatusCode.INVALID_ARGUMENT, "text"),
        (
            (cpb.CORRECTION_KIND_JOIN_WAS_FINE, OLGA.id, "q1"),
            grpc.StatusCode.FAILED_PRECONDITION,
            "corrects a join",
        ),
        ((0, OLGA.id, "q1"), grpc.StatusCode.INVALID_ARGUMENT, "kind"),
    ]
    for (kind, who, event_id), code, says in cases:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await running.report(kind, who, event_id)
        assert err.value.code() == code, (kind, who, event_id)
        assert says in (err.value.details() or ""), err.value.details()
    report = await running.corrections.GetRuleCorrections(
        cpb.GetRuleCorrectionsRequest(tenant="acme")
    )
    assert all(r.false_positives == 0 and r.missed == 0 for r in report.rules)
