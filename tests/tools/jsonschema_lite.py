"""Just enough of JSON Schema (2020-12) to check the schemas we ship, with no dependency.

Supports: type, enum, const, pattern, minimum, minLength, minItems, properties,
required, additionalProperties, propertyNames, items, anyOf, allOf, if/then and
local $ref. Returns the failures as "path: reason" strings.
"""

from __future__ import annotations

import re
from typing import Any

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "boolean": bool,
    "null": type(None),
}


def _is(value: object, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def validate(
    value: object, schema: dict[str, Any], root: dict[str, Any], path: str = ""
) -> list[str]:
    out: list[str] = []
    where = path or "<root>"
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        out += validate(value, root["$defs"][name], root, path)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            return [*out, f"{where}: expected {'/'.join(kinds)}, got {value!r}"]
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{where}: {value!r} is not one of {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        out.append(f"{where}: expected {schema['const']!r}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append(f"{where}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            out.append(f"{where}: too short")
    if _is(value, "number") and "minimum" in schema and value < schema["minimum"]:  # type: ignore[operator]
        out.append(f"{where}: below {schema['minimum']}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append(f"{where}: too few items")
        if "items" in schema:
            for i, item in enumerate(value):
                out += validate(item, schema["items"], root, f"{path}[{i}]")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                out.append(f"{where}: missing {key!r}")
        for key, item in value.items():
            sub = f"{path}.{key}" if path else str(key)
            if "propertyNames" in schema:
                out += validate(key, schema["propertyNames"], root, sub)
            if key in props:
                out += validate(item, props[key], root, sub)
            elif schema.get("additionalProperties") is False:
                out.append(f"{sub}: unknown key")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += validate(item, schema["additionalProperties"], root, sub)
    if "anyOf" in schema:
        results = [validate(value, s, root, path) for s in schema["anyOf"]]
        if all(results):  # report the alternative of the value's own type
            typed = [r for r in results if not r[0].startswith(f"{where}: expected ")]
            out += min(typed or results, key=len)
    for sub_schema in schema.get("allOf", []):
        out += validate(value, sub_schema, root, path)
    if "if" in schema and not validate(value, schema["if"], root, path) and "then" in schema:
        out += validate(value, schema["then"], root, path)
    return out
