"""Screening API messages <-> domain values (firekeeper.domain.screening).

Bad input raises ``InvalidEvent`` with the field path, as ``firekeeper.api.convert`` does.
"""

from __future__ import annotations

from datetime import UTC

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import screening_pb2 as spb
from firekeeper.domain.events import Platform
from firekeeper.domain.screening import (
    BlockEntry,
    BlockKind,
    ChatScreening,
    HeldJoin,
    HeldStatus,
    Resolution,
)
from firekeeper.errors import InvalidEvent

MAX_ITEM_CHARS = 4096

_PLATFORM: dict[int, Platform] = {pb.Platform.Value(f"PLATFORM_{p.name}"): p for p in Platform}
_PLATFORM_TO = {v: k for k, v in _PLATFORM.items()}
_STATUS_TO = {s: spb.HeldJoinStatus.Value(f"HELD_JOIN_STATUS_{s.name}") for s in HeldStatus}
_RESOLUTION: dict[int, Resolution] = {
    spb.RESOLUTION_APPROVE: Resolution.APPROVE,
    spb.RESOLUTION_DENY: Resolution.DENY,
}
_KIND: dict[int, BlockKind] = {
    spb.BLOCKLIST_KIND_USER: BlockKind.USER,
    spb.BLOCKLIST_KIND_DOMAIN: BlockKind.DOMAIN,
}
_KIND_TO: dict[BlockKind, spb.BlocklistKind.ValueType] = {
    BlockKind.USER: spb.BLOCKLIST_KIND_USER,
    BlockKind.DOMAIN: spb.BLOCKLIST_KIND_DOMAIN,
}


def platform(value: int, path: str, *, required: bool) -> Platform | None:
    if value == pb.PLATFORM_UNSPECIFIED:
        if required:
            raise InvalidEvent(path, "required: the platform is unspecified")
        return None
    try:
        return _PLATFORM[value]
    except KeyError:
        raise InvalidEvent(path, f"unknown platform {value}") from None


def page_after(token: str, path: str = "page_token") -> int:
    if not token:
        return 0
    # isascii: str.isdigit() also holds for "²" and other digits int() refuses.
    if not token.isascii() or not token.isdigit() or len(token) > 18:
        raise InvalidEvent(path, "not a page token this service gave out")
    return int(token)


def page_token(next_after: int) -> str:
    return str(next_after) if next_after else ""


def _text(value: str, path: str) -> str:
    if len(value) > MAX_ITEM_CHARS:
        raise InvalidEvent(path, f"longer than {MAX_ITEM_CHARS} characters")
    return value


def held_to_proto(h: HeldJoin) -> spb.HeldJoin:
    out = spb.HeldJoin(
        chat=convert.chat_key_to_proto(h.chat),
        user_id=h.user_id,
        display_name=h.display_name,
        inviter_id=h.inviter_id,
        event_id=h.event_id,
        event_kind=h.event_kind,
        rule_id=h.rule_id,
        reason=h.reason,
        status=_STATUS_TO[h.status],
        resolved_by=h.resolved_by,
        note=h.note,
    )
    out.held_at.FromDatetime(h.held_at)
    if h.resolved_at is not None:
        out.resolved_at.FromDatetime(h.resolved_at)
    return out


def resolution(value: int, path: str = "resolution") -> Resolution:
    try:
        return _RESOLUTION[value]
    except KeyError:
        raise InvalidEvent(path, "required: RESOLUTION_APPROVE or RESOLUTION_DENY") from None


def entry_from_proto(msg: spb.BlocklistEntry, path: str) -> BlockEntry:
    kind = _KIND.get(msg.kind)
    if kind is None:
        raise InvalidEvent(f"{path}.kind", "required: BLOCKLIST_KIND_USER or BLOCKLIST_KIND_DOMAIN")
    return BlockEntry(
        kind=kind,
        value=_text(msg.value, f"{path}.value"),
        platform=platform(msg.platform, f"{path}.platform", required=kind == BlockKind.USER),
        note=_text(msg.note, f"{path}.note"),
        added_by=_text(msg.added_by, f"{path}.added_by"),
    )


def entry_to_proto(e: BlockEntry) -> spb.BlocklistEntry:
    out = spb.BlocklistEntry(kind=_KIND_TO[e.kind], value=e.value, note=e.note, added_by=e.added_by)
    if e.platform is not None:
        out.platform = _PLATFORM_TO[e.platform]  # type: ignore[assignment]
    if e.added_at is not None:
        out.added_at.FromDatetime(e.added_at)
    return out


def kind_filter(value: int) -> BlockKind | None:
    return _KIND.get(value)


def screening_from_proto(msg: spb.ChatScreening) -> ChatScreening:
    if not msg.HasField("chat"):
        raise InvalidEvent("chat", "required")
    return ChatScreening(
        chat=convert.chat_key_from_proto(msg.chat, path="chat"),
        allowed_domains=tuple(
            _text(d, f"allowed_domains[{i}]") for i, d in enumerate(msg.allowed_domains)
        ),
        entry_patterns=tuple(
            _text(p, f"entry_patterns[{i}]") for i, p in enumerate(msg.entry_patterns)
        ),
    )


def screening_to_proto(s: ChatScreening) -> spb.ChatScreening:
    out = spb.ChatScreening(
        chat=convert.chat_key_to_proto(s.chat),
        allowed_domains=list(s.allowed_domains),
        entry_patterns=list(s.entry_patterns),
    )
    if s.updated_at is not None:
        out.updated_at.FromDatetime(s.updated_at.astimezone(UTC))
    return out
