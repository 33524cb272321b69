"""The console in a real headless Chromium, against the running service.

The service (``run_service``, with credentials, the console on port 0) is fed over gRPC
with an adapter's token; then Chromium signs in with an admin's token through the
login form, loads each page, reads the figures from the DOM and compares them with the
gRPC API's own answers: the ``Evaluate`` responses (per-rule counts, the latest
decisions with their trace), ``Health/GetChatHealth`` (the chat's health), and, after
a ruleset edit applied by ``Admin/ReloadRulesets``, the events whose recorded actions
came from the rule that edit turned to shadow (the replay diff). Each page is saved as
a screenshot (``tests/console/browser.py`` says where).
"""

from __future__ import annotations

import asyncio
import shutil
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format

from firekeeper.api.gen.firekeeper.v1 import admin_pb2 as apb
from firekeeper.api.gen.firekeeper.v1 import admin_pb2_grpc as apb_grpc
from firekeeper.api.gen.firekeeper.v1 import corrections_pb2 as cpb
from firekeeper.api.gen.firekeeper.v1 import corrections_pb2_grpc as cpb_grpc
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2_grpc as lpb_grpc
from firekeeper.app import run_service
from firekeeper.config import Settings
from firekeeper.server import Bound
from tests.auth.support import bearer, credential, write_credentials
from tests.conftest import RULESETS
from tests.console.browser import artifacts, chromium

TENANT, CHAT_ID = "acme", "-100900"
ADMIN, ADAPTER, OPS = "console-admin-token", "console-adapter-token", "console-ops-token"
START = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)


