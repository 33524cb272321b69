"""JSON Schemas for editors, generated from the models the parsers use.

``ruleset_schema()`` is built from the pydantic models of ``firekeeper.rules.spec``
(the header, a rule, an action, a parameter: the parser validates each with
the same model), then enriched with what the models cannot say: a description
of every key, the field vocabulary, and which actions need ``text`` or
``duration``. ``ruleset_test_schema()`` does the same for ruleset test files
(``firekeeper.tools.suite``). ``firekeeper schema`` prints them; the shipped copies
are ``rulesets/ruleset.schema.json`` and ``rulesets/ruleset-test.schema.json``,
and ``scripts/check`` fails when they are stale.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from firekeeper.area_registry import VOCABULARY
from firekeeper.rules.rulebuild import NEEDS_DURATION, NEEDS_TEXT
from firekeeper.rules.spec import PARAM_NAME, ActionSpec, HeaderSpec, ParamSpec, RuleSpec
from firekeeper.tools.events import BUILDERS
from firekeeper.tools.suite import Expect, SuiteFile, TestCase

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
Schema = dict[str, Any]

_RULESET_DOCS = {
    "HeaderSpec": {
        "ruleset": "The name chats and other rulesets refer to: lower case, digits, - and _.",
        "version": "A label; the service reports label+hash of the file and its parents.",
        "description": "What the ruleset is for.",
        "extends": "Inherit the parameters and rules of this ruleset; same rule id replaces.",
        "mode": "shadow: every rule (own and inherited) is evaluated and recorded in the trace,"
        " the decision log and the metrics, but no action is returned. Not inherited.",
        "profile": "The group kind and declared theme this profile is for.",
        "params": "Named values rules read as params.NAME: `NAME: value` or"
        " `NAME: {default, description, type}`. Chats may override them.",
        "rules": "The rules, in order (ties of priority keep this order).",
    },
    "RuleSpec": {
        "id": "Unique within the ruleset; shown in decisions, traces and metrics.",
        "on": "The event kind the rule is evaluated on.",
        "when": "The condition; absent means always.",
        "mode": "enforce (default): actions are returned; shadow: evaluated and recorded,"
        " no actions; off: not evaluated.",
        "reason": "Why the rule exists, in one line; shown in the trace; {placeholders} allowed.",
        "priority": "Higher goes first in the action list (default 0).",
        "actions": "What the adapter should do when the rule matches.",
    },
    "ActionSpec": {
        "type": "The action.",
        "text": "The message: warn_user, message_user, notify_admins and post_message need one;"
        " {field.path} and {params.NAME} placeholders allowed.",
        "duration": "mute, set_slow_mode and pause_invites need one: 45s, 10m, 6h, 1d, 2w.",
        "target": "Whose user the action is about (default: the member an event is about,"
        " else the actor).",
    },
    "ParamSpec": {
        "default": "The value unless a chat overrides it.",
        "description": "What the parameter means.",
        "type": "int, number, bool, string or duration (inferred from the default).",
    },
}


def _bare(model: type[BaseModel], defs: Schema) -> Schema:
    """The model's schema with its $defs moved into ``defs`` and its keys described."""
    schema = model.model_json_schema(ref_template="#/$defs/{model}")
    defs.update(schema.pop("$defs", {}))
    docs = _RULESET_DOCS.get(model.__name__, {})
    for key, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        if key in docs:
            prop["description"] = docs[key]
    return schema


def ruleset_schema() -> Schema:
    defs: Schema = {}
    root = _bare(HeaderSpec, defs)
    rule, action, param = _bare(RuleSpec, defs), _bare(ActionSpec, defs), _bare(ParamSpec, defs)
    rule["properties"]["when"]["description"] += " " + _vocabulary()
    rule["properties"]["actions"]["anyOf"][0]["items"] = {"$ref": "#/$defs/Action"}
    action["allOf"] = [
        {
            "if": {"properties": {"type": {"const": t.value}}, "required": ["type"]},
            "then": {"required": [need]},
        }
        for need, types in (("text", NEEDS_TEXT), ("duration", NEEDS_DURATION))
        for t in sorted(types)
    ]
    root["properties"]["rules"]["items"] = {"$ref": "#/$defs/Rule"}
    root["properties"]["params"] = {
        "description": root["properties"]["params"]["description"],
        "type": "object",
        "propertyNames": {"pattern": PARAM_NAME},
        "additionalProperties": {
            "anyOf": [
                {"$ref": "#/$defs/Param"},
                {"type": ["boolean", "integer", "number", "string"]},
            ]
        },
    }
    defs.update({"Rule": rule, "Action": action, "Param": param})
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Firekeeper ruleset",
        "description": "A governance ruleset (rulesets/README.md). Generated by"
        " `firekeeper schema` from the models the parser uses; do not edit.",
        **{k: v for k, v in root.items() if k != "title"},
        "$defs": dict(sorted(defs.items())),
    }


def ruleset_test_schema() -> Schema:
    defs: Schema = {}
    root = _bare(SuiteFile, defs)
    test, expect = _bare(TestCase, defs), _bare(Expect, defs)
    test["properties"]["steps"]["items"] = {
        "type": "object",
        "description": "One event in compact form (docs/ruleset-tests.md): kind, that kind's"
        " keys, and at/after/repeat/expect.",
        "required": ["kind"],
        "properties": {
            "kind": {"enum": list(BUILDERS)},
            "expect": {"$ref": "#/$defs/Expect"},
            "at": {"type": "string", "description": "+2d after the start, or an ISO-8601 time"},
            "after": {"type": ["string", "integer"], "description": "after the previous step"},
            "repeat": {"type": "integer", "minimum": 1},
            "every": {"type": ["string", "integer"], "description": "between repetitions"},
        },
    }
    root["properties"]["tests"]["items"] = {"$ref": "#/$defs/Test"}
    defs.update({"Test": test, "Expect": expect})
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "Firekeeper ruleset tests",
        "description": "Tests of rulesets (docs/ruleset-tests.md). Generated by"
        " `firekeeper schema --tests`; do not edit.",
        **{k: v for k, v in root.items() if k != "title"},
        "$defs": dict(sorted(defs.items())),
    }


def _vocabulary() -> str:
    fields = ", ".join(f"{f.path} ({f.type})" for f in VOCABULARY.fields)
    return f"Fields (rulesets/README.md has their meaning): {fields}; and params.NAME."


def dumps(schema: Schema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
