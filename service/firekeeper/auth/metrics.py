"""Metrics of authentication and fair share, on the service's registry.

    firekeeper_auth_rejections_total{credential, reason}   calls refused; reason is
        unauthenticated, permission_denied, rate_limited or concurrency; credential is
        a name from the credentials file ("" when the caller is not known)
    firekeeper_credential_rate_limit{credential}            units per second
    firekeeper_credential_burst{credential}                 bucket size
    firekeeper_credential_max_concurrent{credential}        unary calls in flight allowed

Labels are bounded by the credentials file; never a chat or user id.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from firekeeper.auth.credentials import Credentials, Limits

REASONS = ("unauthenticated", "permission_denied", "rate_limited", "concurrency")


class AuthMetrics:
    def __init__(self, registry: CollectorRegistry, defaults: Limits) -> None:
        self._defaults = defaults
        self.rejections = Counter(
            "firekeeper_auth_rejections_total",
            "Calls refused by authentication, authorisation or fair share",
            ["credential", "reason"],
            registry=registry,
        )
        self.rate = Gauge(
            "firekeeper_credential_rate_limit",
            "Each credential's rate limit, units per second",
            ["credential"],
            registry=registry,
        )
        self.burst = Gauge(
            "firekeeper_credential_burst",
            "Each credential's token bucket size",
            ["credential"],
            registry=registry,
        )
        self.concurrent = Gauge(
            "firekeeper_credential_max_concurrent",
            "Each credential's limit of unary calls in flight",
            ["credential"],
            registry=registry,
        )
        for reason in REASONS:
            self.rejections.labels("", reason)

    def credentials_changed(self, credentials: Credentials) -> None:
        """Label sets follow the file: a rotated-out credential's series go away."""
        for gauge in (self.rate, self.burst, self.concurrent):
            gauge.clear()
        creds = {c.name: c for c in (*credentials.by_token.values(), *credentials.by_cert.values())}
        for name, cred in creds.items():
            limits = cred.limits(self._defaults)
            self.rate.labels(name).set(limits.rate)
            self.burst.labels(name).set(limits.burst)
            self.concurrent.labels(name).set(limits.concurrent)
            for reason in REASONS:
                self.rejections.labels(name, reason)

    def rejected(self, credential: str, reason: str) -> None:
        self.rejections.labels(credential, reason).inc()
