"""When a failed call is sent again, and how long the client waits first.

Retrying is safe because every Governance call is idempotent: an event is
decided once per event id (a retry gets the stored decision, ``replayed``
true, and changes no state), a registration sent twice leaves the same chat,
and the reads change nothing. So a call is retried on the codes that mean
"not done, or not known to be done, and worth another try" and on no other.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import grpc

RETRYABLE = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,  # no connection, server shutting down, store unreachable
        grpc.StatusCode.DEADLINE_EXCEEDED,  # the attempt's deadline passed
        grpc.StatusCode.RESOURCE_EXHAUSTED,  # server or proxy overloaded
    }
)


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter between attempts of one call.

    Before retry ``n`` (1 for the first retry) the client waits
    ``min(maximum, initial * multiplier ** (n - 1))`` seconds, less a random
    fraction of up to ``jitter`` of it (0: no jitter; 1: "full jitter", any
    wait from 0 up). Jitter keeps many adapters from retrying in step after an
    outage.
    """

    initial: float = 0.1
    maximum: float = 5.0
    multiplier: float = 2.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        for name in ("initial", "maximum", "multiplier", "jitter"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"Backoff.{name} must be a finite number >= 0, got {value!r}")
        if self.multiplier < 1:
            raise ValueError(f"Backoff.multiplier must be >= 1, got {self.multiplier!r}")
        if self.jitter > 1:
            raise ValueError(f"Backoff.jitter must be between 0 and 1, got {self.jitter!r}")

    def delay(self, retry: int, rng: random.Random) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        exponent = min(max(retry - 1, 0), 64)  # a long outage must not overflow the float
        base = min(self.maximum, self.initial * self.multiplier**exponent)
        return base * (1.0 - self.jitter * rng.random())


def check_settings(timeout: float | None, retries: int) -> None:
    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a number of seconds > 0 or None, got {timeout!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an integer >= 0, got {retries!r}")


def should_retry(code: grpc.StatusCode, attempt: int, retries: int) -> bool:
    """Whether attempt number ``attempt`` (1-based), failed with ``code``, is retried."""
    return code in RETRYABLE and attempt <= retries
