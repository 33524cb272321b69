"""The engine port: the only module that imports durable-rules.

A :class:`Matcher` registers one durable ruleset (process-unique name, one
sid ``"0"``) and answers which of its rules fire for a fact: it asserts the
fact with a unique id, drains the actions (``start_action_for_state`` then
``complete_and_start_action`` until none is left), and retracts the fact.
Facts, not events, so every matching rule fires, not only the first.

The fact is retracted by its id alone (``{"id":...,"sid":"0"}``): the engine's
retraction looks the stored fact up by its id and deletes it with every frame
that holds it; it reads nothing else of the message it is given, which it
would parse all the same (the second parse of each fact was a fifth of a
match's instructions). ``tests/rules/test_engine.py`` checks the state holds no
fact after matches.

No ``Host``, timers or callbacks. The C engine is not re-entrant and never
releases the GIL, so every match goes through one module-level lock.

Freeing. The engine never frees a ruleset on its own, and one registered
ruleset with its state costs about 2 MB (the default set: 7 rulesets, about
14 MB per hot reload, measured). A ruleset is freed once its :class:`Matcher`
is gone: Python's reference count says when no evaluation, index or tool can
still use it (each evaluation holds the ruleset it chose). The finalizer only
queues the handle; the next engine call frees it under the lock (never inside
another match). The engine reuses handle numbers, so freeing a handle that
something could still call would silently match against another ruleset; tying
the free to the object's life makes that impossible.

Freeing takes ``delete_state`` then ``delete_ruleset`` (``delete_ruleset``
alone leaves the sid's state, most of the 2 MB). ``delete_state`` frees the
state's action context, which the engine leaves uninitialised until an action
first completes on that state (the crash in the field notes). So every matcher
is *primed* when it is created: a rule of our own (``fk_prime``, on an event
kind no event has) fires once and is drained, which sets the context and
clears it to NULL; after that ``delete_state`` only frees what the engine
allocated. Creating a ruleset is one C call that touches only the new ruleset
and the engine's handle table, so it runs without the engine lock (it still
holds the GIL, as every engine call does: one default ruleset takes 12-28 ms).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import re
import threading
import weakref
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
_live: set[int] = set()  # handles registered and not freed yet
_released: list[int] = []  # handles whose Matcher is gone, freed at the next engine call

PRIME_RULE = "fk_prime"
_PRIME_KIND = "__firekeeper_prime"
_PRIME_FACT = '{"event":{"kind":"' + _PRIME_KIND + '"},"id":"' + PRIME_RULE + '","sid":"0"}'
_PRIME_TAIL = ',"id":"' + PRIME_RULE + '","sid":"0"}}}'
_PRIME_RETRACT = '{"id":"' + PRIME_RULE + '","sid":"0"}'
_PRIME_DEFINITION = {"all": [{"m": {"$and": [{"event.kind": _PRIME_KIND}]}}]}


class EngineError(RuntimeError):
    """durable-rules refused a ruleset or a fact (a compiler bug: limits are checked earlier)."""


class Matcher:
    __slots__ = ("__weakref__", "_handle", "name")

    def __init__(self, definitions: Mapping[str, object]) -> None:
        if PRIME_RULE in definitions:
            raise EngineError(f"the rule name {PRIME_RULE!r} is the engine port's own")
        text = dumps({**definitions, PRIME_RULE: _PRIME_DEFINITION})
        self.name = f"firekeeper-{next(_names)}"
        try:  # no engine lock: see the module docstring
            handle = durable_rules_engine.create_ruleset(self.name, text)
        except durable_rules_engine.error as exc:
            raise EngineError(f"the engine rejected the ruleset: {exc}") from None
        with _LOCK:
            _free_released()
            _live.add(handle)
            try:
                primed = _drain(handle, _PRIME_FACT, PRIME_RULE, _PRIME_TAIL, _PRIME_RETRACT)
            except durable_rules_engine.error as exc:  # never seen; the state may be unset
                _free(handle, state=False)
                raise EngineError(f"the engine failed to prime the ruleset: {exc}") from None
            if primed != {PRIME_RULE}:  # never seen: the state's context would stay unset
                _free(handle, state=False)
                raise EngineError(f"priming the ruleset fired {sorted(primed)}")
        self._handle = handle
        weakref.finalize(self, _released.append, handle)

    def match(self, fact: Mapping[str, object]) -> frozenset[str]:
        """Names of the rules that fire for ``fact`` (which must not carry ``id``/``sid``)."""
        text = dumps(fact)
        return self.match_members(text[1:-1])

    def match_members(self, members: str) -> frozenset[str]:
        """:meth:`match` on a fact already serialised: ``members`` is its JSON object
        without the braces (``"event":{...},"chat":{...}``), as ``dumps`` writes it."""
        handle = self._handle
        with _LOCK:
            if _released:
                _free_released()
            fact_id = f"f{next(_ids)}"
            tail = f',"id":"{fact_id}","sid":"0"}}}}}}'
            body = "{" + members + tail[:-2] if members else "{" + tail[1:-2]
            try:
                fired = _drain(handle, body, fact_id, tail, '{"id":"' + fact_id + '","sid":"0"}')
            except durable_rules_engine.error as exc:
                raise EngineError(f"the engine failed on a fact: {exc}") from None
        fired.discard(PRIME_RULE)
        return frozenset(fired)


def _drain(handle: int, body: str, fact_id: str, tail: str, retract: str) -> set[str]:
    """Assert, collect every rule fired for ``fact_id``, retract (``retract``: the fact's
    id and sid, all the engine reads to retract it; the caller holds the lock)."""
    fired: set[str] = set()
    try:
        code, state = durable_rules_engine.assert_fact(handle, body)
        if code in (0, 3):
            result = durable_rules_engine.start_action_for_state(handle, state)
            message = result[1] if result else None
            while message:
                fired.update(_fired(message, fact_id, tail))
                message = durable_rules_engine.complete_and_start_action(handle, state)
    finally:
        with contextlib.suppress(durable_rules_engine.error):
            durable_rules_engine.retract_fact(handle, retract)
    return fired


def _free(handle: int, *, state: bool = True) -> None:
    """Free one ruleset and its state (caller holds the lock)."""
    if state:
        with contextlib.suppress(durable_rules_engine.error):
            durable_rules_engine.delete_state(handle, "0")
    with contextlib.suppress(durable_rules_engine.error):
        durable_rules_engine.delete_ruleset(handle)
    _live.discard(handle)


def _free_released() -> int:
    freed = 0
    while _released:
        _free(_released.pop())
        freed += 1
    return freed


def release_unused() -> int:
    """Free now the rulesets whose matchers are gone (the next engine call would);
    returns how many were freed."""
    with _LOCK:
        return _free_released()


def registered() -> int:
    """Engine rulesets registered and not freed yet (the matchers alive, and any
    released since the last engine call)."""
    with _LOCK:
        return len(_live)


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
