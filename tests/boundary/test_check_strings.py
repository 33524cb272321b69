"""``check_strings``: the field path of the first string the stores cannot hold."""

from __future__ import annotations

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from firekeeper.api import convert
from firekeeper.api.boundary import MAX_STRING_CHARS, check_strings
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.errors import InvalidEvent

from .fuzzing import TEMPLATES


def _register(**changes: object) -> pb.RegisterChatRequest:
    return json_format.ParseDict({**TEMPLATES["RegisterChat"], **changes}, pb.RegisterChatRequest())


@pytest.mark.parametrize(
    ("request_", "path", "says"),
    [
        (_register(owner_id="4\x002"), "owner_id", "NUL character (U+0000)"),
        (_register(params={"cap": "1\x00"}), "params[cap]", "at character 1"),
        (_register(params={"c\x00p": "1"}), "params['c\\x00p']", "NUL"),
        (_register(theme={"keywords": ["a", "b\x00"]}), "theme.keywords[1]", "NUL"),
        (
            _register(theme={"channels": [{"channel_id": "x", "phrases": ["\x00"]}]}),
            "theme.channels[0].phrases[0]",
            "NUL",
        ),
        (_register(title="x" * (MAX_STRING_CHARS + 1)), "title", "too long"),
    ],
)
def test_the_path_and_reason_of_the_first_bad_string(
    request_: pb.RegisterChatRequest, path: str, says: str
) -> None:
    with pytest.raises(InvalidEvent) as info:
        check_strings(request_)
    assert info.value.field == path and says in str(info.value)


def test_good_strings_pass_and_skip_leaves_fields_to_the_servicer() -> None:
    check_strings(_register(title="群聊 🔥 \n\t ok", params={"cap": "12"}))
    batch = json_format.ParseDict(
        {"events": [TEMPLATES["Evaluate"]["event"]]}, pb.EvaluateBatchRequest()
    )
    batch.events[0].message_posted.text = "a\x00"
    check_strings(batch, skip=frozenset({"events"}))  # left to the per-event check
    with pytest.raises(InvalidEvent) as info:
        check_strings(batch.events[0], "events[0]")
    assert info.value.field == "events[0].message_posted.text"


def _string_paths(descriptor: Descriptor, prefix: str = "") -> list[str]:
    """Every string field under ``descriptor`` (one entry of each repeated field), as
    the converters name them; timestamps hold none."""
    paths = []
    for field in descriptor.fields:
        name = prefix + field.name + ("[0]" if field.is_repeated else "")
        if field.type == FieldDescriptor.TYPE_STRING:
            paths.append(name)
        elif field.message_type is not None and field.message_type.full_name != Timestamp_NAME:
            paths += _string_paths(field.message_type, name + ".")
    return paths


def _fill(msg: Message) -> None:
    """Every string field under ``msg`` set to "x" (one entry of each repeated field)."""
    for field in msg.DESCRIPTOR.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            if field.is_repeated:
                getattr(msg, field.name).append("x")
            else:
                setattr(msg, field.name, "x")
        elif field.message_type is not None and field.message_type.full_name != Timestamp_NAME:
            _fill(getattr(msg, field.name).add() if field.is_repeated else getattr(msg, field.name))


def _set(msg: Message, path: str, value: str) -> None:
    *heads, last = path.split(".")
    for head in heads:
        msg = getattr(msg, head.removesuffix("[0]"))
        if head.endswith("[0]"):
            msg = msg[0]  # type: ignore[index]
    if last.endswith("[0]"):
        getattr(msg, last.removesuffix("[0]"))[0] = value
    else:
        setattr(msg, last, value)


Timestamp_NAME = "google.protobuf.Timestamp"
_PAYLOADS = [f.name for f in pb.Event.DESCRIPTOR.oneofs_by_name["payload"].fields]
_EVENT_STRINGS = [
    path
    for path in _string_paths(pb.Event.DESCRIPTOR)
    if path.split(".")[0] in _PAYLOADS or path.startswith("envelope.")
]


def test_every_string_of_an_event_is_checked_by_its_converter() -> None:
    """The boundary leaves the events of Evaluate and EvaluateBatch to the converters
    (``boundary.CONVERTED``): each of their strings holding a NUL is refused there, with
    the boundary's path and message, or the event would reach the store unchecked."""
    assert len(_EVENT_STRINGS) > 20 and "message_posted.mentions[0].user_id" in _EVENT_STRINGS
    for path in _EVENT_STRINGS:
        event = json_format.ParseDict(TEMPLATES["Evaluate"]["event"], pb.Event())
        payload = path.split(".")[0]
        if payload in _PAYLOADS:
            event.ClearField(event.WhichOneof("payload") or "message_posted")
            _fill(getattr(event, payload))
        _fill(event.envelope)
        convert.event_from_proto(event)  # filled with "x": a good event
        _set(event, path, "ok\x00")
        with pytest.raises(InvalidEvent) as info:
            convert.event_from_proto(event)
        assert info.value.field == f"event.{path}", path
        assert "NUL character (U+0000)" in str(info.value) and "at character 2" in str(info.value)
