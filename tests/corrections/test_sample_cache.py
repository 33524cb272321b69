"""The corrections area's sample cache holds a bounded number of tenants."""

from __future__ import annotations

import pytest

from firekeeper.areas.corrections.area import MAX_TENANTS, SampleCache
from firekeeper.store import Store
from firekeeper.store.counting import StatementCount


def _asked(store: Store, cache: SampleCache, *tenants: str) -> int:
    """Statements sent while ``tenants`` are asked for, in order (0: all were cached)."""
    with StatementCount(store.engine) as count, store.engine.connect() as conn:
        for tenant in tenants:
            cache.get(conn, tenant)
    return count.statements


def test_the_least_recently_asked_tenant_leaves_first(store: Store) -> None:
    cache = SampleCache(ttl_seconds=60, max_tenants=2, monotonic=lambda: 0.0)
    assert _asked(store, cache, "a", "b", "a") > 0
    assert cache.size() == 2
    assert _asked(store, cache, "c") > 0  # b was asked for least recently: it leaves
    assert cache.size() == 2
    assert _asked(store, cache, "a", "c") == 0  # both still held
    assert _asked(store, cache, "b") > 0  # read from the store again
    assert cache.size() == 2


def test_the_default_bound_holds_over_many_tenants(store: Store) -> None:
    cache = SampleCache(ttl_seconds=60, monotonic=lambda: 0.0)
    _asked(store, cache, *(f"t{n}" for n in range(MAX_TENANTS + 50)))
    assert cache.size() == MAX_TENANTS


def test_a_bound_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_tenants must be at least 1"):
        SampleCache(max_tenants=0)
