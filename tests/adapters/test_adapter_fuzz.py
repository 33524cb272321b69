"""Bad input gets a clear error, never a crash; translation is deterministic.

Each documented sample (``samples/``, see ``samples/README.md``) is mutated at
one place into arbitrary JSON: the translator must return a Translation or
raise PayloadError / MissingContext, and give the same answer twice.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from firekeeper.adapters import (
    DiscordContext,
    MembershipSource,
    MissingContext,
    PayloadError,
    TelegramContext,
    Translation,
    WeComContext,
    translate_discord,
    translate_telegram,
    translate_wecom_archive,
    translate_wecom_callback,
)

SAMPLES = Path(__file__).resolve().parent / "samples"
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.text(max_size=6)
    | st.sampled_from(["", "0", "²", "\ud800x", "group", "supergroup", "kicked", "2024-13-01"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=8,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield (*prefix, key)
            yield from _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield (*prefix, i)
            yield from _paths(inner, (*prefix, i))


def _mutated(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    out = copy.deepcopy(value)
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return out


def _samples(name: str) -> list[Any]:
    data = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    return [v for k, v in data.items() if not k.startswith("_")]


TELEGRAM = _samples("telegram_updates.json")
DISCORD = _samples("discord_gateway_dispatches.json")
ARCHIVE = [
    json.loads(line)
    for line in (SAMPLES / "wecom_archive_group_records.jsonl").read_text("utf-8").splitlines()
]
RECEIVED = datetime(2024, 6, 1, tzinfo=UTC)

TRANSLATORS: dict[str, tuple[list[Any], Callable[[Any], Translation]]] = {
    "telegram": (TELEGRAM, lambda p: translate_telegram(p, TelegramContext("t"))),
    "telegram-chat-member": (
        TELEGRAM,
        lambda p: translate_telegram(
            p, TelegramContext("t", membership_source=MembershipSource.CHAT_MEMBER)
        ),
    ),
    "discord": (
        DISCORD,
        lambda p: translate_discord(p, DiscordContext("t", received_at=RECEIVED, session_id="s")),
    ),
    "wecom-archive": (ARCHIVE, lambda p: translate_wecom_archive(p, WeComContext("t"))),
}


@pytest.mark.parametrize("name", list(TRANSLATORS))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_payloads_translate_or_fail_clearly(name: str, data: st.DataObject) -> None:
    payloads, translate = TRANSLATORS[name]
    payload = data.draw(st.sampled_from(payloads))
    path = data.draw(st.sampled_from(list(_paths(payload))))
    mutated = _mutated(payload, path, data.draw(JSON_VALUES))
    try:
        first = translate(mutated)
    except (PayloadError, MissingContext) as err:
        assert str(err)
        return
    assert isinstance(first, Translation)
    assert translate(mutated) == first


@settings(max_examples=200, deadline=None)
@given(
    body=st.text(max_size=40),
    field=st.sampled_from(["ChatId", "CreateTime", "ChangeType", "UpdateDetail", "JoinScene"]),
)
def test_wecom_callbacks_with_odd_fields_translate_or_fail_clearly(body: str, field: str) -> None:
    xml = (
        "<xml><InfoType>change_external_chat</InfoType><TimeStamp>1717236000</TimeStamp>"
        "<ChatId>c</ChatId><ChangeType>update</ChangeType><UpdateDetail>add_member</UpdateDetail>"
        "<MemChangeList><Item>m</Item></MemChangeList></xml>"
    )
    xml = xml.replace(f"<{field}>", f"<{field}>{escape(body)}", 1) if f"<{field}>" in xml else xml
    try:
        result = translate_wecom_callback(xml, WeComContext("t"))
    except PayloadError as err:
        assert err.field.startswith("xml")
        return
    assert result == translate_wecom_callback(xml, WeComContext("t"))


def test_attachment_kinds_are_the_contracts_kinds() -> None:
    from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb

    allowed = {
        name.removeprefix("ATTACHMENT_KIND_").lower()
        for name in pb.AttachmentKind.keys()  # noqa: SIM118 (protobuf enum wrapper)
        if name != "ATTACHMENT_KIND_UNSPECIFIED"
    }
    seen: set[str] = set()
    for payloads, translate in TRANSLATORS.values():
        for payload in payloads:
            for event in translate(payload).events:
                seen |= {a.kind for a in getattr(event.payload, "attachments", ())}
    assert seen <= allowed
    assert {"image", "file", "link_card", "mini_program", "contact_card", "poll"} <= seen
