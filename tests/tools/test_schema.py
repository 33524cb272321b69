"""The JSON Schemas shipped for editors: current, and right about real files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from firekeeper.cli import main
from firekeeper.rules import source
from firekeeper.tools.schema import dumps, ruleset_schema, ruleset_test_schema
from tests.conftest import RULESETS

from .jsonschema_lite import validate

RULESET_SCHEMA = RULESETS / "ruleset.schema.json"
TEST_SCHEMA = RULESETS / "ruleset-test.schema.json"


def _yaml(path: Path) -> Any:
    doc, problems = source.load(str(path), path.read_text(encoding="utf-8"))
    assert doc is not None and not problems
    return doc.data


def _check(data: object, schema_path: Path) -> list[str]:
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    return validate(data, schema, schema)


def test_the_shipped_schemas_are_current() -> None:
    assert RULESET_SCHEMA.read_text(encoding="utf-8") == dumps(ruleset_schema()), (
        "run `firekeeper schema > rulesets/ruleset.schema.json`"
    )
    assert TEST_SCHEMA.read_text(encoding="utf-8") == dumps(ruleset_test_schema()), (
        "run `firekeeper schema --tests > rulesets/ruleset-test.schema.json`"
    )
    assert main(["schema", "--check", str(RULESET_SCHEMA)]) == 0


def test_the_stale_check_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stale = tmp_path / "s.json"
    stale.write_text("{}\n")
    assert main(["schema", "--check", str(stale)]) == 1
    assert "is stale" in capsys.readouterr().err


@pytest.mark.parametrize(
    "path",
    sorted(p for p in RULESETS.glob("*.yaml") if not p.name.endswith("_test.yaml")),
    ids=lambda p: p.name,
)
def test_every_default_ruleset_fits_the_schema(path: Path) -> None:
    assert _check(_yaml(path), RULESET_SCHEMA) == []
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=./ruleset.schema.json"


@pytest.mark.parametrize("path", sorted(RULESETS.glob("*_test.yaml")), ids=lambda p: p.name)
def test_every_test_file_fits_the_test_schema(path: Path) -> None:
    assert _check(_yaml(path), TEST_SCHEMA) == []


def test_the_schema_catches_what_an_editor_should_flag() -> None:
    bad = {
        "ruleset": "Bad Name",
        "params": {"cap": {"default": 3, "descr": "x"}},
        "rules": [
            {
                "id": "r",
                "on": "message.postd",
                "actions": [{"type": "notify_admins"}, {"type": "mute"}, {"type": "kick"}],
                "whn": "x",
            }
        ],
    }
    problems = _check(bad, RULESET_SCHEMA)
    text = "\n".join(problems)
    assert "ruleset: 'Bad Name' does not match" in text
    assert "params.cap" in text
    assert "rules[0].on" in text and "rules[0].whn: unknown key" in text
    assert "rules[0].actions[0]: missing 'text'" in text
    assert "rules[0].actions[1]: missing 'duration'" in text
    assert "rules[0].actions[2].type" in text


def test_the_schema_documents_keys_and_the_vocabulary() -> None:
    schema = ruleset_schema()
    rule = schema["$defs"]["Rule"]["properties"]
    assert "chat.member_count (int)" in rule["when"]["description"]
    assert schema["properties"]["mode"]["description"].startswith("shadow:")
    assert "enforce" in rule["mode"]["description"]
