"""The outbox stream: actions no event asked for (decisions on the scheduler's ticks).

The service keeps each such action until an adapter acknowledges it, and
sends an unacknowledged one again on the next stream: delivery is at least
once. The clients' ``stream_actions`` turn that into a loop an adapter can
write plainly::

    for item in client.stream_actions(Platform.TELEGRAM, "acme"):
        carry_out(item)          # acknowledged when the loop asks for the next item

- an item is acknowledged (``Ack``) once the loop body that got it finished,
  i.e. when the loop asks for the next item; leaving the loop by an exception
  (or ``break``) leaves it unacknowledged, so it comes again later;
- a redelivered item this iterator already handled (its ack was lost) is
  acknowledged again, not handed out twice;
- a stream that breaks (UNAVAILABLE, the server restarting, ...) is opened
  again after a backoff, without end unless ``reconnects`` is given; any
  other failure (INVALID_ARGUMENT, UNIMPLEMENTED by an older server) raises
  ``ClientError``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import grpc

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.client._errors import ClientError, client_error
from firekeeper.client._retry import RETRYABLE
from firekeeper.domain import Action, Platform
from firekeeper.domain.chats import ChatKey

# The stream also reopens when the server ended it (shutdown cancels open streams).
STREAM_RETRYABLE = RETRYABLE | {grpc.StatusCode.CANCELLED}
REMEMBERED_IDS = 10_000  # ids of handled items an iterator remembers, to drop redeliveries


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One action the service made on its own, waiting to be carried out."""

    id: str  # stable and unique: acknowledge it once done; drop an id already done
    chat: ChatKey
    event_id: str  # the event (a scheduler tick) whose decision asked for the action
    action: Action  # action.chat_id / channel_id say where
    created_at: datetime | None
    attempt: int  # 1 on the first delivery, more on redeliveries


def platform_to_proto(platform: Platform) -> pb.Platform.ValueType:
    return pb.Platform.Value(f"PLATFORM_{Platform(platform).name}")


def stream_request(
    platform: Platform, tenant: str, chat_ids: Sequence[str]
) -> lpb.StreamActionsRequest:
    if not tenant:
        raise ValueError("stream_actions needs the tenant whose actions to stream")
    return lpb.StreamActionsRequest(
        platform=platform_to_proto(platform), tenant=tenant, chat_ids=list(chat_ids)
    )


def ack_request(platform: Platform, tenant: str, ids: Sequence[str]) -> lpb.AckRequest:
    return lpb.AckRequest(platform=platform_to_proto(platform), tenant=tenant, ids=list(ids))


def item_from_proto(msg: lpb.OutboxItem) -> OutboxItem:
    action = convert.action_from_proto(msg.action)
    return OutboxItem(
        id=msg.id,
        chat=convert.chat_key_from_proto(msg.chat, path="chat"),
        event_id=msg.event_id,
        action=action,
        created_at=msg.created_at.ToDatetime(tzinfo=UTC) if msg.HasField("created_at") else None,
        attempt=msg.attempt,
    )


class Handled:
    """The ids of the last ``limit`` items handled, oldest forgotten first."""

    def __init__(self, limit: int = REMEMBERED_IDS) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._limit = limit

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._ids

    def add(self, item_id: str) -> None:
        self._ids[item_id] = None
        self._ids.move_to_end(item_id)
        while len(self._ids) > self._limit:
            self._ids.popitem(last=False)


def check_reconnects(reconnects: int | None) -> None:
    if reconnects is not None and (isinstance(reconnects, bool) or reconnects < 0):
        raise ValueError(f"reconnects must be an integer >= 0 or None, got {reconnects!r}")


def stream_gave_up(code: grpc.StatusCode | None, failures: int) -> ClientError:
    return client_error(
        code or grpc.StatusCode.UNAVAILABLE,
        "the outbox stream kept breaking; unacknowledged actions wait in the outbox",
        attempts=failures,
    )
