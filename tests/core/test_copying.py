"""``evolve`` is ``dataclasses.replace``, faster for the records the pure core copies."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import pytest

from firekeeper.domain.chats import ChatContext, MemberRecord
from firekeeper.domain.copying import evolve
from firekeeper.domain.decisions import Decision

from .builders import T0, chat


def test_evolve_gives_what_replace_gives_and_leaves_the_original() -> None:
    record = chat(member_count=3, title="Readers")
    changed = evolve(record, member_count=4, title="Reading club")
    assert changed == dataclasses.replace(record, member_count=4, title="Reading club")
    assert (record.member_count, record.title) == (3, "Readers")
    member = MemberRecord(user_id="u1", message_count=2)
    assert evolve(member, message_count=3) == dataclasses.replace(member, message_count=3)
    ctx = ChatContext(record, {"u1": member})
    assert evolve(ctx, language="zh-Hans") == dataclasses.replace(ctx, language="zh-Hans")
    decision = Decision("e1", (), (), "base", "1", T0)
    assert evolve(decision) == decision
    assert evolve(decision) is not decision


def test_an_unknown_field_is_an_error_as_with_replace() -> None:
    with pytest.raises(TypeError, match="no field 'colour'"):
        evolve(chat(), colour="red")


@dataclass
class _Plain:  # not frozen, no slots: evolve leaves it to dataclasses.replace
    a: int
    b: int = 0


def test_other_dataclasses_go_through_replace() -> None:
    assert evolve(_Plain(1, 2), b=3) == _Plain(1, 3)
