"""Fair share: each credential's token bucket and its cap on calls in flight.

A call costs 1 unit (an EvaluateBatch 1 per event); the bucket holds up to
``burst`` units and refills at ``rate`` per second. A call the bucket cannot pay
for, or one past the credential's concurrent calls, is refused with the time
after which it would pass (RESOURCE_EXHAUSTED with ``google.rpc.RetryInfo``).
Server-streaming calls (the outbox stream) pay their unit but are not counted
as in flight: a stream lives as long as its adapter.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from firekeeper.auth.credentials import Limits


@dataclass(slots=True)
class _Bucket:
    limits: Limits
    tokens: float
    at: float
    inflight: int = 0


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: str  # "rate" or "concurrency"
    retry_after: float  # seconds
    message: str


class FairShare:
    """Thread-safe; one per server. Buckets are keyed by credential name."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}

    def acquire(self, name: str, limits: Limits, cost: int, *, inflight: bool) -> Refusal | None:
        """Take ``cost`` units (capped at the burst, so any call can pass eventually) and,
        when ``inflight``, one concurrency slot; or say why not and for how long."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is None or bucket.limits != limits:
                tokens = limits.burst if bucket is None else min(bucket.tokens, limits.burst)
                inflight_now = 0 if bucket is None else bucket.inflight
                bucket = _Bucket(limits, tokens, now, inflight_now)
                self._buckets[name] = bucket
            bucket.tokens = min(limits.burst, bucket.tokens + (now - bucket.at) * limits.rate)
            bucket.at = now
            if inflight and bucket.inflight >= limits.concurrent:
                return Refusal(
                    "concurrency",
                    0.05,
                    f"credential {name!r} has {bucket.inflight} calls in flight, its limit is "
                    f"{limits.concurrent}: wait for one to finish",
                )
            need = min(float(cost), limits.burst)
            if bucket.tokens < need:
                wait = (need - bucket.tokens) / limits.rate
                return Refusal(
                    "rate",
                    wait,
                    f"credential {name!r} is over its rate limit of {limits.rate:g} per second "
                    f"(burst {limits.burst:g}); retry in {wait:.3f} s",
                )
            bucket.tokens -= need
            if inflight:
                bucket.inflight += 1
            return None

    def release(self, name: str) -> None:
        with self._lock:
            bucket = self._buckets.get(name)
            if bucket is not None and bucket.inflight > 0:
                bucket.inflight -= 1

    def inflight(self, name: str) -> int:
        with self._lock:
            bucket = self._buckets.get(name)
            return 0 if bucket is None else bucket.inflight
