"""Helpers for the ruleset core tests: compile YAML text without touching files."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from firekeeper.rules.compiler import CompiledRuleset
from tests.compiling import compile_sources

Compile = Callable[..., CompiledRuleset]


def ruleset_yaml(rules: str, params: str = "", name: str = "t", extra: str = "") -> str:
    """A ruleset document around an indented ``rules:`` block."""
    text = f"ruleset: {name}\n{extra}"
    if params:
        text += f"params:\n{params}"
    return text + f"rules:\n{rules}"


@pytest.fixture
def compile_one() -> Compile:
    def run(text: str, file: str = "rulesets/t.yaml") -> CompiledRuleset:
        index = compile_sources({file: text})
        (only,) = index.all()
        return only

    return run
