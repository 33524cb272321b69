#!/usr/bin/env python3
"""Example Telegram adapter: Bot API updates in, the Bot API calls it would make printed.

Reads Update objects (a JSON file, JSON lines, a named collection like
tests/adapters/samples/telegram_updates.json, or stdin), translates each with
firekeeper.adapters.translate_telegram, asks a running Firekeeper for a decision
on every event, and prints the calls (deleteMessage, banChatMember,
declineChatJoinRequest, sendMessage, ...) instead of sending them.

    firekeeper serve                                   # in another terminal
    python examples/telegram_adapter.py examples/payloads/telegram_updates.jsonl \\
        --register goal --member-count 49 --admin-chat -1009999999
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from adapter_loop import Spec, as_object, call_time, names_in, parser, run

from firekeeper.adapters import (
    CallContext,
    MembershipSource,
    TelegramContext,
    Translation,
    translate_telegram,
)
from firekeeper.domain import Event, Platform


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(__doc__, "Bot API Update objects")
    p.add_argument(
        "--admin-chat",
        default="",
        metavar="CHAT_ID",
        help="the chat where admins read the bot's notices (needed for notify/hold actions)",
    )
    p.add_argument(
        "--membership-source",
        choices=[m.value for m in MembershipSource],
        default=MembershipSource.SERVICE_MESSAGES.value,
        help="which of Telegram's two reports of a join or leave becomes the event",
    )
    p.add_argument(
        "--invite-link",
        action="append",
        default=[],
        metavar="URL",
        help="an invite link the bot manages, for pause_invites (repeatable)",
    )
    args = p.parse_args(argv)
    context = TelegramContext(args.tenant, MembershipSource(args.membership_source))

    def translate(body: object) -> Translation:
        return translate_telegram(as_object(body, "update"), context)

    def call_context(event: Event) -> CallContext:
        return CallContext(
            chat_id=event.envelope.chat_id,
            channel_id=event.envelope.channel_id,
            now=call_time(args, event),
            event_kind=event.kind,
            admin_chat_id=args.admin_chat,
            invite_links=tuple(args.invite_link),
            display_names=names_in(event),
        )

    spec = Spec(
        platform=Platform.TELEGRAM,
        is_payload=lambda value: isinstance(value, dict) and "update_id" in value,
        translate=translate,
        call_context=call_context,
    )
    return run(spec, args)


if __name__ == "__main__":
    sys.exit(main())
