"""The per-rule report and the sample export, from the store (SQLite and PostgreSQL) and the
CLI; the sample cache's freshness across replicas.

Texts: umputun/tg-spam data/{ham,spam}-samples.txt (``../shared/fixtures/SOURCES.md``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from firekeeper.areas.corrections.area import SampleCache
from firekeeper.areas.corrections.queries import false_positives_by_rule, revision
from firekeeper.cli import main
from firekeeper.domain.corrections import CorrectionKind, CorrectionRequest
from firekeeper.domain.events import Actor
from firekeeper.store import create_store
from tests.core.builders import T0

from .support import KEY, OLGA, RECRUITING, TESTIMONIAL, Service, post, register

IVAN = Actor(id="ivan", display_name="Ivan")


@pytest.fixture
def corrected(store_url: str) -> Iterator[tuple[str, Service]]:
    """A chat where promo.too_early deleted one message that Olga then said was fine,
    and where she reported one missed spam."""
    store = create_store(store_url)
    store.migrate()
    svc = Service(store)
    register(svc)
    svc.pipeline.evaluate(post("m1", IVAN, RECRUITING))
    svc.pipeline.evaluate(post("m2", IVAN, TESTIMONIAL, minutes=1))
    svc.admin.report(CorrectionRequest(KEY, CorrectionKind.NOT_SPAM, OLGA.id, event_id="m1"))
    svc.admin.report(CorrectionRequest(KEY, CorrectionKind.MISSED_SPAM, OLGA.id, event_id="m2"))
    try:
        yield store_url, svc
    finally:
        store.close()


def test_false_positives_by_rule_over_a_time_range(corrected: tuple[str, Service]) -> None:
    _url, svc = corrected
    rows = {(r.ruleset, r.rule_id): r for r in false_positives_by_rule(svc.store, tenant="acme")}
    too_early = rows[("base", "promo.too_early")]
    assert (too_early.actions, too_early.false_positives) == (1, 1)
    assert too_early.false_positive_rate == 1.0
    assert rows[("base", "")].missed == 1
    assert false_positives_by_rule(svc.store, tenant="other") == []
    later = false_positives_by_rule(svc.store, tenant="acme", since=T0 + timedelta(days=1))
    assert later == []
    within = false_positives_by_rule(
        svc.store, since=T0 - timedelta(days=1), until=T0 + timedelta(hours=1)
    )
    assert {(r.rule_id, r.false_positives) for r in within} >= {("promo.too_early", 1)}


def test_cli_report_and_export(
    corrected: tuple[str, Service], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _svc = corrected
    assert main(["corrections", "report", "--store", url, "--tenant", "acme"]) == 0
    table = capsys.readouterr().out
    assert "base promo.too_early" in table and "100.0%" in table
    assert main(["corrections", "report", "--store", url, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {"ruleset": "base", "rule": "promo.too_early", "actions": 1, "false_positives": 1,
            "false_positive_rate": 1.0, "missed": 0} in rows  # fmt: skip
    out = tmp_path / "samples.jsonl"
    assert (
        main(["corrections", "export", "--store", url, "--tenant", "acme", "--out", str(out)]) == 0
    )
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(s["label"], s["text"]) for s in lines] == [("ham", RECRUITING), ("spam", TESTIMONIAL)]
    assert all(s["source"].startswith("correction:") for s in lines)
    assert "exported 2 samples" in capsys.readouterr().err


def test_cli_report_refuses_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["corrections", "report"]) == 2
    assert main(["corrections", "report", "--store", "sqlite:///x.db", "--since", "soon"]) == 2
    assert "ISO-8601" in capsys.readouterr().err


def test_another_replica_sees_a_correction_once_the_cache_ttl_passed(
    corrected: tuple[str, Service],
) -> None:
    _url, svc = corrected
    clock = [0.0]
    cache = SampleCache(ttl_seconds=5, monotonic=lambda: clock[0])  # another replica's
    with svc.store.engine.connect() as conn:
        before = cache.get(conn, "acme")
        assert before.match(TESTIMONIAL).spam
        assert revision(conn, "acme") == 2
    svc.pipeline.evaluate(
        post("m3", IVAN, "Кто едет на сплав в субботу? Нужны ещё двое в лодку", 2)
    )
    svc.admin.report(CorrectionRequest(KEY, CorrectionKind.MISSED_SPAM, OLGA.id, event_id="m3"))
    with svc.store.engine.connect() as conn:
        clock[0] = 4.0
        assert not cache.get(conn, "acme").match("Кто едет на сплав в субботу? Нужны ещё двое").spam
        clock[0] = 5.0
        assert cache.get(conn, "acme").match("Кто едет на сплав в субботу? Нужны ещё двое").spam
