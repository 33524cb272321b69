"""The fields the extra area adds to the fact, as an area declares them (in the service,
its ``pure/vocabulary.py``)."""

from __future__ import annotations

from firekeeper.domain.events import EventKind
from firekeeper.rules.vocabulary import Field

MSG = frozenset({EventKind.MESSAGE_POSTED})

FIELDS: tuple[Field, ...] = (
    Field("extra.before", "int", "messages the extra area kept in the chat before this one", MSG),
    Field("extra.label", "string", "how the extra area was built: cached or tools", MSG),
)
