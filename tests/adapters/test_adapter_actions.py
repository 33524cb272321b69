"""Action mapping: every action type on every platform, as platform calls (data)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firekeeper.adapters import (
    MAPPERS,
    NO_CALL,
    CallContext,
    MissingContext,
    UnmappableAction,
    calls_for,
    calls_for_action,
)
from firekeeper.domain.decisions import Action, ActionType, Decision
from firekeeper.domain.events import EventKind, Platform

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)

FULL_CONTEXT = {
    Platform.TELEGRAM: CallContext(
        chat_id="-1001000000001",
        now=NOW,
        admin_chat_id="-1009999999999",
        invite_links=("https://t.me/+AbC",),
        display_names={"222": "Bob"},
    ),
    Platform.DISCORD: CallContext(
        chat_id="197038439483310086",
        now=NOW,
        channel_id="290926798999357250",
        admin_chat_id="290926798999357000",
    ),
    Platform.WECOM: CallContext(
        chat_id="wrOgQhDgAAMYQiS5ol9G7gK9JVAAAA",
        now=NOW,
        admin_user_ids=("zhangsan", "lisi"),
        agent_id=1000002,
        sender_user_id="zhangsan",
        join_way_config_ids=("9ad7fa5cdaa6511298498f979c472aaa",),
    ),
}


def action(kind: ActionType, **values: object) -> Action:
    defaults: dict[str, object] = {
        "target_user_id": "222",
        "target_message_id": "610",
        "text": "please keep to the topic",
        "duration_seconds": 600,
    }
    defaults.update(values)
    return Action(type=kind, rule_id="r1", **defaults)  # type: ignore[arg-type]


@pytest.mark.parametrize("platform", list(MAPPERS))
@pytest.mark.parametrize("kind", list(ActionType))
def test_every_action_maps_on_every_platform(platform: Platform, kind: ActionType) -> None:
    calls = calls_for_action(platform, action(kind), FULL_CONTEXT[platform])
    assert calls
    for call in calls:
        assert call.platform is platform
        assert (call.action, call.rule_id) == (kind, "r1")
        # A fallback says so in its note, and only a fallback does.
        assert call.fallback == call.note.startswith("fallback:"), call
        assert call.is_noop == (call.method == NO_CALL)


def test_calls_for_keeps_the_decision_order() -> None:
    decision = Decision(
        event_id="tg:1",
        actions=(action(ActionType.DELETE_MESSAGE), action(ActionType.WARN_USER)),
        trace=(),
        ruleset="default",
        ruleset_version="1",
        decided_at=NOW,
    )
    calls = calls_for("telegram", decision, FULL_CONTEXT[Platform.TELEGRAM])
    assert [c.method for c in calls] == ["deleteMessage", "sendMessage"]


def test_unknown_and_unmapped_platforms_are_refused() -> None:
    ctx = FULL_CONTEXT[Platform.TELEGRAM]
    with pytest.raises(UnmappableAction, match="unknown platform"):
        calls_for_action("icq", action(ActionType.BAN), ctx)
    with pytest.raises(UnmappableAction, match="mapped platforms: discord, telegram, wecom"):
        calls_for_action(Platform.SLACK, action(ActionType.BAN), ctx)


def test_missing_targets_are_refused() -> None:
    for platform in MAPPERS:
        with pytest.raises(UnmappableAction, match="no target user"):
            calls_for_action(
                platform, action(ActionType.REMOVE, target_user_id=""), FULL_CONTEXT[platform]
            )
        with pytest.raises(UnmappableAction, match="no target message"):
            calls_for_action(
                platform,
                action(ActionType.DELETE_MESSAGE, target_message_id=""),
                FULL_CONTEXT[platform],
            )


@pytest.mark.parametrize("platform", list(MAPPERS))
def test_telling_admins_needs_a_configured_destination(platform: Platform) -> None:
    bare = CallContext(chat_id="1", now=NOW, channel_id="2", sender_user_id="s")
    with pytest.raises(MissingContext):
        calls_for_action(platform, action(ActionType.NOTIFY_ADMINS), bare)


@pytest.mark.parametrize("platform", list(MAPPERS))
def test_approving_a_member_already_in_needs_no_call(platform: Platform) -> None:
    ctx = CallContext(chat_id="1", now=NOW, event_kind=EventKind.MEMBER_JOINED)
    (call,) = calls_for_action(platform, action(ActionType.APPROVE_JOIN), ctx)
    assert call.is_noop and call.note
