"""``evolve``: a frozen value with some fields changed, for the hot path.

``dataclasses.replace`` looks up the class's fields and runs ``__init__`` again on
every call; for the records the pure core copies on every event (a chat, a member,
the context) that is most of the cost of a state-change stage. ``evolve`` copies
the slots of a frozen, slotted dataclass without ``__post_init__`` directly, and
falls back to ``dataclasses.replace`` for any other value. Same result either way:
a new value, the original untouched.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

_T = TypeVar("_T")
_setattr = object.__setattr__
_slots: dict[type, tuple[str, ...] | None] = {}


def _copyable(cls: type) -> tuple[str, ...] | None:
    """The field names of a class whose values ``evolve`` may copy slot by slot."""
    if cls not in _slots:
        fields = dataclasses.fields(cls) if dataclasses.is_dataclass(cls) else ()
        params = getattr(cls, "__dataclass_params__", None)
        names = tuple(f.name for f in fields)
        simple = (
            bool(fields)
            and params is not None
            and params.frozen
            and getattr(cls, "__slots__", None) == names
            and not hasattr(cls, "__post_init__")
            and all(f.init for f in fields)
        )
        _slots[cls] = names if simple else None
    return _slots[cls]


def evolve(value: _T, **changes: Any) -> _T:
    """``value`` with ``changes`` (field names to new values); unknown names raise TypeError."""
    cls = value.__class__
    names = _copyable(cls)
    if names is None:
        return dataclasses.replace(value, **changes)  # type: ignore[type-var]
    new = object.__new__(cls)
    for name in names:
        _setattr(new, name, changes.pop(name) if name in changes else getattr(value, name))
    if changes:
        raise TypeError(f"{cls.__name__} has no field {next(iter(changes))!r}")
    return new
