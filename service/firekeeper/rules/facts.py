"""Build the fact a ruleset is evaluated on: event + stored context + params.

The fact is a nested dict whose paths are exactly those of
``firekeeper.rules.vocabulary``. Values the platform did not give are left out
(every comparison on them is false). Ages are measured against the event's
``occurred_at`` so that evaluating a recorded event again gives the same fact.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from firekeeper.domain.chats import ChatContext, ChatRecord, MemberRecord
from firekeeper.domain.events import (
    Actor,
    ChatUpdated,
    Event,
    EventKind,
    JoinRequested,
    LeaveReason,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    Platform,
    Role,
    RoleChanged,
)
from firekeeper.rules import features

SMALL_BELOW = 50  # the article: small groups have fewer than 50 members
LARGE_ABOVE = 200  # large groups have more than 200; middle is 50 to 200


def size_tier(member_count: int) -> str:
    if member_count < SMALL_BELOW:
        return "small"
    if member_count > LARGE_ABOVE:
        return "large"
    return "middle"


def _seconds(later: datetime, earlier: datetime | None) -> int | None:
    if earlier is None:
        return None
    return max(0, int((later - earlier).total_seconds()))


def effective_role(chat: ChatRecord, actor: Actor | None, record: MemberRecord | None) -> Role:
    """The owner recorded for the chat wins; then a role the event states; then the stored one."""
    user_id = actor.id if actor else (record.user_id if record else "")
    if chat.owner_id and user_id == chat.owner_id:
        return Role.OWNER
    if actor is not None and actor.role != Role.MEMBER:
        return actor.role
    if record is not None:
        return record.role
    return Role.MEMBER


# an enum's ``.value`` is a descriptor call; these are plain look-ups of the same strings
_KIND_VALUES = {k: k.value for k in EventKind}
_PLATFORM_VALUES = {p: p.value for p in Platform}
_ROLE_VALUES = {r: r.value for r in Role}


def person(
    chat: ChatRecord, actor: Actor | None, record: MemberRecord | None, now: datetime
) -> dict[str, Any]:
    role = effective_role(chat, actor, record)
    out: dict[str, Any] = {
        "id": actor.id if actor else (record.user_id if record else ""),
        "display_name": (actor.display_name if actor else "")
        or (record.display_name if record else ""),
        "is_bot": actor.is_bot if actor else (record.is_bot if record else False),
        "role": _ROLE_VALUES[role],
        "is_admin": role in (Role.ADMIN, Role.OWNER),
        "is_owner": role == Role.OWNER,
        "is_member": bool(record and record.is_member),
        "message_count": record.message_count if record else 0,
        "invited_count": record.invited_count if record else 0,
    }
    created = (actor.account_created_at if actor else None) or (
        record.account_created_at if record else None
    )
    age = _seconds(now, created)
    if age is not None:
        out["account_age"] = age
    if record is not None and record.is_member:
        tenure = _seconds(now, record.joined_at)
        if tenure is not None:
            out["tenure"] = tenure
    return out


def _subject(event: Event) -> Actor | None:
    p = event.payload
    if isinstance(p, MemberJoined | JoinRequested | MemberLeft | RoleChanged):
        return p.member
    return None


def _inviter(event: Event) -> Actor | None:
    p = event.payload
    if isinstance(p, MemberJoined | JoinRequested):
        return p.inviter
    return None


def people_ids(event: Event) -> list[str]:
    """User ids whose stored records the evaluation needs."""
    ids = []
    for a in (event.envelope.actor, _subject(event), _inviter(event)):
        if a is not None and a.id and a.id not in ids:
            ids.append(a.id)
    return ids


def build_fact(event: Event, ctx: ChatContext, params: Mapping[str, Any]) -> dict[str, Any]:
    env = event.envelope
    now = env.occurred_at
    chat = ctx.chat
    members = ctx.members
    fact: dict[str, Any] = {
        "event": {
            "kind": _KIND_VALUES[event.kind],
            "platform": _PLATFORM_VALUES[env.platform],
            "channel_id": env.channel_id,
            "in_thread": bool(env.thread_id),
        },
        "params": dict(params),
    }
    chat_f: dict[str, Any] = {
        "kind": chat.kind,
        "member_count": chat.member_count,
        "size_tier": size_tier(chat.member_count),
        "message_count": chat.message_count,
        "title": chat.title,
    }
    age = _seconds(now, chat.created_at)
    if age is not None:
        chat_f["age"] = age
    fact["chat"] = chat_f
    actor = env.actor
    fact["actor"] = person(chat, actor, members.get(actor.id) if actor else None, now)

    subject = _subject(event)
    if subject is not None:
        fact["member"] = person(chat, subject, members.get(subject.id), now)
    inviter = _inviter(event)
    p = event.payload
    if isinstance(p, MemberJoined | JoinRequested):
        fact["inviter"] = {"known": inviter is not None}
        if inviter is not None:
            fact["inviter"].update(person(chat, inviter, members.get(inviter.id), now))

    if isinstance(p, MessagePosted):
        text = features.of(p.text)  # shared with the areas' stages
        links = text.links(p.links)
        shape = text.shape
        fact["message"] = {
            "text": p.text,
            "length": shape.length,
            "line_count": shape.line_count,
            "link_count": len(links),
            "domains": list(features.domains(links)),
            "mention_count": len([m for m in p.mentions if m.user_id]),
            "mentions_everyone": any(m.everyone for m in p.mentions),
            "attachment_count": len(p.attachments),
            "attachment_kinds": sorted({a.kind for a in p.attachments}),
            "is_reply": bool(p.reply_to_message_id),
            "is_forward": p.is_forward,
            "is_announcement": p.is_announcement,
            "is_pinned_notice": p.is_pinned_notice,
            "is_edit": p.is_edit,
        }
    elif isinstance(p, MemberJoined):
        record = members.get(p.member.id)
        already = bool(record and record.is_member)
        fact["join"] = {
            "method": p.method.value,
            "resulting_count": chat.member_count + (0 if already else 1),
            "is_rejoin": bool(record and record.first_joined_at is not None),
            "has_invite_link": bool(p.invite_link),
        }
    elif isinstance(p, JoinRequested):
        fact["join"] = {"has_invite_link": bool(p.invite_link)}
        fact["request"] = {
            "answers": "\n".join(a.answer for a in p.answers),
            "answer_count": len([a for a in p.answers if a.answer.strip()]),
            "bio": p.bio,
        }
    elif isinstance(p, MemberLeft):
        by_admin = p.reason in (LeaveReason.REMOVED, LeaveReason.BANNED) and (
            p.removed_by is None or p.removed_by.id != p.member.id
        )
        fact["leave"] = {"reason": p.reason.value, "by_admin": by_admin}
    elif isinstance(p, ChatUpdated):
        chat_f["announcement_text"] = p.announcement_text
        chat_f["title_changed"] = p.title_changed
        chat_f["announcement_changed"] = p.announcement_changed
        if p.platform_member_count is not None:
            chat_f["platform_member_count"] = p.platform_member_count
            drift = p.platform_member_count - chat.member_count
            chat_f["member_count_drift"] = drift
            chat_f["member_count_off_by"] = abs(drift)
    elif isinstance(p, RoleChanged):
        fact["role"] = {"old": p.old_role.value, "new": p.new_role.value}
    return fact


def lookup(fact: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    """(present, value) of a dotted path in a fact."""
    node: Any = fact
    for part in path.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return False, None
        node = node[part]
    return True, node
