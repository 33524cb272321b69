"""``check_strings``: the field path of the first string the stores cannot hold."""

from __future__ import annotations

import pytest
from google.protobuf import json_format

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