def _events() -> list[dict[str, Any]]:
    """Repeated texts (flood.repeat_warn, flood.repeat), a new account joining
    (screen.new_account), a member count far off (size.count_drift, shadow)."""

    def env(n: int, actor: dict[str, Any]) -> dict[str, Any]:
        at = (START + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")
        return {
            "event_id": f"b-{n}",
            "platform": "PLATFORM_TELEGRAM",
            "tenant": TENANT,
            "chat_id": CHAT_ID,
            "occurred_at": at,
            "actor": actor,
        }

    ann = {"id": "ann", "display_name": "Ann"}
    out = [
        {"envelope": env(n, ann), "message_posted": {"message_id": f"m{n}", "text": "walk at 6?"}}
        for n in range(6)
    ]
    young = (START - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    newbie = {"id": "newbie", "display_name": "New", "account_created_at": young}
    out.append({"envelope": env(7, newbie), "member_joined": {"member": newbie}})
    out.append({"envelope": env(8, ann), "chat_updated": {"platform_member_count": 500}})
    # an admin speaks, so the store knows her as one: she corrects the new-account hold
    olga = {"id": "olga", "display_name": "Olga", "role": "ROLE_ADMIN"}
    out.append(
        {"envelope": env(9, olga), "message_posted": {"message_id": "m9", "text": "see you at 6"}}
    )
    return out


class Running:
    """The service on its own event loop in a thread, so the test can drive selenium."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.bound: Bound | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="console-test-service")

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def ready(bound: Bound) -> None:
                self.bound = bound
                self._ready.set()

            await run_service(self.settings, stop_event=self._stop, on_ready=ready)

        try:
            asyncio.run(main())
        except BaseException as exc:
            self._error = exc
        finally:
            self._ready.set()

    def __enter__(self) -> Bound:
        self._thread.start()
        self._ready.wait(120)
        if self.bound is None:
            raise RuntimeError(f"the service did not start: {self._error!r}")
        return self.bound

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)


@dataclass
class Fed:
    bound: Bound
    decisions: list[pb.Decision]  # Evaluate's answers, in order
    health: lpb.ChatHealth  # GetChatHealth's answer
    rulesets: Path
    false_positives: dict[tuple[str, str], int]  # Corrections.GetRuleCorrections' answer


@pytest.fixture
def fed(tmp_path: Path) -> Iterator[Fed]:
    rulesets = tmp_path / "rulesets"
    shutil.copytree(RULESETS, rulesets)
    creds = write_credentials(
        tmp_path / "credentials.yaml",
        [
            credential("console-admin", ADMIN, [TENANT], ["tenant_admin"]),
            credential("console-adapter", ADAPTER, [TENANT], ["adapter"]),
            credential("console-ops", OPS, "*", ["operator"]),
        ],
    )
    settings = Settings(
        store_url=f"sqlite:///{tmp_path / 'firekeeper.db'}",
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(rulesets),
        grace_seconds=2,
        reload_seconds=0,
        reload_memory_mb=0,
        credentials_file=str(creds),
        credentials_check_seconds=0,
        scheduler=False,
        console_port=0,
    )
    with Running(settings) as bound, grpc.insecure_channel(bound.grpc_address) as channel:
        governance = pb_grpc.GovernanceStub(channel)
        decisions = []
        for n, event in enumerate(_events()):
            request = pb.EvaluateRequest(
                event=json_format.ParseDict(event, pb.Event()), explain=n in (2, 3)
            )
            decisions.append(governance.Evaluate(request, metadata=bearer(ADAPTER)).decision)
        key = pb.ChatKey(platform=pb.PLATFORM_TELEGRAM, tenant=TENANT, chat_id=CHAT_ID)
        health = lpb_grpc.HealthStub(channel).GetChatHealth(
            lpb.GetChatHealthRequest(key=key), metadata=bearer(ADMIN)
        )
        corrections = cpb_grpc.CorrectionsStub(channel)
        corrections.ReportCorrection(
            cpb.ReportCorrectionRequest(
                chat=key,
                kind=cpb.CORRECTION_KIND_JOIN_WAS_FINE,
                event_id="b-7",  # the new account's join
                reporter_id="olga",
            ),
            metadata=bearer(ADAPTER),
        )
        report = corrections.GetRuleCorrections(
            cpb.GetRuleCorrectionsRequest(tenant=TENANT), metadata=bearer(ADMIN)
        )
        false_positives = {(r.ruleset, r.rule_id): r.false_positives for r in report.rules}
        assert false_positives[("base", "screen.new_account")] == 1
        yield Fed(bound, decisions, health, rulesets, false_positives)


def _mode(value: int) -> str:
    return pb.RuleMode.Name(value).removeprefix("RULE_MODE_").lower()  # type: ignore[arg-type]


def _action(value: int) -> str:
    return pb.ActionType.Name(value).removeprefix("ACTION_TYPE_").lower()  # type: ignore[arg-type]


def _expected_counts(decisions: list[pb.Decision]) -> dict[tuple[str, str], dict[str, int]]:
    out: dict[tuple[str, str], Counter[str]] = {}
    for d in decisions:
        for m in d.trace:
            c = out.setdefault((d.ruleset, m.rule_id), Counter())
            c["matched"] += 1
            c["shadow"] += _mode(m.mode) == "shadow"
        for rule in {a.rule_id for a in d.actions}:
            out.setdefault((d.ruleset, rule), Counter())["acted"] += 1
    return {k: {f: v[f] for f in ("matched", "acted", "shadow")} for k, v in out.items()}


def _shadow_flood_repeat(rulesets: Path) -> None:
    """The edit whose effect the replay must show: flood.repeat to shadow mode."""
    path = rulesets / "base.yaml"
    text = path.read_text(encoding="utf-8")
    rule = "  - id: flood.repeat\n    on: message.posted\n"
    assert text.count(rule) == 1, "base.yaml's flood.repeat moved: update this test"
    path.write_text(text.replace(rule, rule + "    mode: shadow\n"), encoding="utf-8")


def test_the_console_pages_show_what_the_api_answers(fed: Fed) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    out = artifacts()
    base = f"http://127.0.0.1:{fed.bound.console_port}"
    chat = f"platform=telegram&tenant={TENANT}&chat={CHAT_ID}"
    want = _expected_counts(fed.decisions)
    for rule, counts in want.items():  # the false positives as the Corrections API reports
        counts["false_positives"] = fed.false_positives.get(rule, 0)
    assert ("base", "flood.repeat") in want and want[("base", "size.count_drift")]["shadow"] == 1
    with chromium() as driver:
        # not signed in: the login form, then in with the admin's token
        driver.get(f"{base}/rules?tenant={TENANT}&bucket=hour&last=24")
        assert driver.current_url.startswith(f"{base}/login")
        driver.find_element(By.ID, "token").send_keys(ADMIN)
        driver.save_screenshot(str(out / "login.png"))
        driver.find_element(By.ID, "sign-in").click()
        # the click submits the form and returns; the browser follows the redirect after
        WebDriverWait(driver, 30).until(
            lambda d: d.current_url.split("?")[0] != f"{base}/login",
            message="still on the login page after signing in",
        )
        assert driver.current_url == f"{base}/rules?tenant={TENANT}&bucket=hour&last=24"
        assert driver.find_element(By.ID, "viewer").text == "console-admin"
        driver.get(f"{base}/")
        links = driver.find_elements(By.CSS_SELECTOR, "main a[href^='/rules?tenant=']")
        assert [a.text for a in links] == [TENANT]  # the credential's tenants
        driver.save_screenshot(str(out / "index.png"))
        driver.get(f"{base}/rules?tenant={TENANT}&bucket=hour&last=24")

        # rules: every figure equals the counts of Evaluate's answers
        shown = {}
        for row in driver.find_elements(By.CSS_SELECTOR, "#rules tr[data-rule]"):
            figures = {
                cell.get_attribute("data-figure"): int(cell.text)
                for cell in row.find_elements(By.CSS_SELECTOR, "td[data-figure]")
            }
            shown[(row.get_attribute("data-ruleset"), row.get_attribute("data-rule"))] = figures
        assert shown == want
        assert driver.find_element(By.ID, "decisions").text == str(len(fed.decisions))
        assert len(driver.find_elements(By.CSS_SELECTOR, "figure.chart svg")) == 2
        driver.save_screenshot(str(out / "rules.png"))

        # chat: health as GetChatHealth answers it, decisions as Evaluate answered them
        driver.get(f"{base}/chat?{chat}")
        health = fed.health
        assert driver.find_element(By.ID, "health-status").text == health.status
        assert driver.find_element(By.ID, "health-reason").text == health.status_reason
        figures = {
            cell.get_attribute("data-figure"): cell.text
            for cell in driver.find_elements(By.CSS_SELECTOR, "#health-figures td[data-figure]")
        }
        for name in ("member_count", "posters", "joins_30d", "leaves_30d", "messages_7d"):
            assert figures[name] == str(getattr(health.metrics, name)), name
        rows = driver.find_elements(By.CSS_SELECTOR, "#decisions tbody tr[data-event]")
        assert [r.get_attribute("data-event") for r in rows] == [
            d.event_id for d in reversed(fed.decisions)
        ]
        for row, d in zip(rows, reversed(fed.decisions), strict=True):
            actions = [
                (e.get_attribute("data-action"), e.get_attribute("data-action-rule"))
                for e in row.find_elements(By.CSS_SELECTOR, "[data-action]")
            ]
            assert actions == [(_action(a.type), a.rule_id) for a in d.actions], d.event_id
            trace = [
                (e.get_attribute("data-trace-rule"), e.get_attribute("data-mode"))
                for e in row.find_elements(By.CSS_SELECTOR, "[data-trace-rule]")
            ]
            assert trace == [(m.rule_id, _mode(m.mode)) for m in d.trace], d.event_id
            checks = row.find_elements(By.CSS_SELECTOR, "[data-check]")
            assert [c.get_attribute("data-check") for c in checks] == [
                c.rule_id for c in d.explanation
            ]
        for details in driver.find_elements(By.CSS_SELECTOR, "details")[:4]:
            details.click()  # open a few traces for the screenshot
        driver.save_screenshot(str(out / "chat.png"))

        # replay: after flood.repeat went to shadow, exactly the events it acted on differ
        with grpc.insecure_channel(fed.bound.grpc_address) as channel:
            _shadow_flood_repeat(fed.rulesets)
            reload = apb_grpc.AdminStub(channel).ReloadRulesets(
                apb.ReloadRulesetsRequest(), metadata=bearer(OPS)
            )
            assert reload.ok and reload.changed, reload
        driver.get(f"{base}/replay?{chat}")
        expected = [
            d.event_id for d in fed.decisions if any(a.rule_id == "flood.repeat" for a in d.actions)
        ]
        assert expected  # the history makes flood.repeat act
        rows = driver.find_elements(By.CSS_SELECTOR, "#differences tr[data-event]")
        assert [r.get_attribute("data-event") for r in rows] == expected
        assert driver.find_element(By.ID, "differing").text == str(len(expected))
        assert driver.find_element(By.ID, "events").text == str(len(fed.decisions))
        for row in rows:
            recorded = row.find_element(By.CSS_SELECTOR, "td[data-side=recorded]").text
            serving = row.find_element(By.CSS_SELECTOR, "td[data-side=serving]").text
            assert "delete_message" in recorded and "delete_message" not in serving
        driver.save_screenshot(str(out / "replay.png"))
