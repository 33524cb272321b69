"""The core compiler as the service calls it: against the service's vocabulary (the
core's fields and every registered area's, ``firekeeper.area_registry.VOCABULARY``)."""

from __future__ import annotations

from collections.abc import Mapping

from firekeeper.area_registry import VOCABULARY
from firekeeper.rules import compiler
from firekeeper.rules.compiler import RulesetIndex


def compile_sources(
    sources: Mapping[str, str],
    previous: RulesetIndex | None = None,
    *,
    shipped: Mapping[str, str] | None = None,
) -> RulesetIndex:
    return compiler.compile_sources(sources, previous, shipped=shipped, vocabulary=VOCABULARY)
