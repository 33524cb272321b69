"""Fair share: token buckets and concurrency per credential, on a fake clock."""

from __future__ import annotations

from firekeeper.auth.credentials import Limits
from firekeeper.auth.limits import FairShare

LIMITS = Limits(rate=10.0, burst=20.0, concurrent=2)


def test_the_bucket_refills_at_the_rate_and_says_how_long_to_wait() -> None:
    now = [0.0]
    share = FairShare(clock=lambda: now[0])
    assert share.acquire("a", LIMITS, 20, inflight=False) is None
    refusal = share.acquire("a", LIMITS, 5, inflight=False)
    assert refusal is not None and refusal.reason == "rate"
    assert abs(refusal.retry_after - 0.5) < 1e-9  # 5 units at 10/s
    assert share.acquire("b", LIMITS, 20, inflight=False) is None  # b has its own bucket
    now[0] = 0.5
    assert share.acquire("a", LIMITS, 5, inflight=False) is None


def test_a_cost_above_the_burst_is_capped_so_it_can_pass() -> None:
    share = FairShare(clock=lambda: 0.0)
    assert share.acquire("a", LIMITS, 500, inflight=False) is None


def test_calls_in_flight_are_capped_and_released() -> None:
    share = FairShare(clock=lambda: 0.0)
    assert share.acquire("a", LIMITS, 1, inflight=True) is None
    assert share.acquire("a", LIMITS, 1, inflight=True) is None
    third = share.acquire("a", LIMITS, 1, inflight=True)
    assert third is not None and third.reason == "concurrency"
    assert share.acquire("a", LIMITS, 1, inflight=False) is None  # streams are not counted
    share.release("a")
    assert share.inflight("a") == 1
    assert share.acquire("a", LIMITS, 1, inflight=True) is None
