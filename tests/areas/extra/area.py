"""The extra area: the chat's earlier messages counted into the fact, each message kept."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from firekeeper.domain.chats import ChatContext
from firekeeper.domain.events import Event, MessagePosted
from firekeeper.rules.evaluate import Evaluation
from firekeeper.rules.textchecks import Check
from firekeeper.store import ChatTx
from tests.areas.extra.metrics import ExtraMetrics
from tests.areas.extra.tables import seen


class ExtraArea:
    name = "extra"

    def __init__(self, label: str, metrics: ExtraMetrics | None = None) -> None:
        self.label = label  # from the context it was built with
        self.metrics = metrics  # its own, when the context has metrics (the service)

    def load(self, tx: ChatTx, event: Event, ctx: ChatContext) -> int | None:
        if not isinstance(event.payload, MessagePosted):
            return None
        count = sa.select(sa.func.count()).select_from(seen).where(seen.c.chat_pk == tx.chat_pk)
        return int(tx.connection.execute(count).scalar_one())

    def enrich(
        self, event: Event, ctx: ChatContext, loaded: int | None
    ) -> Mapping[str, Mapping[str, Any]]:
        return {} if loaded is None else {"extra": {"before": loaded, "label": self.label}}

    def write(self, tx: ChatTx, event: Event, loaded: int | None, result: Evaluation) -> None:
        if loaded is None:
            return
        tx.connection.execute(
            seen.insert().values(
                chat_pk=tx.chat_pk,
                event_id=event.envelope.event_id,
                at=event.envelope.occurred_at,
                before=result.fact["extra"]["before"],  # read back from the fact: enrich ran
            )
        )
        if self.metrics is not None:
            tx.after_commit(self.metrics.messages_seen.inc)


def shouting(text: str) -> bool:
    """Its check on user text: a message all in capitals."""
    letters = [c for c in text[:4096] if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


TEXT_CHECKS: tuple[Check, ...] = (Check("extra_shouting", __name__, shouting),)
