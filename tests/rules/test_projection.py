"""The engine's fact: ``Projection.members`` writes exactly the JSON the projected dict
(read field by field with ``textmatch.read``, lists with the sentinel) serialised by
``engine.dumps`` would be, for any values in any fields."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from firekeeper.rules import engine, projection
from firekeeper.rules.lowering import KIND_PATH, SENTINEL, TEXT_PREFIX
from firekeeper.rules.projection import Projection
from firekeeper.rules.textmatch import MISSING, TextTest, read

FIELDS = (
    ("chat.member_count", "int"),
    ("chat.off_topic_share", "number"),
    ("chat.age", "duration"),
    ("actor.is_admin", "bool"),
    ("actor.role", "string"),
    ("message.text", "text"),
    ("message.domains", "list"),
    ("event.platform", "string"),
    ("params.hard_cap", "int"),
)
TEXTS = (
    ("p0", TextTest("contains", "message.text", ("offer",))),
    ("p1", TextTest("contains", "message.text", ("dm", "course"), any_of=True)),
    ("p2", TextTest("known", "message.text")),
)


def reference(kind: str, fields: Any, texts: Any, fact: Mapping[str, object]) -> dict[str, Any]:
    """What the matcher sent the engine before the projection was written as JSON."""
    out: dict[str, Any] = {"event": {"kind": kind}}
    for path, type_ in fields:
        value = read(fact, path, type_)
        if value is MISSING:
            continue
        section, leaf = path.split(".")
        out.setdefault(section, {})[leaf] = (
            [*value, SENTINEL] if isinstance(value, tuple) else value
        )
    if texts:
        out[TEXT_PREFIX] = {key: test.evaluate(fact) for key, test in texts}
    return out


LEAVES = (
    *("member_count", "off_topic_share", "age", "is_admin", "role", "text", "domains"),
    *("platform", "hard_cap", "kind", "other"),
)
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**60), max_value=2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([1e-05, 1e16, 2.5e-300, 0.1, -0.0, float(2**53), 2**53 - 1]),
    st.text(max_size=12),
    st.sampled_from(["an offer", "DM me for the COURSE", 'quote " and \\ and \x00', "中文"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.lists(st.one_of(st.text(max_size=3), st.integers()), max_size=3),
    st.tuples(st.text(max_size=4)),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
sections = st.one_of(
    st.dictionaries(
        st.sampled_from(LEAVES),
        values,
        max_size=8,
    ),
    values,
)
facts = st.dictionaries(
    st.sampled_from(["chat", "actor", "message", "params", "member"]), sections, max_size=5
)


@settings(max_examples=400, deadline=None)
@given(facts, st.booleans())
def test_the_json_is_the_projected_dict_as_the_engine_reads_it(
    fact: dict[str, Any], with_texts: bool
) -> None:
    kind = "message.posted"
    fact = {**fact, "event": {"kind": kind, "platform": "telegram"}}
    texts = TEXTS if with_texts else ()
    members = Projection.of(kind, FIELDS, texts).members(fact)
    want = reference(kind, FIELDS, texts, fact)
    assert members == engine.dumps(want)[1:-1]
    assert json.loads("{" + members + "}") == want


def test_numbers_are_never_in_exponent_form_and_inexact_ones_are_left_out() -> None:
    fact = {
        "event": {"kind": "k"},
        "chat": {"member_count": 2**53, "off_topic_share": 1e-05, "age": math.inf},
    }
    members = Projection.of("k", FIELDS, ()).members(fact)
    assert members == '"event":{"kind":"k"},"chat":{"off_topic_share":0.00001}'


def test_the_kind_is_read_once_with_the_other_event_fields() -> None:
    fields = (("event.platform", "string"), (KIND_PATH, "string"), ("event.in_thread", "bool"))
    fact = {"event": {"kind": "k", "platform": "discord", "in_thread": False}}
    members = Projection.of("k", fields, ()).members(fact)
    assert members == '"event":{"kind":"k","platform":"discord","in_thread":false}'


NESTED = (("a.b.c", "int"), ("a.b.d", "bool"), ("a.e", "list"), ("f", "string"), ("a.b.g", "text"))
nested_values = st.recursive(values, lambda inner: st.dictionaries(st.text(max_size=2), inner))
nested_facts = st.dictionaries(
    st.sampled_from(["a", "f", "event"]),
    st.one_of(
        nested_values,
        st.dictionaries(
            st.sampled_from(["b", "e", "x"]),
            st.one_of(
                nested_values, st.dictionaries(st.sampled_from(["c", "d", "g"]), nested_values)
            ),
        ),
    ),
)


@settings(max_examples=300, deadline=None)
@given(nested_facts)
def test_the_written_out_walk_writes_what_the_tree_walk_writes(fact: dict[str, Any]) -> None:
    """``Projection.write`` (generated per projection) and ``projection._members`` (the
    tree walk it is written from) give the same members, at any depth."""
    made = Projection.of("k", NESTED, ())
    walked: list[str] = []
    projection._members(made.nodes, fact, walked)
    assert made.write(fact) == walked
