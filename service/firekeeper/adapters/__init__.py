"""Reference translators between platform payloads and Firekeeper's normalized model.

Pure functions, no I/O: a native payload in, a :class:`Translation` out; a
decision in, :class:`PlatformCall` values (data) out. An adapter process (a
bot) does the network calls around them. ``docs/adapters.md`` has the mapping
tables, what each platform cannot provide, the event-id scheme and ordering
caveats.

    translate_telegram(update, TelegramContext(tenant=...))
    translate_discord(dispatch, DiscordContext(tenant=...))
    translate_wecom_callback(xml, WeComContext(tenant=...))
    translate_wecom_archive(record, WeComContext(tenant=...))
    calls_for(platform, decision, CallContext(chat_id=..., now=...))
"""

from firekeeper.adapters.actions import MAPPERS, calls_for, calls_for_action
from firekeeper.adapters.base import (
    NO_CALL,
    MissingContext,
    PayloadError,
    PlatformCall,
    SequenceHint,
    Skipped,
    Translation,
    UnmappableAction,
)
from firekeeper.adapters.calls import CallContext
from firekeeper.adapters.discord import (
    DiscordContext,
    DiscordInvite,
    InviteUse,
    discord_invite,
    snowflake_time,
    translate_discord,
)
from firekeeper.adapters.telegram import MembershipSource, TelegramContext, translate_telegram
from firekeeper.adapters.wecom import WeComContext, translate_wecom_callback
from firekeeper.adapters.wecom_archive import translate_wecom_archive

__all__ = [
    "MAPPERS",
    "NO_CALL",
    "CallContext",
    "DiscordContext",
    "DiscordInvite",
    "InviteUse",
    "MembershipSource",
    "MissingContext",
    "PayloadError",
    "PlatformCall",
    "SequenceHint",
    "Skipped",
    "TelegramContext",
    "Translation",
    "UnmappableAction",
    "WeComContext",
    "calls_for",
    "calls_for_action",
    "discord_invite",
    "snowflake_time",
    "translate_discord",
    "translate_telegram",
    "translate_wecom_archive",
    "translate_wecom_callback",
]
