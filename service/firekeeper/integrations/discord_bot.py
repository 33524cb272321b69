"""A Discord bot on discord.py that governs its guilds with Firekeeper.

    gateway dispatch --on_socket_raw_receive (the raw JSON)--> translate_discord --> events
        --evaluate--> decision --calls_for_action--> PlatformCall --carry_out--> discord.py
    outbox stream (scheduler ticks) --> the same calls, acknowledged once made

The raw-dispatch hook: with ``enable_debug_events=True`` discord.py dispatches
``on_socket_raw_receive(msg)`` with every gateway message as received (the
JSON text ``{"op": 0, "t": "MESSAGE_CREATE", "s": 42, "d": {...}}``), before
its own parsers turn it into models. That is exactly what ``translate_discord``
reads, so nothing is lost to discord.py's models or cache. Its own events
(``on_message``, ``on_member_join``) still fire as usual.

``carry_out`` is the one place calls become requests, through discord.py's
HTTP client (its rate limiting and retries) and ``PartialMessageable.send``:
methods that take ids alone, so no member cache is needed.

Run it (``pip install "firekeeper[discord]"``)::

    DISCORD_BOT_TOKEN=... FIREKEEPER_TENANT=acme DISCORD_ADMIN_CHANNEL_ID=555000000000000001 \\
        python -m firekeeper.integrations.discord_bot

    DISCORD_BOT_TOKEN         the bot's token (Developer Portal > Bot)            required
    DISCORD_ADMIN_CHANNEL_ID  the channel where admins read the bot's notices   for notify/hold
    FIREKEEPER_*              the service (see firekeeper.integrations.settings)

The bot needs the privileged intents Server Members (joins and leaves) and
Message Content (message text), and the permissions Manage Messages, Kick
Members, Ban Members, Moderate Members, Manage Channels and Manage Server
(pausing invites).
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import aiohttp
import discord

from firekeeper.adapters import (
    CallContext,
    DiscordContext,
    MissingContext,
    PayloadError,
    PlatformCall,
    translate_discord,
)
from firekeeper.client import AsyncFirekeeperClient, OutboxItem
from firekeeper.domain import Event, Platform
from firekeeper.integrations.relay import Outcome, Relay, display_names, utcnow
from firekeeper.integrations.settings import ServiceSettings, SettingError, optional, required

log = logging.getLogger("firekeeper.integrations.discord")

TRANSLATED = frozenset(
    {"MESSAGE_CREATE", "MESSAGE_UPDATE", "GUILD_MEMBER_ADD", "GUILD_MEMBER_REMOVE"}
)
REMEMBERED_JOINS = 100_000  # (guild, user) -> joined_at kept to name a leave's membership


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    service: ServiceSettings
    bot_token: str
    admin_channel_id: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DiscordSettings:
        channel = optional(env, "DISCORD_ADMIN_CHANNEL_ID")
        if channel and not channel.isdigit():
            raise SettingError(
                "DISCORD_ADMIN_CHANNEL_ID", f"expected a channel id, got {channel!r}"
            )
        return cls(
            service=ServiceSettings.from_env(env),
            bot_token=required(
                env, "DISCORD_BOT_TOKEN", "the bot's token (Developer Portal > Bot)"
            ),
            admin_channel_id=channel,
        )


def intents() -> discord.Intents:
    """Guilds, messages with their content, and member joins and leaves."""
    chosen = discord.Intents.default()
    chosen.members = True  # privileged: GUILD_MEMBER_ADD / REMOVE
    chosen.message_content = True  # privileged: the text of messages
    return chosen


# ---------------------------------------------------------------- calls -> discord.py


def _reason(call: PlatformCall) -> str | None:
    header = call.headers.get("X-Audit-Log-Reason", "")
    return unquote(header) or None  # discord.py quotes it again


def _allowed_mentions(body: Mapping[str, Any]) -> discord.AllowedMentions:
    wanted = body.get("allowed_mentions") or {"parse": []}
    users = [discord.Object(int(u)) for u in wanted.get("users", ())]
    return discord.AllowedMentions(
        everyone=False, users=users or False, roles=False, replied_user=False
    )


async def _send(client: discord.Client, ids: dict[str, str], call: PlatformCall) -> Any:
    body = call.params
    channel = client.get_partial_messageable(int(ids["channel"]))
    reference = None
    if ref := body.get("message_reference"):
        assert isinstance(ref, Mapping)
        reference = discord.MessageReference(
            message_id=int(ref["message_id"]),
            channel_id=channel.id,
            fail_if_not_exists=bool(ref.get("fail_if_not_exists", False)),
        )
    content, mentions = str(body["content"]), _allowed_mentions(body)
    if reference is None:
        return await channel.send(content, allowed_mentions=mentions)
    return await channel.send(content, allowed_mentions=mentions, reference=reference)


Handler = Callable[[discord.Client, dict[str, str], PlatformCall], Awaitable[Any]]

_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (
        "DELETE",
        re.compile(r"/channels/(?P<channel>\d+)/messages/(?P<message>\d+)"),
        lambda c, i, call: c.http.delete_message(i["channel"], i["message"], reason=_reason(call)),
    ),
    ("POST", re.compile(r"/channels/(?P<channel>\d+)/messages"), _send),
    (
        "PATCH",
        re.compile(r"/guilds/(?P<guild>\d+)/members/(?P<user>\d+)"),
        lambda c, i, call: c.http.edit_member(
            i["guild"], i["user"], reason=_reason(call), **dict(call.params)
        ),
    ),
    (
        "DELETE",
        re.compile(r"/guilds/(?P<guild>\d+)/members/(?P<user>\d+)"),
        lambda c, i, call: c.http.kick(i["user"], i["guild"], reason=_reason(call)),
    ),
    (
        "PUT",
        re.compile(r"/guilds/(?P<guild>\d+)/bans/(?P<user>\d+)"),
        # delete_message_seconds=0: a ban removes no history (the decision deletes what it must)
        lambda c, i, call: c.http.ban(i["user"], i["guild"], 0, reason=_reason(call)),
    ),
    (
        "PATCH",
        re.compile(r"/channels/(?P<channel>\d+)"),
        lambda c, i, call: c.http.edit_channel(
            i["channel"], reason=_reason(call), **dict(call.params)
        ),
    ),
    (
        "PUT",
        re.compile(r"/guilds/(?P<guild>\d+)/incident-actions"),
        lambda c, i, call: c.http.edit_incident_actions(i["guild"], dict(call.params)),  # type: ignore[arg-type]
    ),
]


async def carry_out(client: discord.Client, call: PlatformCall) -> Any:
    """Make one REST call of ``firekeeper.adapters.discord_actions`` through discord.py.

    The one place where the adapter's calls become Discord requests; a route
    this does not know raises ``ValueError``.
    """
    for method, pattern, handler in _ROUTES:
        match = pattern.fullmatch(call.route)
        if call.method == method and match:
            return await handler(client, match.groupdict(), call)
    raise ValueError(f"no discord.py call for {call.method} {call.route}")


def is_permanent(exc: BaseException) -> bool:
    """Discord refused (4xx other than 429: no permission, unknown member): a retry cannot help."""
    if isinstance(exc, discord.DiscordServerError | discord.RateLimited):
        return False
    if isinstance(exc, discord.HTTPException):
        return exc.status != 429
    return not isinstance(exc, aiohttp.ClientError | OSError | TimeoutError)


# ---------------------------------------------------------------- the bot


class FirekeeperBot(discord.Client):
    """A discord.py client that sends every governed dispatch to Firekeeper."""

    def __init__(
        self,
        settings: DiscordSettings,
        firekeeper: AsyncFirekeeperClient | None = None,
        *,
        outbox: bool = True,
        clock: Callable[[], datetime] = utcnow,
        **options: Any,
    ) -> None:
        options.setdefault("intents", intents())
        super().__init__(enable_debug_events=True, **options)
        self.settings = settings
        self.firekeeper = firekeeper if firekeeper is not None else settings.service.client()
        self._outbox = outbox
        self._clock = clock
        self._joined: dict[tuple[str, str], str] = {}  # (guild, user) -> joined_at
        self.outcomes: list[Outcome] = []  # the last few, for tests and debugging

        async def call(platform_call: PlatformCall) -> Any:
            return await carry_out(self, platform_call)

        self.relay = Relay(
            platform=Platform.DISCORD,
            tenant=settings.service.tenant,
            client=self.firekeeper,
            carry_out=call,
            event_context=self._event_context,
            item_context=self._item_context,
            is_permanent=is_permanent,
            clock=clock,
        )

    def _context(self, guild: str, channel: str, now: datetime) -> CallContext:
        return CallContext(
            chat_id=guild, channel_id=channel, now=now, admin_chat_id=self.settings.admin_channel_id
        )

    def _event_context(self, event: Event, now: datetime) -> CallContext:
        ctx = self._context(event.envelope.chat_id, event.envelope.channel_id, now)
        return CallContext(
            chat_id=ctx.chat_id,
            channel_id=ctx.channel_id,
            now=now,
            event_kind=event.kind,
            admin_chat_id=ctx.admin_chat_id,
            display_names=display_names(event),
        )

    def _item_context(self, item: OutboxItem, now: datetime) -> CallContext:
        return self._context(item.action.chat_id or item.chat.chat_id, item.action.channel_id, now)

    async def setup_hook(self) -> None:
        if self._outbox:
            self.loop.create_task(self.relay.run_outbox(), name="firekeeper-outbox")

    async def close(self) -> None:
        await super().close()
        await self.firekeeper.close()

    def translation_context(self, dispatch: Mapping[str, Any]) -> DiscordContext:
        data = dispatch.get("d") if isinstance(dispatch.get("d"), dict) else {}
        assert isinstance(data, dict)
        guild = str(data.get("guild_id", ""))
        user = (
            str((data.get("user") or {}).get("id", ""))
            if isinstance(data.get("user"), dict)
            else ""
        )
        session = self.ws.session_id if self.ws is not None and self.ws.session_id else ""
        return DiscordContext(
            tenant=self.settings.service.tenant,
            received_at=self._clock(),
            member_joined_at=self._joined.get((guild, user), ""),
            session_id=session or "",
        )

    def _remember(self, dispatch: Mapping[str, Any]) -> None:
        data = dispatch.get("d")
        if not isinstance(data, dict) or not isinstance(data.get("user"), dict):
            return
        key = (str(data.get("guild_id", "")), str(data["user"].get("id", "")))
        if dispatch.get("t") == "GUILD_MEMBER_ADD" and data.get("joined_at"):
            self._joined[key] = str(data["joined_at"])
            while len(self._joined) > REMEMBERED_JOINS:
                self._joined.pop(next(iter(self._joined)))
        elif dispatch.get("t") == "GUILD_MEMBER_REMOVE":
            self._joined.pop(key, None)

    async def handle_dispatch(self, dispatch: Mapping[str, Any]) -> Outcome | None:
        """One gateway dispatch: translate, decide, carry out; None when it is not governed."""
        if dispatch.get("op") != 0 or dispatch.get("t") not in TRANSLATED:
            return None
        context = self.translation_context(dispatch)
        self._remember(dispatch)
        try:
            translation = translate_discord(dispatch, context)
        except (PayloadError, MissingContext) as exc:
            log.warning(
                "dispatch not translated", extra={"type": dispatch.get("t"), "why": str(exc)}
            )
            return None
        outcome = await self.relay.handle(translation)
        self.outcomes = [*self.outcomes[-99:], outcome]
        return outcome

    async def on_socket_raw_receive(self, msg: str | bytes) -> None:
        """discord.py's raw hook: every gateway message, as received (needs enable_debug_events)."""
        try:
            dispatch = json.loads(msg)
        except ValueError:
            return
        if isinstance(dispatch, dict):
            await self.handle_dispatch(dispatch)


def main(env: Mapping[str, str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO)
    try:
        settings = DiscordSettings.from_env(os.environ if env is None else env)
    except SettingError as exc:
        print(f"firekeeper discord: {exc}", file=sys.stderr)
        return 2
    FirekeeperBot(settings).run(settings.bot_token, log_handler=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
