"""The console's pages through its HTTP app, against a store the real pipeline filled
(``support.populated``): every figure on a page equals what the pipeline decided, and
bad queries get a clear 400, unknown chats a 404, anything but GET a 405."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Mapping
from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

from firekeeper.console.app import Console
from firekeeper.console.data import ConsoleData
from firekeeper.console.session import Sessions
from firekeeper.domain.decisions import Decision, RuleMode
from firekeeper.domain.events import Event
from firekeeper.rules.compiler import RulesetIndex
from tests.console.pages import Figures
from tests.console.support import KEY, history, populated

CHAT = {"platform": "telegram", "tenant": KEY.tenant, "chat": KEY.chat_id}


def expected_counts(decided: list[tuple[Event, Decision]]) -> dict[tuple[str, str], dict[str, int]]:
    """matched / acted / shadow per (ruleset, rule), straight from the decisions."""
    out: dict[tuple[str, str], Counter[str]] = {}
    for _e, d in decided:
        for m in d.trace:
            c = out.setdefault((d.ruleset, m.rule_id), Counter())
            c["matched"] += 1
            c["shadow"] += m.mode is RuleMode.SHADOW
        for rule in {a.rule_id for a in d.actions}:
            out.setdefault((d.ruleset, rule), Counter())["acted"] += 1
    return {k: {f: v[f] for f in ("matched", "acted", "shadow")} for k, v in out.items()}


@pytest.fixture
async def console() -> AsyncIterator[tuple[TestClient, list[tuple[Event, Decision]], RulesetIndex]]:
    with populated() as (sandbox, health, decided):
        now = sandbox.now + timedelta(minutes=1)
        data = ConsoleData(sandbox.store, health, lambda: sandbox.rulesets.index, clock=lambda: now)
        app = Console(data, Sessions(None), secure_cookie=False).app()
        async with TestClient(TestServer(app)) as client:
            yield client, decided, sandbox.rulesets.index


async def test_the_rules_page_counts_what_the_pipeline_decided(console: tuple) -> None:
    client, decided, _ = console
    response = await client.get("/rules", params={"tenant": "acme", "bucket": "hour", "last": "24"})
    assert response.status == 200
    page = Figures(await response.text())
    want = expected_counts(decided)
    assert ("base", "flood.repeat") in want or any(r[1] == "flood.repeat" for r in want)
    shown = {
        rule: {f: int(v) for f, v in cells.items() if f != "false_positives"}
        for rule, cells in page.rows.items()
    }
    assert shown == want
    assert page.ids["decisions"] == str(len(decided))
    assert "<svg" in await response.text() and "<script" not in await response.text()
    # no corrections provider: the column is there, marked n/a
    assert "false positives" in await response.text() and "n/a" in await response.text()


async def test_the_chat_page_shows_its_health_and_latest_decisions(console: tuple) -> None:
    client, decided, _ = console
    response = await client.get("/chat", params=CHAT)
    assert response.status == 200
    html = await response.text()
    page = Figures(html)
    assert page.events == [d.event_id for _e, d in reversed(decided)]  # newest first
    for _e, d in decided:
        for a in d.actions:
            assert {
                "tag": "div",
                "data-action": a.type.value,
                "data-action-rule": a.rule_id,
            } in page.marked
        for m in d.trace:
            assert {
                "tag": "details",
                "data-trace-rule": m.rule_id,
                "data-mode": m.mode.value,
            } in page.marked
    assert page.attrs_by_id["health"]["data-status"] in {
        "new",
        "thriving",
        "steady",
        "cooling",
        "dormant",
        "cemetery",
    }
    assert "anyone up for a walk" not in html  # members' words are not shown


async def test_replay_against_the_same_rulesets_changes_nothing(console: tuple) -> None:
    client, decided, _ = console
    response = await client.get("/replay", params=CHAT)
    assert response.status == 200
    page = Figures(await response.text())
    assert page.ids["events"] == str(len(decided))
    assert page.ids["differing"] == "0", page.ids.get("differences")


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/rules", {"bucket": "week"}, 400, "bucket"),
        ("/rules", {"bucket": "hour", "last": "999"}, 400, "last"),
        ("/rules", {"last": "-1"}, 400, "last"),
        ("/chat", {"platform": "telegram", "tenant": "acme"}, 400, "chat: required"),
        ("/chat", {"platform": "myspace", "tenant": "acme", "chat": "1"}, 400, "platform"),
        ("/chat", {"platform": "telegram", "tenant": "acme", "chat": "nope"}, 404, "not known"),
        ("/replay", {**CHAT, "hours": "0"}, 400, "hours"),
        ("/nowhere", {}, 404, "Not Found"),
    ],
)
async def test_bad_queries_get_a_clear_error(
    console: tuple, path: str, params: dict[str, str], status: int, says: str
) -> None:
    client, _, _ = console
    response = await client.get(path, params=params)
    assert response.status == status
    assert says in Figures(await response.text()).ids["error"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
async def test_pages_are_read_only(console: tuple, method: str) -> None:
    client, _, _ = console
    for path in ("/rules", "/chat", "/replay", "/"):
        response = await client.request(method, path)
        assert response.status == 405, (method, path)


async def test_every_page_forbids_scripts_and_framing(console: tuple) -> None:
    client, _, _ = console
    for path in ("/", "/rules", "/chat?" + "&".join(f"{k}={v}" for k, v in CHAT.items())):
        response = await client.get(path)
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_history_is_what_support_says() -> None:
    assert len(history()) == 7


class _Corrections:
    """A stand-in for the corrections store: a fixed number of false positives for every
    rule that acted, in whichever bucket is asked about first."""

    def __init__(self, per_rule: dict[tuple[str, str], int]) -> None:
        self.left = dict(per_rule)

    def false_positives_by_rule(
        self, *, tenant: str | None, since: datetime, until: datetime
    ) -> Mapping[tuple[str, str], int]:
        assert tenant == "acme" and since < until
        out, self.left = self.left, {}
        return out


async def test_false_positives_from_a_provider_fill_their_column() -> None:
    with populated() as (sandbox, health, decided):
        now = sandbox.now + timedelta(minutes=1)
        wanted = {("base", "flood.repeat"): 2, ("base", "screen.new_account"): 1}
        data = ConsoleData(
            sandbox.store,
            health,
            lambda: sandbox.rulesets.index,
            false_positives=_Corrections(wanted),
            clock=lambda: now,
        )
        app = Console(data, Sessions(None), secure_cookie=False).app()
        async with TestClient(TestServer(app)) as client:
            response = await client.get("/rules", params={"tenant": "acme", "bucket": "hour"})
            page = Figures(await response.text())
    shown = {rule: int(cells["false_positives"]) for rule, cells in page.rows.items()}
    assert shown == {rule: wanted.get(rule, 0) for rule in expected_counts(decided)}
