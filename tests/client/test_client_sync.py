"""The blocking client against a real service: domain values in and out, errors with paths."""

from __future__ import annotations

import dataclasses

import grpc
import pytest

from firekeeper.client import ClientError, EventError, FirekeeperClient
from firekeeper.domain import ActionType, Decision, Platform
from firekeeper.domain.chats import ChatKey

from .support import KEY, join, message, registration


def test_evaluate_a_join_at_the_cap_is_denied(service: str) -> None:
    with FirekeeperClient(service) as client:
        view = client.register_chat(registration(49))  # the goal profile caps at 49
        assert view.chat.key == KEY and view.chat.member_count == 49
        decision = client.evaluate(join(1))
    assert isinstance(decision, Decision) and not decision.replayed
    assert [a.type for a in decision.actions][:2] == [
        ActionType.DENY_JOIN,
        ActionType.NOTIFY_ADMINS,
    ]
    assert decision.trace[0].rule_id == "size.hard_cap"
    assert decision.ruleset == "goal" and decision.decided_at.tzinfo is not None


def test_a_retried_event_returns_the_stored_decision_replayed(service: str) -> None:
    with FirekeeperClient(service) as client:
        client.register_chat(registration(10))
        first = client.evaluate(join(1))
        again = client.evaluate(join(1))
        view = client.get_chat(KEY)
    assert not first.replayed and again.replayed
    assert again.actions == first.actions and again.trace == first.trace
    assert view.chat.member_count == 11 and view.chat.events_processed == 1


def test_register_get_and_list(service: str) -> None:
    with FirekeeperClient(service) as client:
        registered = client.register_chat(registration(30, kind="hobby"))
        fetched = client.get_chat(KEY)
        rulesets = client.list_rulesets()
    assert fetched.chat.ruleset == registered.chat.ruleset
    assert fetched.effective_params == registered.effective_params
    assert fetched.size_tier == "small" and fetched.chat.title == "Marathon 2026"
    names = {r.name for r in rulesets}
    assert {"base", "goal", "hobby", "work"} <= names
    assert all(r.version and r.rule_count > 0 for r in rulesets)


def test_batches_keep_order_and_an_error_names_its_place_in_the_whole_call(service: str) -> None:
    events = [message(i) for i in range(7)]
    events[4] = message(4, tenant="")  # refused: the tenant is required
    with FirekeeperClient(service) as client:
        results = client.evaluate_batch(events, batch_size=3)  # chunks of 3, 3, 1
        again = client.evaluate_batch(iter(events), batch_size=500)
    assert len(results) == 7
    decided = [r for r in results if isinstance(r, Decision)]
    assert [d.event_id for d in decided] == [f"msg-{i}" for i in (0, 1, 2, 3, 5, 6)]
    error = results[4]
    assert isinstance(error, EventError)
    assert (error.index, error.event_id, error.code) == (4, "msg-4", "INVALID_ARGUMENT")
    assert error.field == "events[4].envelope.tenant"
    assert error.message.startswith("events[4].envelope.tenant: ")
    assert all(r.replayed for r in again if isinstance(r, Decision))
    assert isinstance(again[4], EventError) and again[4].field == "events[4].envelope.tenant"


def test_batch_size_is_checked_before_anything_is_sent(service: str) -> None:
    with FirekeeperClient(service) as client:
        for size in (0, 501):
            with pytest.raises(ValueError, match="batch_size"):
                client.evaluate_batch([message(1)], batch_size=size)
        assert client.evaluate_batch([]) == []


def test_invalid_argument_carries_the_field_path_and_is_not_retried(service: str) -> None:
    bad = dataclasses.replace(join(1), envelope=dataclasses.replace(join(1).envelope, chat_id=""))
    with FirekeeperClient(service, retries=5) as client, pytest.raises(ClientError) as info:
        client.evaluate(bad)
    err = info.value
    assert err.code == grpc.StatusCode.INVALID_ARGUMENT and err.attempts == 1
    assert err.field == "event.envelope.chat_id"
    assert err.message.startswith("event.envelope.chat_id: ") and err.reason == "required"
    assert str(err).startswith("INVALID_ARGUMENT: event.envelope.chat_id")


def test_a_non_ascii_field_path_comes_back_decoded(service: str) -> None:
    reg = dataclasses.replace(registration(10), params={"群规": "1"})
    with FirekeeperClient(service) as client, pytest.raises(ClientError) as info:
        client.register_chat(reg)
    assert info.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.field == "params[群规]"


def test_get_chat_of_an_unknown_chat_is_not_found(service: str) -> None:
    unknown = ChatKey(Platform.DISCORD, "acme", "404")
    with FirekeeperClient(service) as client, pytest.raises(ClientError) as info:
        client.get_chat(unknown)
    assert info.value.code == grpc.StatusCode.NOT_FOUND and info.value.field == ""
    assert "RegisterChat" in info.value.message


def test_closed_client_refuses_calls(service: str) -> None:
    client = FirekeeperClient(service)
    client.close()
    with pytest.raises(ValueError):
        client.list_rulesets()
