"""A Telegram bot on python-telegram-bot that governs its groups with Firekeeper.

    Update --Update.to_dict()--> translate_telegram --> events --evaluate--> decision
        --calls_for_action--> PlatformCall --carry_out--> Bot.delete_message, Bot.ban_chat_member…
    outbox stream (scheduler ticks) --> the same calls, acknowledged once made

``build_application(settings)`` returns a ``telegram.ext.Application`` with one
handler for every update, and the outbox stream running while the application
runs. ``carry_out`` is the one place Bot API calls are made.

Run it (``pip install "firekeeper[telegram]"``)::

    TELEGRAM_BOT_TOKEN=123:abc FIREKEEPER_TENANT=acme TELEGRAM_ADMIN_CHAT_ID=-1009999999 \\
        python -m firekeeper.integrations.telegram_bot

    TELEGRAM_BOT_TOKEN          the bot's token (from @BotFather)                  required
    TELEGRAM_ADMIN_CHAT_ID      the chat where admins read the bot's notices     for notify/hold
    TELEGRAM_MEMBERSHIP_SOURCE  service_messages (default) or chat_member
    TELEGRAM_INVITE_LINKS       invite links the bot manages, comma-separated (pause_invites)
    FIREKEEPER_*                the service (see firekeeper.integrations.settings)

The bot must be an admin of each group with the rights its actions need
(delete messages, ban users, invite users via link).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any

from telegram import Bot, ChatPermissions, MessageEntity, ReplyParameters, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.request import BaseRequest

from firekeeper.adapters import (
    CallContext,
    MembershipSource,
    PlatformCall,
    TelegramContext,
    translate_telegram,
)
from firekeeper.client import AsyncFirekeeperClient, OutboxItem
from firekeeper.domain import Event, Platform
from firekeeper.integrations.relay import Outcome, Relay, display_names
from firekeeper.integrations.settings import (
    ServiceSettings,
    SettingError,
    listed,
    optional,
    required,
)

log = logging.getLogger("firekeeper.integrations.telegram")

ALLOWED_UPDATES = ("message", "edited_message", "chat_member", "chat_join_request")


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    service: ServiceSettings
    bot_token: str
    admin_chat_id: str = ""
    membership_source: MembershipSource = MembershipSource.SERVICE_MESSAGES
    invite_links: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TelegramSettings:
        source = optional(env, "TELEGRAM_MEMBERSHIP_SOURCE", MembershipSource.SERVICE_MESSAGES)
        try:
            membership = MembershipSource(source)
        except ValueError:
            known = ", ".join(m.value for m in MembershipSource)
            raise SettingError(
                "TELEGRAM_MEMBERSHIP_SOURCE", f"one of {known}, not {source!r}"
            ) from None
        return cls(
            service=ServiceSettings.from_env(env),
            bot_token=required(env, "TELEGRAM_BOT_TOKEN", "the bot's token from @BotFather"),
            admin_chat_id=optional(env, "TELEGRAM_ADMIN_CHAT_ID"),
            membership_source=membership,
            invite_links=listed(env, "TELEGRAM_INVITE_LINKS"),
        )


# ---------------------------------------------------------------- calls -> Bot methods


async def carry_out(bot: Bot, call: PlatformCall) -> Any:
    """Make one Bot API call of ``firekeeper.adapters.telegram_actions`` with ``bot``'s method.

    The one place where the adapter's calls become Telegram requests; a method
    this does not know raises ``ValueError``.
    """
    p: dict[str, Any] = dict(call.params)
    chat: int | str = p["chat_id"]
    method = call.method
    if method == "deleteMessage":
        return await bot.delete_message(chat, p["message_id"])
    if method == "banChatMember":
        return await bot.ban_chat_member(chat, p["user_id"], until_date=p.get("until_date"))
    if method == "unbanChatMember":
        return await bot.unban_chat_member(
            chat, p["user_id"], only_if_banned=p.get("only_if_banned")
        )
    if method == "restrictChatMember":
        return await bot.restrict_chat_member(
            chat,
            p["user_id"],
            ChatPermissions(**p["permissions"]),
            until_date=p.get("until_date"),
            use_independent_chat_permissions=p.get("use_independent_chat_permissions"),
        )
    if method == "approveChatJoinRequest":
        return await bot.approve_chat_join_request(chat, p["user_id"])
    if method == "declineChatJoinRequest":
        return await bot.decline_chat_join_request(chat, p["user_id"])
    if method == "editChatInviteLink":
        return await bot.edit_chat_invite_link(
            chat, p["invite_link"], creates_join_request=p.get("creates_join_request")
        )
    if method == "sendMessage":
        entities = [MessageEntity(**e) for e in p.get("entities", ())]
        reply = p.get("reply_parameters")
        return await bot.send_message(
            chat,
            p["text"],
            entities=entities or None,
            reply_parameters=ReplyParameters(**reply) if reply else None,
            message_thread_id=p.get("message_thread_id"),
        )
    raise ValueError(f"no Bot method for {method!r}")


def is_permanent(exc: BaseException) -> bool:
    """Telegram said no (bad request, no rights, migrated chat): a retry cannot help.

    Timeouts, rate limits and network failures are transient: an outbox item is
    then left unacknowledged and comes again.
    """
    if isinstance(exc, RetryAfter | TimedOut):
        return False
    if isinstance(exc, BadRequest | Forbidden | ChatMigrated | InvalidToken):
        return True
    return not isinstance(exc, NetworkError | OSError)


# ---------------------------------------------------------------- the bot


PRIVATE_CHATS_KEPT = 100_000  # users who wrote to the bot, remembered (oldest forgotten first)


class TelegramAdapter:
    """Translates each update, asks Firekeeper, and carries out its decision with ``bot``.

    A bot may write privately only to users who started a private chat with it:
    those it saw are remembered in memory (``private_chats``, at most
    :data:`PRIVATE_CHATS_KEPT`, lost on restart), so a ``message_user`` reaches
    them privately; anyone else's goes to the admins' chat (docs/adapters.md).
    """

    def __init__(self, settings: TelegramSettings, bot: Bot, client: AsyncFirekeeperClient) -> None:
        self.settings = settings
        self.translation = TelegramContext(settings.service.tenant, settings.membership_source)
        self.private_chats: dict[str, str] = {}

        async def call(platform_call: PlatformCall) -> Any:
            return await carry_out(bot, platform_call)

        self.relay = Relay(
            platform=Platform.TELEGRAM,
            tenant=settings.service.tenant,
            client=client,
            carry_out=call,
            event_context=self._event_context,
            item_context=self._item_context,
            is_permanent=is_permanent,
        )

    def _context(self, chat_id: str, channel_id: str, now: datetime) -> CallContext:
        return CallContext(
            chat_id=chat_id,
            channel_id=channel_id,
            now=now,
            admin_chat_id=self.settings.admin_chat_id,
            invite_links=self.settings.invite_links,
            private_chats=MappingProxyType(self.private_chats),
        )

    def _event_context(self, event: Event, now: datetime) -> CallContext:
        base = self._context(event.envelope.chat_id, event.envelope.channel_id, now)
        return replace(base, event_kind=event.kind, display_names=display_names(event))

    def _item_context(self, item: OutboxItem, now: datetime) -> CallContext:
        chat = item.action.chat_id or item.chat.chat_id
        return self._context(chat, item.action.channel_id, now)

    def remember_private_chat(self, update: Update) -> None:
        """A person writing to the bot in private can be written to there."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None or chat.type != "private" or user.is_bot:
            return
        key = str(user.id)
        self.private_chats.pop(key, None)  # most recent last
        self.private_chats[key] = str(chat.id)
        if len(self.private_chats) > PRIVATE_CHATS_KEPT:
            del self.private_chats[next(iter(self.private_chats))]

    async def handle(self, update: Update) -> Outcome:
        """One update: translate its Bot API form, decide, carry out."""
        self.remember_private_chat(update)
        translation = translate_telegram(update.to_dict(), self.translation)
        return await self.relay.handle(translation)

    async def on_update(self, update: object, _: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            await self.handle(update)


def build_application(
    settings: TelegramSettings,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    client: AsyncFirekeeperClient | None = None,
    outbox: bool = True,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The PTB application: every update to the adapter, the outbox streamed while it runs.

    ``request`` / ``get_updates_request`` replace PTB's HTTP layer (tests pass a
    recording one); ``client`` replaces the Firekeeper client built from settings.
    """
    builder = ApplicationBuilder().token(settings.bot_token)
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    application = builder.build()
    firekeeper = client if client is not None else settings.service.client()
    adapter = TelegramAdapter(settings, application.bot, firekeeper)
    application.bot_data["firekeeper"] = adapter
    application.add_handler(TypeHandler(Update, adapter.on_update))
    streaming: list[asyncio.Task[None]] = []

    async def start_outbox(_: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if outbox:
            streaming.append(asyncio.create_task(adapter.relay.run_outbox(), name="outbox"))

    async def stop_outbox(_: Application[Any, Any, Any, Any, Any, Any]) -> None:
        for task in streaming:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await firekeeper.close()

    application.post_init = start_outbox
    application.post_shutdown = stop_outbox
    return application


def main(env: Mapping[str, str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO)
    try:
        settings = TelegramSettings.from_env(os.environ if env is None else env)
    except SettingError as exc:
        print(f"firekeeper telegram: {exc}", file=sys.stderr)
        return 2
    application = build_application(settings)
    application.run_polling(allowed_updates=list(ALLOWED_UPDATES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
