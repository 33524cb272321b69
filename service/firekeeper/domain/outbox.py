"""An action waiting in the outbox for an adapter. Pure data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from firekeeper.domain.chats import ChatKey
from firekeeper.domain.decisions import Action


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: str  # stable and unique; adapters drop ids they have already carried out
    key: ChatKey
    event_id: str  # the event (a chat.tick) whose decision asked for the action
    action: Action
    created_at: datetime
    attempt: int  # 1 on the first delivery, more on redeliveries
