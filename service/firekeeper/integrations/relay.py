"""The loop every reference adapter runs, without any platform library.

    native update --translate--> events --evaluate--> decision --calls_for_action--> calls
        --carry_out (the platform library)--> done
    outbox item (a scheduler tick's action) --calls_for_action--> calls --carry_out--> ack

A platform module supplies three things: how to build the ``CallContext`` of
an event or an outbox item, ``carry_out`` (one ``PlatformCall`` through the
library's own methods: the one place per platform that turns calls into
requests), and which of its library's errors are permanent (a retry cannot
help: the call is logged and dropped) rather than transient (the outbox item
is left unacknowledged and comes again).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from firekeeper.adapters import (
    CallContext,
    MissingContext,
    PlatformCall,
    Translation,
    UnmappableAction,
    calls_for_action,
)
from firekeeper.client import AsyncFirekeeperClient, Backoff, ClientError, OutboxItem
from firekeeper.domain import Action, Actor, Decision, Event, Platform

log = logging.getLogger("firekeeper.integrations")

CarryOut = Callable[[PlatformCall], Awaitable[object]]


def utcnow() -> datetime:
    return datetime.now(UTC)


def display_names(event: Event) -> dict[str, str]:
    """User id -> display name of everyone the event names (to name a warned user)."""
    people: list[Actor | None] = [event.envelope.actor]
    for attr in ("member", "inviter", "removed_by"):
        people.append(getattr(event.payload, attr, None))
    return {a.id: a.display_name for a in people if a is not None and a.display_name}


@dataclass
class Outcome:
    """What one update or outbox item led to (for logs and tests)."""

    decisions: list[Decision] = field(default_factory=list)
    calls: list[PlatformCall] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # calls that could not be made, and why


@dataclass
class Relay:
    platform: Platform
    tenant: str
    client: AsyncFirekeeperClient
    carry_out: CarryOut
    event_context: Callable[[Event, datetime], CallContext]
    item_context: Callable[[OutboxItem, datetime], CallContext]
    is_permanent: Callable[[BaseException], bool]
    clock: Callable[[], datetime] = utcnow
    backoff: Backoff = field(default_factory=Backoff)

    async def handle(self, translation: Translation) -> Outcome:
        """Decide every event of one translated update and carry out the decisions, in order.

        A ``ClientError`` (the service refused or could not be reached after the
        client's retries) propagates: the platform library's error handling sees it.
        """
        outcome = Outcome()
        for note in translation.skipped:
            log.debug("skipped", extra={"native_type": note.native_type, "reason": note.reason})
        for event in translation.events:
            decision = await self.client.evaluate(event)
            outcome.decisions.append(decision)
            if decision.replayed:
                # Decided before (the platform redelivered the update): the actions
                # were carried out then, or their failure was logged then.
                continue
            context = self.event_context(event, self.clock())
            if decision.language and not context.language:
                context = replace(context, language=decision.language)
            for action in decision.actions:
                await self._carry_out_action(action, context, outcome)
        return outcome

    async def _carry_out_action(self, action: Action, context: CallContext, out: Outcome) -> None:
        try:
            calls = calls_for_action(self.platform, action, context)
        except (MissingContext, UnmappableAction) as exc:
            log.warning("action not carried out", extra={"action": action.type, "why": str(exc)})
            out.failures.append(f"{action.type}: {exc}")
            return
        for call in calls:
            if call.is_noop:
                continue
            try:
                await self.carry_out(call)
            except Exception as exc:
                if not self.is_permanent(exc):
                    raise
                log.warning(
                    "platform refused a call",
                    extra={"method": call.method, "rule_id": call.rule_id, "why": str(exc)},
                )
                out.failures.append(f"{call.method}: {exc}")
                continue
            out.calls.append(call)

    async def carry_out_item(self, item: OutboxItem) -> Outcome:
        """One outbox item's calls; a transient platform error propagates (the item comes again)."""
        outcome = Outcome()
        await self._carry_out_action(item.action, self.item_context(item, self.clock()), outcome)
        return outcome

    async def run_outbox(
        self,
        *,
        chat_ids: tuple[str, ...] = (),
        on_item: Callable[[OutboxItem, Outcome], None] | None = None,
    ) -> None:
        """Stream the outbox until cancelled, carrying out each item once it arrives.

        An item whose calls fail transiently is left unacknowledged: the stream is
        closed and opened again after a backoff, and the service sends it again.
        """
        failures = 0
        while True:
            stream = self.client.stream_actions(self.platform, self.tenant, chat_ids=chat_ids)
            try:
                async with contextlib.aclosing(stream):  # type: ignore[type-var]
                    async for item in stream:
                        outcome = await self.carry_out_item(item)
                        failures = 0
                        if on_item is not None:
                            on_item(item, outcome)
            except ClientError as exc:  # not retryable by the client (refused, unimplemented)
                log.error("outbox stream refused", extra={"code": exc.code_name})
                raise
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                delay = self.backoff.delay(failures, random.Random())
                log.warning(
                    "outbox item not carried out; it will come again",
                    extra={"why": str(exc), "delay": delay},
                )
                await asyncio.sleep(delay)
