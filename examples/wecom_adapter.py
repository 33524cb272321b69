#!/usr/bin/env python3
"""Example WeCom (企业微信) adapter: callbacks and archive records in, API calls printed.

Reads decrypted change_external_chat callbacks (an XML file, or a JSON object
of named XML strings like tests/adapters/samples/wecom_callbacks.json) and
message-archive (会话存档) records (JSON lines, one record a line), translates
each with firekeeper.adapters (translate_wecom_callback / translate_wecom_archive),
asks a running Firekeeper for a decision on every event, and prints the calls
(/cgi-bin/message/send, /cgi-bin/externalcontact/add_msg_template, ...)
instead of sending them. Callbacks also print their member-list versions and
whether they arrived in order.

    firekeeper serve                                   # in another terminal
    python examples/wecom_adapter.py examples/payloads/wecom_add_member.xml \\
        --register goal --member-count 49 --admin-user zhangsan --agent-id 1000002
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from adapter_loop import Spec, as_object, call_time, names_in, pairs, parser, run

from firekeeper.adapters import (
    CallContext,
    Translation,
    WeComContext,
    translate_wecom_archive,
    translate_wecom_callback,
)
from firekeeper.domain import Event, Platform


def main(argv: Sequence[str] | None = None) -> int:
    p = parser(__doc__, "callback XML, or archive records as JSON lines")
    p.add_argument(
        "--admin-user",
        action="append",
        default=[],
        metavar="USERID",
        help="a staff member told through the app (message/send) (repeatable)",
    )
    p.add_argument("--agent-id", type=int, help="the app's agentid, for message/send")
    p.add_argument(
        "--sender",
        default="",
        metavar="USERID",
        help="the staff member who confirms group messages",
    )
    p.add_argument(
        "--join-way-config",
        action="append",
        default=[],
        metavar="CONFIG_ID",
        help="a join-way config of the group, for pause_invites (repeatable)",
    )
    p.add_argument("--chat-title", default="", help="the group's name (groupchat/get)")
    p.add_argument("--chat-notice", default="", help="the group's notice (groupchat/get)")
    p.add_argument("--platform-member-count", type=int, help="len(member_list) from groupchat/get")
    p.add_argument(
        "--inviter",
        action="append",
        default=[],
        metavar="MEMBER=INVITER",
        help="who invited a member (groupchat/get invitor.userid) (repeatable)",
    )
    args = p.parse_args(argv)
    context = WeComContext(
        tenant=args.tenant,
        chat_title=args.chat_title,
        chat_notice=args.chat_notice,
        member_count=args.platform_member_count,
        inviters=pairs(args.inviter, "--inviter"),
    )

    def translate(body: object) -> Translation:
        if isinstance(body, str):
            return translate_wecom_callback(body, context)
        return translate_wecom_archive(as_object(body, "record"), context)

    def call_context(event: Event) -> CallContext:
        return CallContext(
            chat_id=event.envelope.chat_id,
            now=call_time(args, event),
            event_kind=event.kind,
            admin_user_ids=tuple(args.admin_user),
            agent_id=args.agent_id,
            sender_user_id=args.sender,
            join_way_config_ids=tuple(args.join_way_config),
            display_names=names_in(event),
        )

    def is_payload(value: object) -> bool:
        return isinstance(value, str) or (isinstance(value, dict) and "msgid" in value)

    spec = Spec(Platform.WECOM, is_payload, translate, call_context)
    return run(spec, args)


if __name__ == "__main__":
    sys.exit(main())
