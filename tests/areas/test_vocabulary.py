"""An area's fields come from its package.

Each area declares the fields its stage adds to the fact in its ``pure/vocabulary.py``
(``AreaPackage.vocabulary``); the registry assembles them after the core's, once, into
``VOCABULARY``, which rulesets are compiled and type-checked against (``firekeeper
check``, the service, the tools), and which ``firekeeper vocabulary``, the JSON Schema
and explain print. The core defines only its own fields and imports no area.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from firekeeper.area_package import AreaContext
from firekeeper.area_registry import PACKAGES, VOCABULARY, build, vocabulary
from firekeeper.areas.corrections.pure.vocabulary import FIELDS as CORRECTIONS_FIELDS
from firekeeper.areas.lifecycle.pure.vocabulary import FIELDS as LIFECYCLE_FIELDS
from firekeeper.areas.screening.pure.vocabulary import FIELDS as SCREENING_FIELDS
from firekeeper.domain.chats import ChatRegistration
from firekeeper.errors import RulesetError
from firekeeper.pipeline import RulesetHolder
from firekeeper.rules.vocabulary import CORE, CORE_FIELDS, Field, Vocabulary
from firekeeper.rulesets_dir import compile_dir_sources
from firekeeper.store import Store
from firekeeper.wiring import build_pipeline
from tests.areas.extra import tables
from tests.areas.extra.package import PACKAGE as EXTRA
from tests.core.builders import KEY, T0, message

READS_EXTRA = """\
ruleset: extra_rules
version: "1"
rules:
  - id: extra.third
    on: message.posted
    when: extra.before >= 2 and extra.label == "tools"
    reason: "the third message"
    actions:
      - type: delete_message
"""


def test_the_vocabulary_is_the_cores_then_each_packages() -> None:
    assert VOCABULARY.fields == (
        *CORE_FIELDS,
        *LIFECYCLE_FIELDS,
        *SCREENING_FIELDS,
        *CORRECTIONS_FIELDS,
    )
    assert [p.vocabulary for p in PACKAGES] == [
        LIFECYCLE_FIELDS,
        SCREENING_FIELDS,
        CORRECTIONS_FIELDS,
    ]
    # an area's field is the registry's, not the core's
    assert CORE.lookup("message.promo_score") is None
    field = VOCABULARY.lookup("message.promo_score")
    assert field is not None and field.type == "int"
    assert VOCABULARY.lookup("extra.before") is None  # the extra area is not registered


def test_a_field_declared_twice_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'chat\.title' is declared twice"):
        CORE.extended((Field("chat.title", "text", "again"),))
    with pytest.raises(ValueError, match="unknown type 'float'"):
        Vocabulary.of((Field("x.y", "float", "no such type"),))
    with pytest.raises(ValueError, match="params"):
        Vocabulary.of((Field("params.x", "int", "the rulesets' own"),))


def test_a_new_areas_field_is_type_checked_and_read_by_a_ruleset(store: Store) -> None:
    packages = (*PACKAGES, EXTRA)
    sources = {"extra_rules.yaml": READS_EXTRA}
    # without the area's registration its field is unknown, as `firekeeper check` says
    with pytest.raises(RulesetError, match=r"unknown field 'extra\.before'"):
        compile_dir_sources(sources)
    # with it, the field is typed like any other: a comparison of another type is refused
    extended = vocabulary(packages)
    wrong = READS_EXTRA.replace("extra.before >= 2", 'extra.before == "two"')
    with pytest.raises(RulesetError, match="cannot compare int with string"):
        compile_dir_sources({"extra_rules.yaml": wrong}, vocabulary=extended)
    index = compile_dir_sources(sources, vocabulary=extended)
    assert index.get("extra_rules").vocabulary is extended

    # the pipeline with the area: its enrich fills the field, the rule reads it
    tables.metadata.create_all(store.engine)
    holder = RulesetHolder(index)
    areas = build(AreaContext(rulesets=holder), packages)
    pipeline = build_pipeline(store, holder, clock=lambda: T0, areas=areas)
    pipeline.register_chat(
        ChatRegistration(
            key=KEY,
            ruleset="extra_rules",
            kind="hobby",
            member_count=30,
            created_at=T0 - timedelta(days=9),
        )
    )
    decisions = [pipeline.evaluate(message(t, eid=f"m{i}")) for i, t in enumerate("abc")]
    assert [[a.rule_id for a in d.actions] for d in decisions] == [[], [], ["extra.third"]]
