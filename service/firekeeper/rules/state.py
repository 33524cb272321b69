"""What an evaluated event changes in the stored state. Pure.

Member counting rules (documented in docs/state.md):
- an admitted join of someone not already a member adds one; a join the
  decision denies, holds or removes adds nothing (the adapter undoes it), and
  the member is recorded as not a member, so the platform's later "left"
  event for them subtracts nothing;
- a leave, removal or ban of a current member subtracts one; of a member the
  store never saw join (they were there before registration and are part of
  the registered count) also subtracts one, once; of someone known to be out,
  nothing;
- a chat update with the platform's own count replaces the stored count;
- a message from someone the store does not know marks them a member without
  counting them (they are already in the registered count);
- a ``chat.tick`` from the scheduler changes nothing here (not even
  ``events_processed``: ticks are not the chat's events).
"""

from __future__ import annotations

from datetime import datetime

from firekeeper.domain.chats import ChatContext, MemberRecord, StateChanges
from firekeeper.domain.copying import evolve
from firekeeper.domain.decisions import ActionType, Decision
from firekeeper.domain.events import (
    Actor,
    ChatTick,
    ChatUpdated,
    Event,
    JoinRequested,
    MemberJoined,
    MemberLeft,
    MessagePosted,
    Role,
    RoleChanged,
)

_REFUSING = frozenset(
    {ActionType.DENY_JOIN, ActionType.HOLD_FOR_REVIEW, ActionType.REMOVE, ActionType.BAN}
)


def admitted(decision: Decision, member_id: str) -> bool:
    """A join is admitted unless an enforced action refuses that member."""
    return not any(
        a.type in _REFUSING and a.target_user_id in ("", member_id) for a in decision.actions
    )


def _touch(
    record: MemberRecord | None, who: Actor, at: datetime, *, posted: bool = False
) -> MemberRecord:
    """The record seen at ``at``; ``posted``: with one more message, and a member."""
    base = record or MemberRecord(user_id=who.id)
    more: dict[str, object] = (
        {"message_count": base.message_count + 1, "is_member": True} if posted else {}
    )
    return evolve(
        base,
        display_name=who.display_name or base.display_name,
        is_bot=who.is_bot or base.is_bot,
        role=who.role if who.role != Role.MEMBER else base.role,
        account_created_at=who.account_created_at or base.account_created_at,
        last_seen_at=at
        if base.last_seen_at is None or at > base.last_seen_at
        else base.last_seen_at,
        **more,
    )


def changes_for(event: Event, decision: Decision, ctx: ChatContext) -> StateChanges:
    if isinstance(event.payload, ChatTick):
        # the scheduler's ticks are not the chat's events: nothing here changes (what a
        # tick changes is the lifecycle area's state)
        return StateChanges(chat=ctx.chat)
    env = event.envelope
    at = env.occurred_at
    chat = ctx.chat
    p = event.payload
    if isinstance(p, MessagePosted) and not p.is_edit:  # one copy of the chat for a message
        chat = evolve(
            chat,
            events_processed=chat.events_processed + 1,
            message_count=chat.message_count + 1,
            last_message_at=at
            if chat.last_message_at is None or at > chat.last_message_at
            else chat.last_message_at,
        )
    else:
        chat = evolve(chat, events_processed=chat.events_processed + 1)
    updated: dict[str, MemberRecord] = {}

    def get(user_id: str) -> MemberRecord | None:
        return updated.get(user_id) or ctx.members.get(user_id)

    if isinstance(p, MessagePosted):
        if env.actor is not None:
            rec = _touch(get(env.actor.id), env.actor, at, posted=not p.is_edit)
            updated[rec.user_id] = rec
    elif isinstance(p, MemberJoined):
        rec = _touch(get(p.member.id), p.member, at)
        if admitted(decision, p.member.id):
            if not rec.is_member:
                chat = evolve(chat, member_count=chat.member_count + 1)
                rec = evolve(
                    rec,
                    is_member=True,
                    joined_at=at,
                    first_joined_at=rec.first_joined_at or at,
                    left_at=None,
                    inviter_id=p.inviter.id if p.inviter else rec.inviter_id,
                )
                if p.inviter is not None and p.inviter.id != p.member.id:
                    inv = _touch(get(p.inviter.id), p.inviter, at)
                    updated[inv.user_id] = evolve(inv, invited_count=inv.invited_count + 1)
        else:
            rec = evolve(
                rec, is_member=False, inviter_id=p.inviter.id if p.inviter else rec.inviter_id
            )
        updated[rec.user_id] = rec
    elif isinstance(p, JoinRequested):
        rec = _touch(get(p.member.id), p.member, at)
        updated[rec.user_id] = rec
    elif isinstance(p, MemberLeft):
        known = get(p.member.id)
        rec = _touch(known, p.member, at)
        if known is None or known.is_member:
            chat = evolve(chat, member_count=max(0, chat.member_count - 1))
        updated[rec.user_id] = evolve(rec, is_member=False, left_at=at)
    elif isinstance(p, ChatUpdated):
        if p.title_changed or (p.title and not chat.title):
            chat = evolve(chat, title=p.title)
        if p.platform_member_count is not None:
            chat = evolve(chat, member_count=max(0, p.platform_member_count))
    elif isinstance(p, RoleChanged):
        rec = _touch(get(p.member.id), p.member, at)
        updated[rec.user_id] = evolve(rec, role=p.new_role)
        if p.new_role == Role.OWNER:
            chat = evolve(chat, owner_id=p.member.id)
        elif chat.owner_id == p.member.id:
            chat = evolve(chat, owner_id="")

    if env.actor is not None and env.actor.id not in updated and not isinstance(p, ChatUpdated):
        updated[env.actor.id] = _touch(get(env.actor.id), env.actor, at)
    return StateChanges(chat=chat, members=tuple(updated.values()))
