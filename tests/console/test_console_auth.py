"""Who may look at the console: the credentials file's tokens with an admin role, by
bearer header or by the signed session cookie the login form sets; each sees only its
own tenants. (Credentials are made here: no token is committed anywhere else.)"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from aiohttp.test_utils import TestClient, TestServer

from firekeeper.auth.credentials import Credentials, parse
from firekeeper.console.app import Console
from firekeeper.console.data import ConsoleData
from firekeeper.console.session import COOKIE, SESSION_SECONDS, Sessions
from tests.auth.support import credential
from tests.console.pages import Figures
from tests.console.support import KEY, populated

CHAT = {"platform": "telegram", "tenant": KEY.tenant, "chat": KEY.chat_id}


def _file(*entries: dict[str, object]) -> Credentials:
    return parse(yaml.safe_dump({"credentials": list(entries)}))


ADMIN = credential("acme-admin", "tok-admin", [KEY.tenant], ["tenant_admin"])
OPS = credential("ops", "tok-ops", "*", ["operator"])
ADAPTER = credential("acme-adapter", "tok-adapter", [KEY.tenant], ["adapter"])
OTHER = credential("other-admin", "tok-other", ["other"], ["tenant_admin"])
DISCORD_ONLY = credential(
    "acme-discord", "tok-discord", [KEY.tenant], ["tenant_admin"], platforms=["discord"]
)


@dataclass
class Setup:
    client: TestClient
    credentials: list[Credentials]
    clock: list[float]


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    current = [_file(ADMIN, OPS, ADAPTER, OTHER, DISCORD_ONLY)]
    clock = [1_000_000.0]
    with populated() as (sandbox, health, _decided):
        now = sandbox.now + timedelta(minutes=1)
        data = ConsoleData(sandbox.store, health, lambda: sandbox.rulesets.index, clock=lambda: now)
        sessions = Sessions(lambda: current[0], clock=lambda: clock[0])
        app = Console(data, sessions, secure_cookie=False).app()
        async with TestClient(TestServer(app)) as client:
            yield Setup(client, current, clock)


def _why(location: str) -> str:
    return parse_qs(urlsplit(location).query)["why"][0]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_without_a_token_a_page_sends_the_browser_to_the_login_form(setup: Setup) -> None:
    response = await setup.client.get("/rules?tenant=acme", allow_redirects=False)
    assert response.status == 303
    where = urlsplit(response.headers["Location"])
    assert where.path == "/login"
    assert parse_qs(where.query)["next"] == ["/rules?tenant=acme"]
    form = await setup.client.get(response.headers["Location"])
    assert form.status == 200 and 'name="token"' in await form.text()


@pytest.mark.parametrize(
    ("header", "status", "says"),
    [
        ("Bearer tok-admin", 200, None),
        ("Bearer tok-ops", 200, None),
        ("Bearer tok-adapter", 403, "no admin role"),
        ("Bearer wrong", 401, "not in the credentials file"),
        ("Basic dG9rLWFkbWlu", 401, "Bearer"),
        ("Bearer ", 401, "no token"),
    ],
)
async def test_a_bearer_token_needs_an_admin_role(
    setup: Setup, header: str, status: int, says: str | None
) -> None:
    response = await setup.client.get("/chat", params=CHAT, headers={"Authorization": header})
    assert response.status == status
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    if says:
        assert says in Figures(await response.text()).ids["error"]


async def test_each_credential_sees_only_its_tenants_and_platforms(setup: Setup) -> None:
    c = setup.client
    assert (await c.get("/rules?tenant=acme", headers=_bearer("tok-other"))).status == 403
    assert (await c.get("/rules", headers=_bearer("tok-admin"))).status == 403  # every tenant
    assert (await c.get("/rules", headers=_bearer("tok-ops"))).status == 200
    assert (await c.get("/chat", params=CHAT, headers=_bearer("tok-other"))).status == 403
    assert (await c.get("/replay", params=CHAT, headers=_bearer("tok-other"))).status == 403
    # a discord-only admin of acme: not this telegram chat, and its rules page counts nothing
    assert (await c.get("/chat", params=CHAT, headers=_bearer("tok-discord"))).status == 403
    page = await c.get("/rules?tenant=acme&bucket=hour", headers=_bearer("tok-discord"))
    assert Figures(await page.text()).ids["decisions"] == "0"
    page = await c.get("/rules?tenant=acme&bucket=hour", headers=_bearer("tok-admin"))
    assert Figures(await page.text()).ids["decisions"] == "7"


async def test_the_login_form_sets_a_signed_strict_http_only_cookie(setup: Setup) -> None:
    c = setup.client
    response = await c.post(
        "/login",
        data={"token": "tok-admin", "next": "/chat?platform=telegram"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/chat?platform=telegram"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie
    assert f"Max-Age={SESSION_SECONDS}" in cookie
    assert "tok-admin" not in cookie
    page = await c.get("/chat", params=CHAT)  # the client's jar sends the cookie
    assert page.status == 200
    assert Figures(await page.text()).ids["viewer"] == "acme-admin"


async def test_a_tampered_expired_or_revoked_session_is_refused(setup: Setup) -> None:
    c = setup.client
    await c.post("/login", data={"token": "tok-admin"}, allow_redirects=False)
    value = c.session.cookie_jar.filter_cookies(c.make_url("/"))[COOKIE].value
    payload, _, signature = value.partition(".")

    async def with_cookie(v: str) -> tuple[int, str]:
        c.session.cookie_jar.clear()
        c.session.cookie_jar.update_cookies({COOKIE: v})
        r = await c.get("/chat", params=CHAT, allow_redirects=False)
        return r.status, r.headers.get("Location", "")

    assert (await with_cookie(value))[0] == 200
    forged = payload[:-2] + ("AA" if payload[-2:] != "AA" else "BB")
    status, where = await with_cookie(f"{forged}.{signature}")
    assert status == 303 and "not one this server signed" in _why(where)
    setup.clock[0] += SESSION_SECONDS + 1
    status, where = await with_cookie(value)
    assert status == 303 and "expired" in _why(where)
    setup.clock[0] -= SESSION_SECONDS + 1
    setup.credentials[0] = _file(OPS)  # the token was removed from the file
    status, where = await with_cookie(value)
    assert status == 303 and "no longer in the credentials file" in _why(where)


async def test_login_refuses_bad_tokens_other_sites_and_foreign_redirects(setup: Setup) -> None:
    c = setup.client
    bad = await c.post("/login", data={"token": "nope"}, allow_redirects=False)
    assert bad.status == 401 and "not in the credentials file" in await bad.text()
    assert "Set-Cookie" not in bad.headers
    adapter = await c.post("/login", data={"token": "tok-adapter"}, allow_redirects=False)
    assert adapter.status == 403 and "Set-Cookie" not in adapter.headers
    foreign = await c.post(
        "/login",
        data={"token": "tok-admin"},
        headers={"Origin": "https://evil.example"},
        allow_redirects=False,
    )
    assert foreign.status == 403 and "Set-Cookie" not in foreign.headers
    for target in ("https://evil.example/", "//evil.example/x", "rules"):
        r = await c.post(
            "/login", data={"token": "tok-admin", "next": target}, allow_redirects=False
        )
        assert r.headers["Location"] == "/", target


async def test_logout_clears_the_cookie(setup: Setup) -> None:
    c = setup.client
    await c.post("/login", data={"token": "tok-admin"}, allow_redirects=False)
    out = await c.post("/logout", allow_redirects=False)
    assert out.status == 303 and f"{COOKIE}=" in out.headers["Set-Cookie"]
    r = await c.get("/chat", params=CHAT, allow_redirects=False)
    assert r.status == 303 and r.headers["Location"].startswith("/login")
