"""The extra area's metrics: one counter, on the service's registry."""

from __future__ import annotations

from prometheus_client import Counter

from firekeeper.metrics import Metrics


class ExtraMetrics:
    def __init__(self, metrics: Metrics) -> None:
        self.messages_seen = Counter(
            "firekeeper_extra_messages_seen",
            "Messages the extra area kept.",
            registry=metrics.registry,
        )
