"""The field vocabulary a rule's ``when`` condition may use.

Each field has a type, the event kinds it is available on (``None``: all), and
a one-line description that ``rulesets/README.md`` repeats. The fact builder
(``service.rules.facts``) fills exactly these paths; the compiler rejects any
other path with a "did you mean" hint.

Types:
- ``int`` / ``number``: numeric comparisons ``== != < <= > >=``, ``in [..]``
- ``duration``: a number of seconds; compare with literals like ``14d``, ``6h``, ``30m``, ``45s``
- ``bool``: ``== true``/``false``, or the bare field as a condition
- ``string``: a short identifier-like value: ``==``, ``!=``, ``in [..]``
- ``text``: free text typed by people; only ``contains`` and ``matches``
  (computed with RE2 before the engine; never sent to the engine)
- ``list``: a list of short strings; ``contains "x"`` (membership) and
  ``contains any [..]``

A field whose value the platform did not give (``actor.account_age`` on
Discord, say) is absent from the fact: every comparison on it is false, and
``known(field)`` tests for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from service.domain.events import EventKind

_MSG = frozenset({EventKind.MESSAGE_POSTED})
_JOIN = frozenset({EventKind.MEMBER_JOINED})
_REQ = frozenset({EventKind.JOIN_REQUESTED})
_JOINISH = frozenset({EventKind.MEMBER_JOINED, EventKind.JOIN_REQUESTED})
_SUBJECT = frozenset(
    {
        EventKind.MEMBER_JOINED,
        EventKind.JOIN_REQUESTED,
        EventKind.MEMBER_LEFT,
        EventKind.ROLE_CHANGED,
    }
)
_LEFT = frozenset({EventKind.MEMBER_LEFT})
_UPD = frozenset({EventKind.CHAT_UPDATED})
_ROLE = frozenset({EventKind.ROLE_CHANGED})

TYPES = ("int", "number", "duration", "bool", "string", "text", "list")


@dataclass(frozen=True, slots=True)
class Field:
    path: str
    type: str
    doc: str
    on: frozenset[EventKind] | None = None  # None: every event kind


def _person(prefix: str, who: str, on: frozenset[EventKind] | None) -> list[Field]:
    return [
        Field(f"{prefix}.id", "string", f"platform user id of {who}", on),
        Field(f"{prefix}.display_name", "text", f"display name of {who}", on),
        Field(f"{prefix}.is_bot", "bool", f"{who} is a bot account", on),
        Field(
            f"{prefix}.role",
            "string",
            f"role of {who} in the chat: member, admin, owner, restricted",
            on,
        ),
        Field(f"{prefix}.is_admin", "bool", f"{who} is an admin or the owner", on),
        Field(f"{prefix}.is_owner", "bool", f"{who} is the chat's owner", on),
        Field(
            f"{prefix}.account_age",
            "duration",
            f"age of {who}'s platform account (absent when the platform does not tell)",
            on,
        ),
        Field(
            f"{prefix}.is_member",
            "bool",
            f"{who} is currently a member of the chat, as the store knows",
            on,
        ),
        Field(
            f"{prefix}.tenure",
            "duration",
            f"time since {who} last joined the chat (absent when unknown)",
            on,
        ),
        Field(f"{prefix}.message_count", "int", f"messages {who} has posted in the chat", on),
        Field(f"{prefix}.invited_count", "int", f"members {who} has invited into the chat", on),
    ]


# fmt: off
# (a table: one field a line reads best)
FIELDS: tuple[Field, ...] = (
    # the event itself
    Field(
        "event.kind",
        "string",
        "the event kind: message.posted, member.joined, join.requested, member.left, chat.updated, role.changed",
    ),
    Field("event.platform", "string", "telegram, discord, wecom, slack, matrix, other"),
    Field(
        "event.channel_id",
        "string",
        "channel or forum topic the event happened in (empty when none)",
    ),
    Field("event.in_thread", "bool", "the event happened in a reply thread"),
    # the chat
    Field(
        "chat.kind",
        "string",
        "the chat's declared kind: work, hobby, growth, family, entertainment, goal, or unspecified",
    ),
    Field("chat.member_count", "int", "members before this event, as the store counts them"),
    Field(
        "chat.size_tier",
        "string",
        "small (< 50 members), middle (50-200) or large (> 200), from chat.member_count",
    ),
    Field(
        "chat.age",
        "duration",
        "time since the chat was created (absent when the creation time is unknown)",
    ),
    Field("chat.message_count", "int", "messages seen in the chat before this event"),
    Field("chat.title", "text", "the chat's title"),
    Field(
        "chat.platform_member_count",
        "int",
        "the member count the platform reported in this update (absent when not given)",
        _UPD,
    ),
    Field(
        "chat.member_count_drift",
        "int",
        "platform_member_count minus the stored count (absent when not given)",
        _UPD,
    ),
    Field(
        "chat.member_count_off_by",
        "int",
        "how far the platform's count is from the stored one, either way (absent when not given)",
        _UPD,
    ),
    Field("chat.announcement_text", "text", "the chat's announcement text in this update", _UPD),
    Field("chat.title_changed", "bool", "this update changed the title", _UPD),
    Field("chat.announcement_changed", "bool", "this update changed the announcement", _UPD),
    # who acted (the envelope's actor)
    *_person("actor", "the actor", None),
    # the member the event is about (joined, requested, left, role changed)
    *_person("member", "the member the event is about", _SUBJECT),
    # who invited them
    Field("inviter.known", "bool", "the platform said who invited the member", _JOINISH),
    *_person("inviter", "the inviter", _JOINISH),
    # joins
    Field(
        "join.method",
        "string",
        "invite_link, added_by_member, join_request, qr_code, self or unknown",
        _JOIN,
    ),
    Field(
        "join.resulting_count", "int", "members the chat would have if this join is admitted", _JOIN
    ),
    Field("join.is_rejoin", "bool", "the member was in the chat before", _JOIN),
    Field("join.has_invite_link", "bool", "the platform named the invite link used", _JOINISH),
    # join requests
    Field(
        "request.answers", "text", "the answers to the entry questions, joined by new lines", _REQ
    ),
    Field("request.answer_count", "int", "how many entry questions were answered", _REQ),
    Field("request.bio", "text", "the profile bio sent with the request", _REQ),
    # leaves
    Field(
        "leave.reason",
        "string",
        "left, removed, banned or unknown (Discord cannot tell a leave from a kick)",
        _LEFT,
    ),
    Field("leave.by_admin", "bool", "an admin removed or banned the member", _LEFT),
    # role changes
    Field("role.old", "string", "the member's role before", _ROLE),
    Field("role.new", "string", "the member's role after", _ROLE),
    # messages
    Field("message.text", "text", "the message text or caption", _MSG),
    Field("message.length", "int", "characters in the text", _MSG),
    Field("message.line_count", "int", "lines in the text", _MSG),
    Field("message.link_count", "int", "distinct links in the text and entities", _MSG),
    Field(
        "message.domains",
        "list",
        "registered domains of the links, lower case (e.g. t.me, example.com)",
        _MSG,
    ),
    Field("message.mention_count", "int", "users mentioned", _MSG),
    Field("message.mentions_everyone", "bool", "the message mentions @everyone / @all", _MSG),
    Field("message.attachment_count", "int", "attachments of any kind", _MSG),
    Field(
        "message.attachment_kinds",
        "list",
        "kinds of the attachments: image, video, file, link_card, mini_program, contact_card, qr_code, ...",
        _MSG,
    ),
    Field("message.is_reply", "bool", "the message replies to another", _MSG),
    Field("message.is_forward", "bool", "the message is forwarded", _MSG),
    Field("message.is_announcement", "bool", "posted as the chat's announcement", _MSG),
    Field("message.is_pinned_notice", "bool", "a pinned notice", _MSG),
    Field("message.is_edit", "bool", "an edit of an earlier message", _MSG),
    # --- invite screening and monetization timing
    # --- topic boundaries, lifecycle and announcements
    # --- policy-author tools
)
# fmt: on

BY_PATH: dict[str, Field] = {f.path: f for f in FIELDS}

# Prefix under which ruleset parameters appear: ``params.hard_cap``. Their
# types come from the ruleset's own parameter declarations.
PARAMS_PREFIX = "params."


def lookup(path: str) -> Field | None:
    return BY_PATH.get(path)
