"""What the Outbox and Health services need from the store: the lifecycle port.

Every method blocks on the database; the API runs them on its worker threads.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from firekeeper.areas.lifecycle import health_queries as health_store
from firekeeper.areas.lifecycle.area import effective_theme, has_theme
from firekeeper.areas.lifecycle.outbox import Outbox
from firekeeper.areas.lifecycle.pure.health import judge
from firekeeper.areas.lifecycle.queries import chat_activity, load_activity
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.domain.health import ChatHealth, HealthStatus
from firekeeper.domain.outbox import OutboxItem
from firekeeper.errors import ChatNotFound
from firekeeper.pipeline import RulesetHolder
from firekeeper.store import Store
from firekeeper.store.db import unavailable_on_db_errors
from firekeeper.store.models import chat_from_row, chats


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Wakeups:
    """Wakes the outbox streams when new items may be there. ``notify`` may be called
    from any thread; ``wait`` from coroutines of any event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()

    def notify(self) -> None:
        with self._lock:
            waiters = list(self._waiters)
        for loop, event in waiters:
            if not loop.is_closed():
                loop.call_soon_threadsafe(event.set)

    async def wait(self, timeout: float) -> bool:
        """True when notified within ``timeout`` seconds."""
        waiter = (asyncio.get_running_loop(), asyncio.Event())
        with self._lock:
            self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter[1].wait(), timeout)
            return True
        except TimeoutError:
            return False
        finally:
            with self._lock:
                self._waiters.discard(waiter)


class LifecycleService:
    """Outbox deliveries and chat health over one store. Thread-safe."""

    def __init__(
        self,
        store: Store,
        rulesets: RulesetHolder | None = None,
        *,
        clock: Callable[[], datetime] = _utcnow,
        lease_seconds: float = 30.0,
    ) -> None:
        self._store = store
        self._rulesets = rulesets
        self._clock = clock
        self.lease_seconds = lease_seconds
        self.outbox = Outbox(store.engine)
        self.wakeups = Wakeups()

    # ------------------------------------------------------------ outbox

    def claim(
        self, platform: Platform, tenant: str, owner: str, chat_ids: Sequence[str] = ()
    ) -> list[OutboxItem]:
        return self.outbox.claim(
            platform,
            tenant,
            owner,
            now=self._clock(),
            lease_seconds=self.lease_seconds,
            chat_ids=chat_ids,
        )

    def renew(self, owner: str) -> int:
        return self.outbox.renew(owner, now=self._clock(), lease_seconds=self.lease_seconds)

    def release(self, owner: str) -> int:
        return self.outbox.release(owner)

    def ack(self, platform: Platform, tenant: str, ids: Sequence[int]) -> int:
        return self.outbox.ack(platform, tenant, ids, now=self._clock())

    def pending(self) -> int:
        return self.outbox.pending()

    # ------------------------------------------------------------ health

    def chat_health(self, key: ChatKey, now: datetime | None = None) -> ChatHealth:
        """Measured now; ``ChatNotFound`` for a chat the store has never seen."""
        at = now or self._clock()
        engine = self._store.engine
        with (
            unavailable_on_db_errors(engine, f"measure the health of chat {key}"),
            engine.connect() as conn,
            conn.begin(),
        ):
            row = (
                conn.execute(
                    sa.select(chats).where(
                        chats.c.platform == key.platform.value,
                        chats.c.tenant == key.tenant,
                        chats.c.chat_id == key.chat_id,
                    )
                )
                .mappings()
                .one_or_none()
            )
            if row is None:
                raise ChatNotFound(str(key))
            chat = chat_from_row(row)
            activity = load_activity(conn, int(row["id"]))
            metrics = health_store.measure(conn, int(row["id"]), chat, activity, at)
        theme = effective_theme(self._rulesets, chat)
        return judge(key, chat.kind, metrics, has_theme=has_theme(theme))

    def status_counts(self) -> dict[HealthStatus, int]:
        """Chats by the health status their latest tick found (chats never ticked: none)."""
        engine = self._store.engine
        with unavailable_on_db_errors(engine, "count chats by health"), engine.connect() as conn:
            rows = conn.execute(
                sa.select(chat_activity.c.health_status, sa.func.count()).group_by(
                    chat_activity.c.health_status
                )
            ).all()
        counts = dict.fromkeys(HealthStatus, 0)
        for status, n in rows:
            if status in HealthStatus._value2member_map_:
                counts[HealthStatus(status)] += int(n)
        return counts
