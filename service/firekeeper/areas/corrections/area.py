"""The corrections area: admins' reported samples into the fact, and the per-rule action tally.

    load    (under the chat lock)  the tenant's labelled samples, from the in-memory
                                   cache (:class:`SampleCache`), messages only
    enrich  (pure)                 firekeeper.areas.corrections.pure.features.sections:
                                   message.reported_spam_match / reported_ham_match
    write   (same transaction)     one more decision with actions for each rule that
                                   returned one (``rule_action_counts``), the
                                   denominator of the false-positive rate

The cache keeps one immutable ``ReportedSamples`` per tenant. A correction stored
through this process invalidates its tenant at once (``SampleCache.invalidate``);
corrections stored by another replica are seen within ``ttl_seconds``: after that,
the next message of the tenant reads the tenant's newest correction id (one indexed
query) and reloads the samples only when it changed. It holds at most
``max_tenants`` tenants (``MAX_TENANTS``), the least recently asked for leaving first
(read again from the store when asked for again), so its memory is bounded however
many tenants a credential with ``tenants: "*"`` sends.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from firekeeper.areas.corrections import queries as q
from firekeeper.areas.corrections.pure.features import MAX_SAMPLES, ReportedSamples, sections
from firekeeper.domain.chats import ChatContext
from firekeeper.domain.events import Event, MessagePosted
from firekeeper.rules.evaluate import Evaluation
from firekeeper.store import ChatTx

NAME = "corrections"
DEFAULT_TTL_SECONDS = 5.0
MAX_TENANTS = 256  # tenants whose samples the cache holds (each up to MAX_SAMPLES)


class SampleCache:
    """Each tenant's reported samples, shared by the pipeline's threads."""

    def __init__(
        self,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        limit: int = MAX_SAMPLES,
        max_tenants: int = MAX_TENANTS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_tenants < 1:
            raise ValueError(f"max_tenants must be at least 1, not {max_tenants}")
        self._ttl = ttl_seconds
        self._limit = limit
        self._max_tenants = max_tenants
        self._monotonic = monotonic
        self._lock = threading.Lock()
        # tenant -> (checked at, revision, samples), the least recently asked for first
        self._entries: OrderedDict[str, tuple[float, int, ReportedSamples]] = OrderedDict()

    def get(self, conn: Connection, tenant: str) -> ReportedSamples:
        now = self._monotonic()
        with self._lock:
            entry = self._entries.get(tenant)
            if entry is not None:
                self._entries.move_to_end(tenant)
        if entry is not None and now - entry[0] < self._ttl:
            return entry[2]
        current = q.revision(conn, tenant)
        if entry is not None and entry[1] == current:
            samples = entry[2]
        else:
            samples = ReportedSamples.of(q.samples(conn, tenant, self._limit)) if current else _NONE
        with self._lock:
            self._entries[tenant] = (now, current, samples)
            self._entries.move_to_end(tenant)
            while len(self._entries) > self._max_tenants:
                self._entries.popitem(last=False)
        return samples

    def size(self) -> int:
        """How many tenants' samples the cache holds now (at most ``max_tenants``)."""
        with self._lock:
            return len(self._entries)

    def invalidate(self, tenant: str) -> None:
        with self._lock:
            self._entries.pop(tenant, None)


_NONE = ReportedSamples()


class CorrectionsArea:
    """One per process; its cache is shared with ``CorrectionsAdmin`` (invalidation)."""

    name = NAME

    def __init__(self, cache: SampleCache | None = None) -> None:
        self.cache = cache if cache is not None else SampleCache()

    def load(self, tx: ChatTx, event: Event, ctx: ChatContext) -> ReportedSamples | None:
        if not isinstance(event.payload, MessagePosted):
            return None
        return self.cache.get(tx.connection, event.envelope.tenant)

    def enrich(
        self, event: Event, ctx: ChatContext, loaded: ReportedSamples | None
    ) -> Mapping[str, Mapping[str, Any]]:
        return sections(event, loaded)

    def write(
        self, tx: ChatTx, event: Event, loaded: ReportedSamples | None, result: Evaluation
    ) -> None:
        decision = result.decision
        if decision.actions:
            rules = [a.rule_id for a in decision.actions if a.rule_id]
            kept = tx.pending(q.ActionCounts)
            kept.add(tx.chat_pk, decision.decided_at, decision.ruleset, rules)
