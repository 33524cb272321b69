"""The engine port: the only module that imports durable-rules.

A :class:`Matcher` registers one durable ruleset (process-unique name, one
sid ``"0"``) and answers which of its rules fire for a fact: it asserts the
fact with a unique id, drains the actions (``start_action_for_state`` then
``complete_and_start_action`` until none is left), and retracts the fact.
Facts, not events, so every matching rule fires, not only the first.

No ``Host``, timers, callbacks or ``delete_state``. The C engine is not
re-entrant and never releases the GIL, so every call goes through one
module-level lock. Registered rulesets are never freed by the engine: a hot
reload leaks the old ones (small; see ``firekeeper.rules.lowering`` for the
measured limits the compiler keeps us under).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import threading
from collections.abc import Mapping
from decimal import Decimal

from firekeeper.runtime import durable_rules_hint

try:
    import durable_rules_engine
except ImportError as exc:  # at start, with what to do; not a bare linker error
    raise ImportError(durable_rules_hint(str(exc))) from exc

_LOCK = threading.Lock()
_names = itertools.count(1)
_ids = itertools.count(1)


class EngineError(RuntimeError):
    """durable-rules refused a ruleset or a fact (a compiler bug: limits are checked earlier)."""


class Matcher:
    __slots__ = ("_handle", "name")

    def __init__(self, definitions: Mapping[str, object]) -> None:
        text = dumps(definitions)
        with _LOCK:
            self.name = f"firekeeper-{next(_names)}"
            try:
                self._handle = durable_rules_engine.create_ruleset(self.name, text)
            except durable_rules_engine.error as exc:
                raise EngineError(f"the engine rejected the ruleset: {exc}") from None

    def match(self, fact: Mapping[str, object]) -> frozenset[str]:
        """Names of the rules that fire for ``fact`` (which must not carry ``id``/``sid``)."""
        handle = self._handle
        with _LOCK:
            fact_id = f"f{next(_ids)}"
            body = dumps({**fact, "id": fact_id, "sid": "0"})
            tail = f',"id":"{fact_id}","sid":"0"}}}}}}'
            fired: set[str] = set()
            try:
                code, state = durable_rules_engine.assert_fact(handle, body)
                if code in (0, 3):
                    result = durable_rules_engine.start_action_for_state(handle, state)
                    message = result[1] if result else None
                    while message:
                        fired.update(_fired(message, fact_id, tail))
                        message = durable_rules_engine.complete_and_start_action(handle, state)
            except durable_rules_engine.error as exc:
                raise EngineError(f"the engine failed on a fact: {exc}") from None
            finally:
                with contextlib.suppress(durable_rules_engine.error):
                    durable_rules_engine.retract_fact(handle, body)
        return frozenset(fired)


def _fired(message: str, fact_id: str, tail: str) -> list[str]:
    """Rule names in an action message that are about our fact.

    The engine echoes the asserted JSON: ``{"<rule>":{"m":<fact as sent>}}``, so the
    common case needs no parsing; anything else is parsed properly.
    """
    end = message.find('":{"m":{')
    fast = message.startswith('{"') and message.endswith(tail) and end > 2
    if fast and message.count('{"m":') == 1:
        return [message[2:end]]
    return [name for name, payload in json.loads(message).items() if _fact_id(payload) == fact_id]


def _fact_id(payload: object) -> object:
    if isinstance(payload, Mapping):
        matched = payload.get("m")
        if isinstance(matched, Mapping):
            return matched.get("id")
    return None


_EXPONENT = re.compile(r"[0-9][eE][-+]?[0-9]")


def dumps(value: object) -> str:
    """JSON as the engine reads it: numbers never in exponent form, text as UTF-8."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    if _EXPONENT.search(text) is None:  # no float was written in exponent form
        return text
    out: list[str] = []
    _write(value, out)
    return "".join(out)


def _write(value: object, out: list[str]) -> None:
    if value is None or isinstance(value, bool | str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("the engine cannot compare NaN or infinity")
        text = repr(value)
        out.append(format(Decimal(text), "f") if "e" in text else text)
    elif isinstance(value, Mapping):
        out.append("{")
        for i, (key, item) in enumerate(value.items()):
            if i:
                out.append(",")
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _write(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot send {type(value).__name__} to the engine")
