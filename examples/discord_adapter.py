#!/usr/bin/env python3
"""Example Discord adapter: gateway dispatches in, the REST calls it would make printed.

Reads gateway dispatches ({"op": 0, "t": ..., "s": ..., "d": ...}) or bare
bodies with --event-type (a JSON file, JSON lines, a named collection like
tests/adapters/samples/discord_gateway_dispatches.json, or stdin), translates
each with firekeeper.adapters.translate_discord, asks a running Firekeeper for a
decision on every event, and prints the calls (DELETE /guilds/{g}/members/{u},
PATCH /guilds/{g}/members/{u}, POST /channels/{c}/messages, ...) instead of
sending them.

    firekeeper serve                                   # in another terminal
    python examples/discord_adapter.py examples/payloads/discord_dispatches.jsonl \\
        --register goal --member-count 49 --admin-channel 555000000000000001
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from adapter_loop import Spec, as_object, call_time, names_in, parse_time, parser, run

from firekeeper.adapters import CallContext, DiscordContext, Translation, translate_discord
from firekeeper.domain import Event, LeaveReason, Platform


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(__doc__, "gateway dispatches")
    p.add_argument(
        "--admin-channel",
        default="",
        metavar="CHANNEL_ID",
        help="the channel where admins read the bot's notices (needed for notify/hold actions)",
    )
    p.add_argument("--guild-id", default="", help="the guild of payloads that carry no guild_id")
    p.add_argument(
        "--event-type",
        default="",
        metavar="TYPE",
        help="the dispatch type of bare bodies (MESSAGE_CREATE, GUILD_MEMBER_ADD, ...)",
    )
    p.add_argument(
        "--received-at",
        metavar="ISO",
        help="when GUILD_MEMBER_REMOVE was received (Discord sends no time); default --now,"
        " else the current time",
    )
    p.add_argument("--session-id", default="", help="gateway session id: leave ids without a join")
    p.add_argument(
        "--member-joined-at",
        default="",
        metavar="ISO",
        help="joined_at of the membership a GUILD_MEMBER_REMOVE ends (from a member cache)",
    )
    p.add_argument(
        "--leave-reason",
        choices=[r.value for r in LeaveReason],
        default=LeaveReason.UNKNOWN.value,
        help="what a GUILD_MEMBER_REMOVE was, when the adapter knows better than Discord",
    )
    args = p.parse_args(argv)
    if args.received_at:
        received = parse_time(args.received_at, "--received-at")
    elif args.now:
        received = parse_time(args.now, "--now")
    else:
        received = datetime.now(UTC)
    context = DiscordContext(
        tenant=args.tenant,
        guild_id=args.guild_id,
        received_at=received,
        member_joined_at=args.member_joined_at,
        session_id=args.session_id,
        leave_reason=LeaveReason(args.leave_reason),
    )

    def translate(body: object) -> Translation:
        return translate_discord(as_object(body, "dispatch"), context, args.event_type)

    def call_context(event: Event) -> CallContext:
        return CallContext(
            chat_id=event.envelope.chat_id,
            channel_id=event.envelope.channel_id,
            now=call_time(args, event),
            event_kind=event.kind,
            admin_chat_id=args.admin_channel,
            display_names=names_in(event),
        )

    def is_payload(value: object) -> bool:
        if not isinstance(value, dict):
            return False
        return "op" in value or "t" in value or (bool(args.event_type) and "id" in value)

    spec = Spec(Platform.DISCORD, is_payload, translate, call_context)
    return run(spec, args)


if __name__ == "__main__":
    sys.exit(main())
