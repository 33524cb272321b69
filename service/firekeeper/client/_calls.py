"""Requests and responses of each call, shared by the sync and the asyncio client.

Domain values in, domain values out: the conversion is ``firekeeper.api.convert``'s,
so a client and the server agree on every field by construction.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.client._errors import EventError
from firekeeper.domain import Decision, Event
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.domain.views import ChatView, RulesetSummary

DEFAULT_BATCH_SIZE = 100
SERVER_MAX_BATCH = 500  # the service refuses bigger EvaluateBatch requests (servicer.MAX_BATCH)


def evaluate_request(event: Event) -> pb.EvaluateRequest:
    return pb.EvaluateRequest(event=convert.event_to_proto(event))


def evaluate_result(response: pb.EvaluateResponse) -> Decision:
    return convert.decision_from_proto(response.decision)


def check_batch_size(batch_size: int) -> None:
    if isinstance(batch_size, bool) or not 1 <= batch_size <= SERVER_MAX_BATCH:
        raise ValueError(f"batch_size must be 1..{SERVER_MAX_BATCH}, got {batch_size!r}")


def chunks(events: Iterable[Event], size: int) -> Iterator[list[Event]]:
    """``events`` in lists of at most ``size``, in order (any iterable, read lazily)."""
    chunk: list[Event] = []
    for event in events:
        chunk.append(event)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def batch_request(chunk: list[Event]) -> pb.EvaluateBatchRequest:
    return pb.EvaluateBatchRequest(events=[convert.event_to_proto(e) for e in chunk])


def batch_results(
    response: pb.EvaluateBatchResponse, chunk: list[Event], offset: int
) -> list[Decision | EventError]:
    """One result per event of ``chunk``, whose first event is number ``offset`` of the call."""
    if len(response.results) != len(chunk):
        raise ValueError(
            f"EvaluateBatch answered {len(response.results)} results for {len(chunk)} events"
        )
    out: list[Decision | EventError] = []
    for i, (event, result) in enumerate(zip(chunk, response.results, strict=True)):
        if result.WhichOneof("result") == "decision":
            out.append(convert.decision_from_proto(result.decision))
            continue
        local, whole = f"events[{i}]", f"events[{offset + i}]"
        out.append(
            EventError(
                index=offset + i,
                event_id=event.envelope.event_id,
                code=result.error.code,
                message=_reindex(result.error.message, local, whole),
                field=_reindex(result.error.field, local, whole),
            )
        )
    return out


def _reindex(text: str, local: str, whole: str) -> str:
    """``events[3].x`` in the chunk is ``events[203].x`` in the whole call."""
    if text == local or text.startswith((f"{local}.", f"{local}:")):
        return whole + text[len(local) :]
    return text


def register_request(reg: ChatRegistration) -> pb.RegisterChatRequest:
    return convert.registration_to_proto(reg)


def chat_result(response: pb.ChatState) -> ChatView:
    return convert.chat_view_from_proto(response)


def get_chat_request(key: ChatKey) -> pb.GetChatRequest:
    return pb.GetChatRequest(key=convert.chat_key_to_proto(key))


def rulesets_result(response: pb.ListRulesetsResponse) -> list[RulesetSummary]:
    return [convert.ruleset_summary_from_proto(r) for r in response.rulesets]
