"""The discord.py adapter, end to end without network.

Gateway dispatches go in through discord.py's own websocket handler
(``DiscordWebSocket.received_message``: its raw hook ``on_socket_raw_receive``,
then its parsers), a real Firekeeper decides, and the calls go out through
discord.py's HTTP client, whose aiohttp session is replaced by one that records
each request (method, URL, headers, body) and answers as Discord would.

Real payloads: ``shared/fixtures/payloads/discord/discord_api_docs_resource_examples.json``
(discord/discord-api-docs, developers/resources/{message,guild}.mdx "Example …"
blocks, commit c98d64bc; docs CC BY-SA 4.0, code MIT; see SOURCES.md). They are
REST objects: the gateway sends the same object as a dispatch's ``d`` with the
``guild_id`` added, which is the only thing these tests add.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import discord
import pytest
from discord.gateway import DiscordWebSocket
from multidict import CIMultiDict

from firekeeper.client import AsyncFirekeeperClient
from firekeeper.domain import Platform
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.integrations.discord_bot import (
    DiscordSettings,
    FirekeeperBot,
    is_permanent,
    main,
)
from firekeeper.integrations.settings import ServiceSettings, SettingError

from .conftest import TENANT, Firekeeper, eventually

GUILD = "290926798999357249"
ADMIN_CHANNEL = "555000000000000001"
API = "https://discord.com/api/v10"


class Answer:
    """What aiohttp's ClientResponse offers discord.py's ``HTTPClient.request``."""

    def __init__(self, status: int, body: object = None) -> None:
        self.status = status
        self.reason = "OK" if status < 300 else "Forbidden"
        self._text = "" if body is None else json.dumps(body)
        self.headers: CIMultiDict[str] = CIMultiDict()
        if body is not None:
            self.headers["Content-Type"] = "application/json"

    async def text(self, encoding: str | None = None) -> str:
        return self._text

    async def __aenter__(self) -> Answer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


class RecordingSession:
    """discord.py's aiohttp session replaced: records each request, answers like Discord."""

    closed = False

    def __init__(self, refuse: dict[str, int] | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.refuse = refuse or {}

    def request(self, method: str, url: str, **kwargs: Any) -> Answer:
        data = kwargs.get("data")
        path = url.removeprefix(API)
        self.requests.append(
            {
                "method": method,
                "path": path,
                "params": dict(kwargs.get("params") or {}),
                "headers": dict(kwargs.get("headers") or {}),
                "json": json.loads(data) if data else None,
            }
        )
        for prefix, status in self.refuse.items():
            if f"{method} {path}".startswith(prefix):
                return Answer(status, {"code": 50013, "message": "Missing Permissions"})
        if method == "POST" and path.endswith("/messages"):
            return Answer(200, _message(path.split("/")[2], data))
        return Answer(204)

    async def close(self) -> None:
        self.closed = True


def _message(channel: str, data: object) -> dict[str, Any]:
    body = json.loads(str(data)) if data else {}
    return {
        "id": "1300000000000000000",
        "channel_id": channel,
        "author": {"id": "1200000000000000000", "username": "firekeeper", "bot": True},
        "content": body.get("content", ""),
        "timestamp": "2026-12-01T00:00:00+00:00",
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": False,
        "type": 0,
    }


class Socket:
    """The websocket discord.py would read; only what received_message touches."""

    closed = False

    async def send_str(self, data: str) -> None:
        pass

    async def close(self, *, code: int = 1000) -> None:
        self.closed = True


def logged_in(bot: discord.Client) -> RecordingSession:
    """What ``HTTPClient.static_login`` sets up, with the recording session for aiohttp's."""
    session = RecordingSession()
    bot.http._HTTPClient__session = session  # type: ignore[attr-defined]
    bot.http._global_over = asyncio.Event()
    bot.http._global_over.set()
    bot.http.token = "test-token"
    return session


def gateway(bot: discord.Client) -> DiscordWebSocket:
    """A DiscordWebSocket wired to ``bot`` as ``DiscordWebSocket.from_client`` wires it."""
    ws = DiscordWebSocket(Socket(), loop=bot.loop)  # type: ignore[arg-type]
    ws.token = bot.http.token
    ws._connection = bot._connection
    ws._discord_parsers = bot._connection.parsers
    ws._dispatch = bot.dispatch
    ws.shard_id = None
    ws.log_receive = ws.debug_log_receive  # what enable_debug_events=True selects
    ws.session_id = "test-session"
    bot.ws = ws
    return ws


def fixtures(payloads: Path) -> dict[str, Any]:
    found: dict[str, Any] = json.loads(
        (payloads / "discord" / "discord_api_docs_resource_examples.json").read_text()
    )
    return found


def dispatch(kind: str, body: dict[str, Any], seq: int) -> str:
    return json.dumps({"op": 0, "t": kind, "s": seq, "d": {**body, "guild_id": GUILD}})


def settings(address: str) -> DiscordSettings:
    return DiscordSettings(
        ServiceSettings(tenant=TENANT, target=address), "test-token", ADMIN_CHANNEL
    )


@pytest.fixture
async def bot(
    firekeeper: Firekeeper,
) -> AsyncIterator[tuple[FirekeeperBot, RecordingSession, DiscordWebSocket]]:
    client = FirekeeperBot(
        settings(firekeeper.address), AsyncFirekeeperClient(firekeeper.address), outbox=False
    )
    async with client:  # sets up the loop, as login does; closes the HTTP client after
        session = logged_in(client)
        yield client, session, gateway(client)


async def register(address: str, **kw: Any) -> None:
    async with AsyncFirekeeperClient(address) as client:
        await client.register_chat(
            ChatRegistration(key=ChatKey(Platform.DISCORD, TENANT, GUILD), **kw)
        )


async def feed(bot: FirekeeperBot, ws: DiscordWebSocket, raw: str) -> None:
    before = len(bot.outcomes)
    await ws.received_message(raw)
    await eventually(lambda: len(bot.outcomes) > before)


async def test_a_message_from_a_blocked_user_is_deleted_and_banned(
    firekeeper: Firekeeper, bot: tuple[FirekeeperBot, RecordingSession, Any], payloads: Path
) -> None:
    client, session, ws = bot
    message = fixtures(payloads)["Example Message"]
    await register(firekeeper.address, kind="hobby", member_count=120)
    await firekeeper.block_user(Platform.DISCORD, message["author"]["id"])
    seen: list[discord.Message] = []
    client.event(_on_message(seen))

    await feed(client, ws, dispatch("MESSAGE_CREATE", message, 42))

    delete, ban = session.requests
    assert (delete["method"], delete["path"]) == (
        "DELETE",
        "/channels/290926798999357250/messages/334385199974967042",
    )
    assert (ban["method"], ban["path"]) == ("PUT", f"/guilds/{GUILD}/bans/53908099506183680")
    assert ban["params"] == {"delete_message_seconds": 0}
    for request in (delete, ban):
        assert request["headers"]["Authorization"] == "Bot test-token"
        assert request["headers"]["X-Audit-Log-Reason"] == "firekeeper rule screen.blocked_actor"
    # discord.py's own parser saw the same dispatch (its on_message fired)
    await eventually(lambda: len(seen) == 1)
    assert seen[0].content == "Supa Hot"


def _on_message(seen: list[discord.Message]) -> Any:
    async def on_message(message: discord.Message) -> None:
        seen.append(message)

    return on_message


async def test_a_flood_is_timed_out_and_warned_by_mention(
    firekeeper: Firekeeper, bot: tuple[FirekeeperBot, RecordingSession, Any], payloads: Path
) -> None:
    client, session, ws = bot
    message = fixtures(payloads)["Example Message"]
    await register(
        firekeeper.address,
        kind="hobby",
        member_count=120,
        params={"flood_per_minute": "1", "flood_mute_at": "1"},
    )

    await feed(client, ws, dispatch("MESSAGE_CREATE", message, 7))

    by_route = {(r["method"], r["path"]): r for r in session.requests}
    timeout = by_route["PATCH", f"/guilds/{GUILD}/members/53908099506183680"]
    until = datetime.fromisoformat(timeout["json"]["communication_disabled_until"])
    assert until.timestamp() == pytest.approx(time.time() + 600, abs=60)  # 10 minutes
    assert timeout["headers"]["X-Audit-Log-Reason"] == "firekeeper rule flood.member_mute"
    warning = by_route["POST", "/channels/290926798999357250/messages"]
    assert warning["json"]["content"].startswith("<@53908099506183680> ")
    # discord.py sends the ids as JSON numbers, as it always has; Discord accepts both
    assert warning["json"]["allowed_mentions"]["users"] == [53908099506183680]
    assert warning["json"]["allowed_mentions"]["parse"] == []
    notice = by_route["POST", f"/channels/{ADMIN_CHANNEL}/messages"]
    assert "Muted" in notice["json"]["content"] and "flood." not in notice["json"]["content"]


async def test_a_join_past_the_cap_is_kicked_and_the_leave_is_matched(
    firekeeper: Firekeeper, bot: tuple[FirekeeperBot, RecordingSession, Any], payloads: Path
) -> None:
    client, session, ws = bot
    examples = fixtures(payloads)
    # The docs' guild member example leaves "user" empty; its user is the docs' message author.
    member = {**examples["Example Guild Member"], "user": examples["Example Message"]["author"]}
    user = member["user"]["id"]
    await register(firekeeper.address, kind="goal", member_count=49)  # goal: hard cap 49

    await feed(client, ws, dispatch("GUILD_MEMBER_ADD", member, 3))
    kick = session.requests[0]
    assert (kick["method"], kick["path"]) == ("DELETE", f"/guilds/{GUILD}/members/{user}")
    assert kick["headers"]["X-Audit-Log-Reason"] == "firekeeper rule size.hard_cap"
    assert any(r["path"] == f"/channels/{ADMIN_CHANNEL}/messages" for r in session.requests)

    # The leave Discord sends next carries no time or id: the join time the bot saw names it.
    await feed(client, ws, dispatch("GUILD_MEMBER_REMOVE", {"user": member["user"]}, 4))
    (left,) = client.outcomes[-1].decisions
    assert left.event_id == f"dc:{GUILD}:{user}:left:{member['joined_at']}"


async def test_dispatches_that_are_not_governed_make_no_call(
    bot: tuple[FirekeeperBot, RecordingSession, Any], payloads: Path
) -> None:
    client, session, ws = bot
    await ws.received_message(json.dumps({"op": 11, "d": None}))  # heartbeat ack
    ban = fixtures(payloads)["Example Ban"]
    await ws.received_message(dispatch("GUILD_BAN_ADD", ban, 9))
    direct = {**fixtures(payloads)["Example Message"]}
    await ws.received_message(json.dumps({"op": 0, "t": "MESSAGE_CREATE", "s": 10, "d": direct}))
    # Only the direct message is translated, to a skip note: no guild, nothing to decide.
    await eventually(lambda: len(client.outcomes) == 1)
    assert client.outcomes[-1].decisions == []
    assert session.requests == []


async def test_outbox_items_are_posted_to_the_admin_channel_and_acknowledged(
    firekeeper: Firekeeper,
) -> None:
    client = FirekeeperBot(settings(firekeeper.address), AsyncFirekeeperClient(firekeeper.address))
    firekeeper.owner_missed(Platform.DISCORD, GUILD)
    async with client:
        session = logged_in(client)
        await client.setup_hook()  # what login() runs: starts the outbox stream
        await eventually(lambda: len(session.requests) == 1)
        await eventually(lambda: firekeeper.pending_outbox() == 0)
    (post,) = session.requests
    assert (post["method"], post["path"]) == ("POST", f"/channels/{ADMIN_CHANNEL}/messages")
    assert "The owner has not posted for" in post["json"]["content"]
    assert "lifecycle." not in post["json"]["content"]  # no rule ids for people
    assert post["json"]["allowed_mentions"]["parse"] == []


async def test_a_refused_call_is_logged_and_the_rest_still_runs(
    firekeeper: Firekeeper, bot: tuple[FirekeeperBot, RecordingSession, Any], payloads: Path
) -> None:
    client, session, ws = bot
    session.refuse = {"DELETE /channels/": 403}  # no Manage Messages in that channel
    message = fixtures(payloads)["Example Message"]
    await register(firekeeper.address, kind="hobby", member_count=120)
    await firekeeper.block_user(Platform.DISCORD, message["author"]["id"])

    await feed(client, ws, dispatch("MESSAGE_CREATE", message, 5))

    assert [r["method"] for r in session.requests] == ["DELETE", "PUT"]
    outcome = client.outcomes[-1]
    assert [c.method for c in outcome.calls] == ["PUT"]
    assert len(outcome.failures) == 1 and "Missing Permissions" in outcome.failures[0]


def test_errors_that_a_retry_can_fix_are_transient() -> None:
    class Status:
        def __init__(self, status: int) -> None:
            self.status, self.reason = status, "x"

    assert is_permanent(discord.Forbidden(Status(403), "Missing Permissions"))  # type: ignore[arg-type]
    assert is_permanent(discord.NotFound(Status(404), "Unknown Member"))  # type: ignore[arg-type]
    assert not is_permanent(discord.DiscordServerError(Status(502), "Bad Gateway"))  # type: ignore[arg-type]
    assert not is_permanent(aiohttp.ClientConnectionError())
    assert not is_permanent(TimeoutError())


def test_settings_come_from_the_environment_with_clear_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {"DISCORD_BOT_TOKEN": "t", "FIREKEEPER_TENANT": "acme", "DISCORD_ADMIN_CHANNEL_ID": "5"}
    assert DiscordSettings.from_env(env).admin_channel_id == "5"
    with pytest.raises(SettingError, match="DISCORD_ADMIN_CHANNEL_ID"):
        DiscordSettings.from_env({**env, "DISCORD_ADMIN_CHANNEL_ID": "#admins"})
    assert main({"FIREKEEPER_TENANT": "acme"}) == 2
    assert "DISCORD_BOT_TOKEN: not set" in capsys.readouterr().err
