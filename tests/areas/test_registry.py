"""Adding an area is one package and one registration line.

Every package under ``firekeeper/areas/`` is in ``area_registry.PACKAGES`` (and nothing
else is there), in evaluation order; an area made here (``tests/areas/extra``: tables,
an ``Area[S]``, a check on user text, a retention policy, and its ``package.py``)
joins the pipeline, the text checks and the retention sweep through the one call that
lists it with the others.
"""

from __future__ import annotations

import importlib
import pkgutil
from datetime import timedelta

import pytest
import sqlalchemy as sa

import firekeeper.areas
from firekeeper.area_package import AreaContext
from firekeeper.area_registry import PACKAGES, build, retention_policies, text_checks
from firekeeper.areas.corrections.area import CorrectionsArea
from firekeeper.areas.lifecycle.area import LifecycleArea
from firekeeper.areas.lifecycle.package import PACKAGE as LIFECYCLE
from firekeeper.areas.screening.area import ScreeningArea
from firekeeper.domain.chats import ChatRegistration
from firekeeper.learned.artefact import shipped
from firekeeper.pipeline import RulesetHolder
from firekeeper.rulesets_dir import load
from firekeeper.store import Store
from firekeeper.store.retention import Retention
from firekeeper.wiring import build_pipeline, governance_areas
from tests.areas.extra import tables
from tests.areas.extra.area import ExtraArea
from tests.areas.extra.package import PACKAGE as EXTRA
from tests.conftest import RULESETS
from tests.core.builders import KEY, T0, message

HOLDER = RulesetHolder(load(RULESETS))


def test_every_area_package_is_registered_once_by_its_own_declaration() -> None:
    found = list(pkgutil.iter_modules(firekeeper.areas.__path__))
    assert [m.name for m in found if not m.ispkg] == []  # the folder holds areas only
    for module in found:
        declared = importlib.import_module(f"firekeeper.areas.{module.name}.package").PACKAGE
        assert declared.name == module.name
        assert any(declared is registered for registered in PACKAGES), module.name
    assert sorted(p.name for p in PACKAGES) == sorted(m.name for m in found)


def test_the_registry_keeps_the_evaluation_order() -> None:
    assert [p.name for p in PACKAGES] == ["lifecycle", "screening", "corrections"]
    lifecycle, screening, corrections = governance_areas(HOLDER)
    assert isinstance(lifecycle, LifecycleArea)
    assert isinstance(screening, ScreeningArea)
    assert isinstance(corrections, CorrectionsArea)


def test_a_package_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="distinct names"):
        build(AreaContext(), (*PACKAGES, LIFECYCLE))


def test_an_area_not_built_is_not_found() -> None:
    with pytest.raises(LookupError, match="'extra'"):
        build(AreaContext(rulesets=HOLDER)).of(EXTRA)


def test_a_new_area_joins_through_one_registration(store: Store) -> None:
    packages = (*PACKAGES, EXTRA)  # the registration line
    # its table: a migration's job in the service; here made from its tables module
    tables.metadata.create_all(store.engine)
    areas = build(AreaContext(rulesets=HOLDER, spam_model=shipped()), packages)
    assert areas.areas[-1] is areas.of(EXTRA)  # evaluated after the others
    assert areas.of(EXTRA).label == "tools"  # built from the context it was handed
    pipeline = build_pipeline(store, HOLDER, clock=lambda: T0, areas=areas)
    pipeline.register_chat(
        ChatRegistration(key=KEY, kind="hobby", member_count=30, created_at=T0 - timedelta(days=9))
    )

    for i, text in enumerate(["hello", "HELLO AGAIN", "bye"]):
        assert pipeline.evaluate(message(text, eid=f"m{i}")).event_id == f"m{i}"

    # load read its table, enrich put the count in the fact, write stored what the fact said
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(tables.seen.c.event_id, tables.seen.c.before).order_by(tables.seen.c.id)
        ).all()
    assert [tuple(r) for r in rows] == [("m0", 0), ("m1", 1), ("m2", 2)]

    # its check on user text is timed with the others; its table is swept with the others
    assert text_checks(packages)[-1].name == "extra_shouting"
    assert text_checks(packages)[-1].run("HELLO AGAIN") is True
    policies = retention_policies(packages)
    assert policies[-1].table is tables.seen
    retention = Retention(store.engine, decision_days=0, policies=policies)
    sweep = retention.sweep(T0 + timedelta(days=2))
    assert sweep.deleted.get("extra_seen") == 3
    assert isinstance(areas.of(EXTRA), ExtraArea)
