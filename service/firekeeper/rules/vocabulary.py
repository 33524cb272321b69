"""The field vocabulary a rule's ``when`` condition may use.

Each field has a type, the event kinds it is available on (``None``: all), and
a one-line description that ``rulesets/README.md`` repeats. This module declares
the core's fields (:data:`CORE`), those the fact builder (``firekeeper.rules.facts``)
fills; each governance area declares the fields its stage adds in its own
``pure/vocabulary.py``, and ``firekeeper.area_registry.VOCABULARY`` assembles them
all. The compiler is handed a :class:`Vocabulary` and rejects any other path with a
"did you mean" hint.

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

from collections.abc import Iterable
from dataclasses import dataclass

from firekeeper.domain.events import EventKind

MSG = frozenset({EventKind.MESSAGE_POSTED})
JOIN = frozenset({EventKind.MEMBER_JOINED})
REQ = frozenset({EventKind.JOIN_REQUESTED})
JOINISH = frozenset({EventKind.MEMBER_JOINED, EventKind.JOIN_REQUESTED})
SUBJECT = frozenset(
    {
        EventKind.MEMBER_JOINED,
        EventKind.JOIN_REQUESTED,
        EventKind.MEMBER_LEFT,
        EventKind.ROLE_CHANGED,
    }
)
LEFT = frozenset({EventKind.MEMBER_LEFT})
UPD = frozenset({EventKind.CHAT_UPDATED})
ROLE = frozenset({EventKind.ROLE_CHANGED})
TICK = frozenset({EventKind.CHAT_TICK})
MSG_TICK = MSG | TICK
NOTICE = MSG | UPD

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
CORE_FIELDS: tuple[Field, ...] = (
    # the event itself
    Field(
        "event.kind",
        "string",
        "the event kind: message.posted, member.joined, join.requested, member.left, chat.updated, role.changed, chat.tick",
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
        UPD,
    ),
    Field(
        "chat.member_count_drift",
        "int",
        "platform_member_count minus the stored count (absent when not given)",
        UPD,
    ),
    Field(
        "chat.member_count_off_by",
        "int",
        "how far the platform's count is from the stored one, either way (absent when not given)",
        UPD,
    ),
    Field("chat.announcement_text", "text", "the chat's announcement text in this update", UPD),
    Field("chat.title_changed", "bool", "this update changed the title", UPD),
    Field("chat.announcement_changed", "bool", "this update changed the announcement", UPD),
    # who acted (the envelope's actor)
    *_person("actor", "the actor", None),
    # the member the event is about (joined, requested, left, role changed)
    *_person("member", "the member the event is about", SUBJECT),
    # who invited them
    Field("inviter.known", "bool", "the platform said who invited the member", JOINISH),
    *_person("inviter", "the inviter", JOINISH),
    # joins
    Field(
        "join.method",
        "string",
        "invite_link, added_by_member, join_request, qr_code, self or unknown",
        JOIN,
    ),
    Field(
        "join.resulting_count", "int", "members the chat would have if this join is admitted", JOIN
    ),
    Field("join.is_rejoin", "bool", "the member was in the chat before", JOIN),
    Field("join.has_invite_link", "bool", "the platform named the invite link used", JOINISH),
    # join requests
    Field(
        "request.answers", "text", "the answers to the entry questions, joined by new lines", REQ
    ),
    Field("request.answer_count", "int", "how many entry questions were answered", REQ),
    Field("request.bio", "text", "the profile bio sent with the request", REQ),
    # leaves
    Field(
        "leave.reason",
        "string",
        "left, removed, banned or unknown (Discord cannot tell a leave from a kick)",
        LEFT,
    ),
    Field("leave.by_admin", "bool", "an admin removed or banned the member", LEFT),
    # role changes
    Field("role.old", "string", "the member's role before", ROLE),
    Field("role.new", "string", "the member's role after", ROLE),
    # messages
    Field("message.text", "text", "the message text or caption", MSG),
    Field("message.length", "int", "characters in the text", MSG),
    Field("message.line_count", "int", "lines in the text", MSG),
    Field("message.link_count", "int", "distinct links in the text and entities", MSG),
    Field(
        "message.domains",
        "list",
        "registered domains of the links, lower case (e.g. t.me, example.com)",
        MSG,
    ),
    Field("message.mention_count", "int", "users mentioned", MSG),
    Field("message.mentions_everyone", "bool", "the message mentions @everyone / @all", MSG),
    Field("message.attachment_count", "int", "attachments of any kind", MSG),
    Field(
        "message.attachment_kinds",
        "list",
        "kinds of the attachments: image, video, file, link_card, mini_program, contact_card, qr_code, ...",
        MSG,
    ),
    Field("message.is_reply", "bool", "the message replies to another", MSG),
    Field("message.is_forward", "bool", "the message is forwarded", MSG),
    Field("message.is_announcement", "bool", "posted as the chat's announcement", MSG),
    Field("message.is_pinned_notice", "bool", "a pinned notice", MSG),
    Field("message.is_edit", "bool", "an edit of an earlier message", MSG),
    # --- languages (firekeeper.rules.language)
    Field("chat.language", "string", "the language the chat's texts are written in: one of the ruleset's `languages` (declared at registration, else detected from the messages, else the ruleset's first)"),
    Field("chat.theme_name", "text", "the chat's theme in words for people, in the chat's language: its title quoted (「周末钓鱼」, \"Weekend fishing\"), else \"what this group is about\" / 本群的主题"),
    # --- the learned spam signal (firekeeper.rules.spam_model; docs/screening.md)
    Field("message.spam_score", "number", "0 to 1: how likely the learned classifier (character n-grams, firekeeper train) finds the text spam or an ad (absent when no model is loaded)", MSG),
)
# fmt: on

# Prefix under which ruleset parameters appear: ``params.hard_cap``. Their
# types come from the ruleset's own parameter declarations.
PARAMS_PREFIX = "params."


@dataclass(frozen=True, slots=True, eq=False)
class Vocabulary:
    """The fields rules may read: the core's, then each area's (an immutable value).

    The core defines its own (:data:`CORE`); each governance area declares the fields
    its stage adds in its ``pure/vocabulary.py``, and ``firekeeper.area_registry``
    assembles them once (``VOCABULARY``), which the service and the tools compile
    rulesets against (``firekeeper.rulesets_dir``). A compiled ruleset keeps the one it
    was checked against (the explanation reads its types)."""

    fields: tuple[Field, ...]
    _by_path: dict[str, Field]

    @classmethod
    def of(cls, *sections: Iterable[Field]) -> Vocabulary:
        """The fields of every section, in order; a path declared twice is refused."""
        fields = tuple(f for section in sections for f in section)
        by_path: dict[str, Field] = {}
        for f in fields:
            if f.path in by_path:
                raise ValueError(f"vocabulary field {f.path!r} is declared twice")
            if f.type not in TYPES:
                raise ValueError(f"vocabulary field {f.path!r}: unknown type {f.type!r}")
            if f.path.startswith(PARAMS_PREFIX):
                raise ValueError(f"vocabulary field {f.path!r}: params. is the rulesets' own")
            by_path[f.path] = f
        return cls(fields, by_path)

    def extended(self, *sections: Iterable[Field]) -> Vocabulary:
        """This vocabulary with ``sections`` after it."""
        return Vocabulary.of(self.fields, *sections)

    def lookup(self, path: str) -> Field | None:
        return self._by_path.get(path)

    def paths_on(self, on: EventKind | None) -> list[str]:
        """The paths available on event kind ``on`` (all when None)."""
        return [f.path for f in self.fields if f.on is None or on is None or on in f.on]


CORE = Vocabulary.of(CORE_FIELDS)
