"""``lifecycle.proto`` messages <-> domain values (Outbox, Health, Scheduler), both directions.

Requests are parsed and bounded here (``InvalidEvent`` with the field path);
the ``*_from_proto`` functions of replies are the client's direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, cast

from firekeeper.api import convert
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import lifecycle_pb2 as lpb
from firekeeper.api.status import status_for
from firekeeper.domain.decisions import Action, ActionType
from firekeeper.domain.events import Platform
from firekeeper.domain.health import (
    ChatHealth,
    Diagnosis,
    Finding,
    HealthMetrics,
    HealthStatus,
    Pose,
)
from firekeeper.domain.outbox import OutboxItem
from firekeeper.errors import InvalidEvent
from firekeeper.scheduler import ChatSelection, ManualRound

MAX_IDS = 1000
MAX_ID = 2**63 - 1  # outbox ids are BIGINT
MAX_TICK_RESULTS = 1000  # RunTicksResponse.results

_ACTION_TO = {t: pb.ActionType.Value(f"ACTION_TYPE_{t.name}") for t in ActionType}
_ACTION = {v: k for k, v in _ACTION_TO.items()}


def _platform_tenant(platform: pb.Platform.ValueType, tenant: str) -> tuple[Platform, str]:
    key = convert.chat_key_from_proto(
        pb.ChatKey(platform=platform, tenant=tenant, chat_id="-"), path=""
    )
    return key.platform, key.tenant


def _ids_list(values: Sequence[str], path: str) -> None:
    if len(values) > MAX_IDS:
        raise InvalidEvent(path, f"too many: {len(values)} entries, at most {MAX_IDS}")


# ---------------------------------------------------------------- outbox


def stream_request_from_proto(
    msg: lpb.StreamActionsRequest,
) -> tuple[Platform, str, tuple[str, ...]]:
    platform, tenant = _platform_tenant(msg.platform, msg.tenant)
    _ids_list(msg.chat_ids, "chat_ids")
    for i, chat_id in enumerate(msg.chat_ids):
        if not chat_id.strip() or len(chat_id) > convert.MAX_ID_CHARS:
            raise InvalidEvent(f"chat_ids[{i}]", "must be a chat id (1 to 256 characters)")
    return platform, tenant, tuple(msg.chat_ids)


def ack_request_from_proto(msg: lpb.AckRequest) -> tuple[Platform, str, list[int]]:
    platform, tenant = _platform_tenant(msg.platform, msg.tenant)
    _ids_list(msg.ids, "ids")
    ids: list[int] = []
    for i, raw in enumerate(msg.ids):
        if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > MAX_ID:
            raise InvalidEvent(f"ids[{i}]", f"{raw[:40]!a} is not an outbox item id")
        ids.append(int(raw))
    return platform, tenant, ids


def outbox_item_to_proto(item: OutboxItem) -> lpb.OutboxItem:
    out = lpb.OutboxItem(
        id=item.id,
        chat=convert.chat_key_to_proto(item.key),
        event_id=item.event_id,
        action=convert.action_to_proto(item.action),
        attempt=item.attempt,
    )
    out.created_at.FromDatetime(item.created_at)
    return out


def outbox_item_from_proto(msg: lpb.OutboxItem) -> OutboxItem:
    a = msg.action
    return OutboxItem(
        id=msg.id,
        key=convert.chat_key_from_proto(msg.chat, path="chat"),
        event_id=msg.event_id,
        action=Action(
            type=_ACTION[a.type],
            rule_id=a.rule_id,
            target_user_id=a.target_user_id,
            target_message_id=a.target_message_id,
            text=a.text,
            duration_seconds=a.duration.seconds,
            chat_id=a.chat_id,
            channel_id=a.channel_id,
        ),
        created_at=msg.created_at.ToDatetime(tzinfo=UTC),
        attempt=msg.attempt,
    )


# ---------------------------------------------------------------- health

_OPTIONAL = (
    "poster_share",
    "joiner_retention",
    "joiners_posted_share",
    "top3_share",
    "activity_trend",
    "days_since_last_message",
    "days_since_owner_spoke",
    "days_since_admin_spoke",
    "off_topic_share",
    "age_days",
    "messages_usual_week",
    "activity_drop_percent",
    "owner_message_share",
)
_PLAIN = (
    "member_count",
    "posters",
    "daily_active_posters",
    "monthly_active_posters",
    "retention_cohort",
    "joins_30d",
    "leaves_30d",
    "messages_7d",
    "messages_prev_21d",
    "weeks_falling",
    "scored_messages_30d",
    "new_themes_30d",
    "notices_flagged_30d",
    "activity_declining",
    "others_active_30d",
)


def _metrics_to(m: HealthMetrics) -> lpb.HealthMetrics:
    out = lpb.HealthMetrics(net_joins_30d=m.net_joins_30d)
    for name in _PLAIN:
        setattr(out, name, getattr(m, name))
    for name in _OPTIONAL:
        value = getattr(m, name)
        if value is not None:
            setattr(out, name, value)
    return out


def chat_health_to_proto(h: ChatHealth) -> lpb.ChatHealth:
    out = lpb.ChatHealth(
        key=convert.chat_key_to_proto(h.key),
        status=h.status.value,
        status_reason=h.status_reason,
        metrics=_metrics_to(h.metrics),
        diagnoses=[
            lpb.Diagnosis(pose=d.pose.value, finding=d.finding.value, evidence=d.evidence)
            for d in h.diagnoses
        ],
        kind=h.kind,
        maturity=h.maturity,
    )
    out.measured_at.FromDatetime(h.metrics.measured_at)
    return out


def chat_health_from_proto(msg: lpb.ChatHealth) -> ChatHealth:
    m = msg.metrics
    values: dict[str, object] = {name: getattr(m, name) for name in _PLAIN}
    for name in _OPTIONAL:
        values[name] = getattr(m, name) if m.HasField(cast(Any, name)) else None
    metrics = HealthMetrics(
        measured_at=msg.measured_at.ToDatetime(tzinfo=UTC),
        ever_spoke=m.HasField("days_since_last_message"),
        **values,  # type: ignore[arg-type]
    )
    return ChatHealth(
        key=convert.chat_key_from_proto(msg.key, path="key"),
        kind=msg.kind,
        status=HealthStatus(msg.status),
        status_reason=msg.status_reason,
        metrics=metrics,
        diagnoses=tuple(
            Diagnosis(Pose(d.pose), Finding(d.finding), d.evidence) for d in msg.diagnoses
        ),
        maturity=msg.maturity,
    )


# ---------------------------------------------------------------- scheduler


def run_ticks_request_from_proto(request: lpb.RunTicksRequest) -> tuple[datetime, ChatSelection]:
    if not request.HasField("at"):
        raise InvalidEvent("at", "required: the time whose tick period to run")
    try:
        at = request.at.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidEvent("at", "not a valid timestamp") from None
    platform: Platform | None = None
    if request.platform != pb.PLATFORM_UNSPECIFIED:
        platform, _ = _platform_tenant(request.platform, "-")
    for name in ("tenant", "chat_id"):
        value = getattr(request, name)
        if value and (not value.strip() or len(value) > convert.MAX_ID_CHARS):
            raise InvalidEvent(name, "must be empty or 1 to 256 characters")
    if request.chat_id and not (request.tenant and platform is not None):
        raise InvalidEvent("chat_id", "one chat is named with its tenant and platform")
    return at, ChatSelection(tenant=request.tenant, platform=platform, chat_id=request.chat_id)


def run_ticks_response(result: ManualRound) -> lpb.RunTicksResponse:
    out = lpb.RunTicksResponse(
        period_seconds=result.period_seconds,
        period_index=result.period_index,
        chats=len(result.outcomes),
        evaluated=result.evaluated,
        replayed=result.replayed,
        failed=result.failed,
    )
    out.period_start.FromDatetime(result.period_start)
    for outcome in result.outcomes:
        decision = outcome.decision
        if decision is not None and (decision.replayed or not decision.actions):
            continue  # counted only
        if len(out.results) >= MAX_TICK_RESULTS:
            out.results_truncated = True
            break
        item = out.results.add(chat=convert.chat_key_to_proto(outcome.key))
        if decision is not None:
            item.decision.CopyFrom(convert.decision_to_proto(decision))
        else:
            item.error = status_for(outcome.error or RuntimeError(), context="RunTicks").message
    return out
