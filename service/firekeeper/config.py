"""Settings, read once from an environment mapping and passed down.

No module reads ``os.environ`` on its own: the CLI calls
``Settings.from_env(os.environ)`` and applies its flags with
``dataclasses.replace(settings, grpc_address=...)``. Every construction is
validated; a bad value raises ``ConfigError`` naming the variable.

    FIREKEEPER_STORE_URL           SQLAlchemy URL   sqlite:///./firekeeper-data/firekeeper.db
    FIREKEEPER_GRPC_ADDRESS        host:port        127.0.0.1:50051 (port 0: any free port)
    FIREKEEPER_METRICS_PORT        port             9464 (0: any free port; -1 or off: disabled)
    FIREKEEPER_METRICS_HOST        host             127.0.0.1 (0.0.0.0 to be scraped from outside)
    FIREKEEPER_RULESETS_DIR        directory        empty: the packaged rulesets
    FIREKEEPER_LOG_FORMAT          text | json      text
    FIREKEEPER_LOG_LEVEL           level name       info
    FIREKEEPER_MAX_MESSAGE_BYTES   bytes            4194304 (4 MiB), each way
    FIREKEEPER_GRACE_SECONDS       seconds          10: how long shutdown waits for calls in flight
    FIREKEEPER_DRAIN_SECONDS       seconds          5: on SIGTERM, how long health reads NOT_SERVING
                                                    while calls are still accepted, before the
                                                    grace period starts (0: no drain)
    FIREKEEPER_WORKERS             threads          8: evaluations running at once
    FIREKEEPER_RELOAD_SECONDS      seconds          5: how often the rulesets directory is checked
                                                    for changes (hot reload); 0 disables it
    FIREKEEPER_RELOAD_MEMORY_MB    MiB              512: a changed ruleset set is first compiled
                                                    in a child process limited to this much
                                                    address space; 0: in the server only
    FIREKEEPER_RELOAD_TIMEOUT_SECONDS seconds       60: the child's time limit
    FIREKEEPER_PHISHING_DOMAINS    file path        empty: none; a list of phishing domains, one a
                                                    line (message.phishing_links), read at start
    FIREKEEPER_TICK_SECONDS        seconds          3600: the scheduler's chat.tick period
    FIREKEEPER_SCHEDULER           on | off         on: this replica may run the scheduler (the
                                                    one holding the database lock runs it)
    FIREKEEPER_OUTBOX_LEASE_SECONDS seconds         30: an unacknowledged outbox item whose stream
                                                    died is sent again after this long
    FIREKEEPER_OUTBOX_POLL_SECONDS seconds          1: how often an idle outbox stream looks for
                                                    items another replica made
    FIREKEEPER_CREDENTIALS         file path        empty: no authentication (loopback only); the
                                                    credentials file (firekeeper.auth), re-read
                                                    when it changes
    FIREKEEPER_TLS_CERT, _KEY      file paths       empty: plaintext; the server certificate chain
                                                    and key (PEM), re-read when they change
    FIREKEEPER_TLS_CLIENT_CA       file path        empty: no client certificates; else mutual TLS:
                                                    clients must present a certificate it signed
    FIREKEEPER_INSECURE            on | off         off: a non-loopback address without TLS and
                                                    credentials refuses to start; on serves anyway
    FIREKEEPER_RATE_LIMIT          units/second     200: each credential's token bucket refill (a
                                                    call costs 1, a batch 1 per event)
    FIREKEEPER_RATE_BURST          units            1000: each credential's bucket size
    FIREKEEPER_MAX_CONCURRENT      calls            4: each credential's unary calls in flight
    FIREKEEPER_CREDENTIALS_CHECK_SECONDS seconds    1: how often the credentials file is checked
    FIREKEEPER_HEALTH_ADDRESS      host:port        empty: none; a second, plaintext port serving
                                                    only grpc.health (for probes that cannot do TLS)
    FIREKEEPER_DECISION_RETENTION_DAYS days         30: decisions (and so replays of retried
                                                    events, export and replay) are kept this
                                                    long; older events are refused; 0: forever
    FIREKEEPER_EVALUATION_BUDGET_SECONDS seconds    0.25: how long one event's feature stages may
                                                    take before the rest skip their text checks
    FIREKEEPER_SPAM_MODEL          file path | off  empty: the shipped spam model; a file written
                                                    by firekeeper train; off: none
                                                    (message.spam_score absent), read at start
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from firekeeper.logs import FORMATS, parse_level

ENV = {
    "store_url": "FIREKEEPER_STORE_URL",
    "grpc_address": "FIREKEEPER_GRPC_ADDRESS",
    "metrics_port": "FIREKEEPER_METRICS_PORT",
    "metrics_host": "FIREKEEPER_METRICS_HOST",
    "rulesets_dir": "FIREKEEPER_RULESETS_DIR",
    "log_format": "FIREKEEPER_LOG_FORMAT",
    "log_level": "FIREKEEPER_LOG_LEVEL",
    "max_message_bytes": "FIREKEEPER_MAX_MESSAGE_BYTES",
    "grace_seconds": "FIREKEEPER_GRACE_SECONDS",
    "drain_seconds": "FIREKEEPER_DRAIN_SECONDS",
    "workers": "FIREKEEPER_WORKERS",
    "reload_seconds": "FIREKEEPER_RELOAD_SECONDS",
    "reload_memory_mb": "FIREKEEPER_RELOAD_MEMORY_MB",
    "reload_timeout_seconds": "FIREKEEPER_RELOAD_TIMEOUT_SECONDS",
    "phishing_domains": "FIREKEEPER_PHISHING_DOMAINS",
    "tick_seconds": "FIREKEEPER_TICK_SECONDS",
    "scheduler": "FIREKEEPER_SCHEDULER",
    "outbox_lease_seconds": "FIREKEEPER_OUTBOX_LEASE_SECONDS",
    "outbox_poll_seconds": "FIREKEEPER_OUTBOX_POLL_SECONDS",
    "credentials_file": "FIREKEEPER_CREDENTIALS",
    "tls_cert": "FIREKEEPER_TLS_CERT",
    "tls_key": "FIREKEEPER_TLS_KEY",
    "tls_client_ca": "FIREKEEPER_TLS_CLIENT_CA",
    "insecure": "FIREKEEPER_INSECURE",
    "rate_limit": "FIREKEEPER_RATE_LIMIT",
    "rate_burst": "FIREKEEPER_RATE_BURST",
    "max_concurrent": "FIREKEEPER_MAX_CONCURRENT",
    "credentials_check_seconds": "FIREKEEPER_CREDENTIALS_CHECK_SECONDS",
    "health_address": "FIREKEEPER_HEALTH_ADDRESS",
    "decision_retention_days": "FIREKEEPER_DECISION_RETENTION_DAYS",
    "evaluation_budget_seconds": "FIREKEEPER_EVALUATION_BUDGET_SECONDS",
    "spam_model": "FIREKEEPER_SPAM_MODEL",
}


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names the variable."""

    def __init__(self, name: str, value: object, reason: str) -> None:
        self.name = name
        super().__init__(f"{ENV.get(name, name)}={value!r}: {reason}")


def split_address(address: str) -> tuple[str, int]:
    """``"127.0.0.1:50051"`` / ``"[::]:0"`` -> (host, port); ``ValueError`` when malformed."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError("expected host:port, port 0-65535, e.g. 127.0.0.1:50051 or [::]:50051")
    return host, int(port)


@dataclass(frozen=True, slots=True)
class Settings:
    store_url: str = "sqlite:///./firekeeper-data/firekeeper.db"
    grpc_address: str = "127.0.0.1:50051"
    metrics_port: int | None = 9464  # None: no metrics endpoint
    metrics_host: str = "127.0.0.1"
    rulesets_dir: str = ""  # empty: the rulesets that ship with Firekeeper
    log_format: str = "text"
    log_level: str = "info"
    max_message_bytes: int = 4 * 1024 * 1024
    grace_seconds: float = 10.0
    workers: int = 8
    reload_seconds: float = 5.0  # 0: no hot reload (the admin RPC still reloads)
    reload_memory_mb: int = 512  # 0: no child process check before a reload compiles
    reload_timeout_seconds: float = 60.0
    phishing_domains: str = ""  # path of a phishing domain list; empty: none
    tick_seconds: int = 3600  # the scheduler's period (chat.tick)
    scheduler: bool = True  # False: never run the scheduler on this replica
    outbox_lease_seconds: float = 30.0
    outbox_poll_seconds: float = 1.0
    credentials_file: str = ""  # empty: no authentication (refused off loopback)
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""  # set: mutual TLS
    insecure: bool = False  # serve a non-loopback address without TLS and credentials
    rate_limit: float = 200.0  # per credential, units per second (firekeeper.auth.limits)
    rate_burst: float = 1000.0
    max_concurrent: int = 4
    credentials_check_seconds: float = 1.0
    health_address: str = ""  # a plaintext port with grpc.health only; empty: none
    drain_seconds: float = 5.0  # on SIGTERM: NOT_SERVING, still accepting, this long
    decision_retention_days: int = 30  # 0: decisions are kept forever
    evaluation_budget_seconds: float = 0.25
    spam_model: str = ""  # empty: the shipped model; "off": none; else a model file

    def __post_init__(self) -> None:
        if not self.store_url.strip():
            raise ConfigError("store_url", self.store_url, "must not be empty")
        try:
            split_address(self.grpc_address)
        except ValueError as exc:
            raise ConfigError("grpc_address", self.grpc_address, str(exc)) from None
        if self.metrics_port is not None and not 0 <= self.metrics_port <= 65535:
            raise ConfigError("metrics_port", self.metrics_port, "must be 0..65535, -1 or off")
        if not self.metrics_host.strip():
            raise ConfigError("metrics_host", self.metrics_host, "must not be empty")
        if self.log_format not in FORMATS:
            raise ConfigError("log_format", self.log_format, f"must be one of {', '.join(FORMATS)}")
        try:
            parse_level(self.log_level)
        except ValueError as exc:
            raise ConfigError("log_level", self.log_level, str(exc)) from None
        if self.max_message_bytes < 1024:
            raise ConfigError("max_message_bytes", self.max_message_bytes, "must be at least 1024")
        if not (math.isfinite(self.grace_seconds) and self.grace_seconds >= 0):
            raise ConfigError("grace_seconds", self.grace_seconds, "must be a number >= 0")
        if not (math.isfinite(self.drain_seconds) and 0 <= self.drain_seconds <= 3600):
            raise ConfigError("drain_seconds", self.drain_seconds, "must be 0 to 3600 seconds")
        if not 1 <= self.workers <= 1024:
            raise ConfigError("workers", self.workers, "must be an integer from 1 to 1024")
        if not (math.isfinite(self.reload_seconds) and self.reload_seconds >= 0):
            raise ConfigError("reload_seconds", self.reload_seconds, "must be a number >= 0")
        if not (self.reload_memory_mb == 0 or 64 <= self.reload_memory_mb <= 1 << 20):
            raise ConfigError(
                "reload_memory_mb", self.reload_memory_mb, "must be 0 or 64 to 1048576"
            )
        if not (math.isfinite(self.reload_timeout_seconds) and self.reload_timeout_seconds > 0):
            raise ConfigError(
                "reload_timeout_seconds", self.reload_timeout_seconds, "must be a number > 0"
            )
        if not 1 <= self.tick_seconds <= 7 * 86_400:
            raise ConfigError("tick_seconds", self.tick_seconds, "must be 1 to 604800 seconds")
        for name in ("outbox_lease_seconds", "outbox_poll_seconds"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.01 <= value <= 3600):
                raise ConfigError(name, value, "must be a number of seconds from 0.01 to 3600")
        if self.health_address:
            try:
                split_address(self.health_address)
            except ValueError as exc:
                raise ConfigError("health_address", self.health_address, str(exc)) from None
        if bool(self.tls_cert) != bool(self.tls_key):
            name = "tls_key" if self.tls_cert else "tls_cert"
            raise ConfigError(name, "", "TLS needs both FIREKEEPER_TLS_CERT and FIREKEEPER_TLS_KEY")
        if self.tls_client_ca and not self.tls_cert:
            raise ConfigError("tls_client_ca", self.tls_client_ca, "mutual TLS needs a server cert")
        if not (math.isfinite(self.rate_limit) and self.rate_limit > 0):
            raise ConfigError("rate_limit", self.rate_limit, "must be a number > 0")
        if not (math.isfinite(self.rate_burst) and self.rate_burst >= 1):
            raise ConfigError("rate_burst", self.rate_burst, "must be a number >= 1")
        if not 1 <= self.max_concurrent <= 10_000:
            raise ConfigError("max_concurrent", self.max_concurrent, "must be 1 to 10000")
        if not (
            math.isfinite(self.credentials_check_seconds) and self.credentials_check_seconds >= 0
        ):
            raise ConfigError(
                "credentials_check_seconds", self.credentials_check_seconds, "must be >= 0"
            )
        if not 0 <= self.decision_retention_days <= 36_500:
            raise ConfigError(
                "decision_retention_days",
                self.decision_retention_days,
                "must be a whole number of days from 1 to 36500, or 0 to keep decisions forever",
            )
        budget = self.evaluation_budget_seconds
        if not (math.isfinite(budget) and 0.001 <= budget <= 60):
            raise ConfigError(
                "evaluation_budget_seconds", budget, "must be a number of seconds from 0.001 to 60"
            )

    @property
    def grpc_host(self) -> str:
        return split_address(self.grpc_address)[0]

    @property
    def grpc_port(self) -> int:
        return split_address(self.grpc_address)[1]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read ``FIREKEEPER_*`` variables; unset or empty ones keep their defaults."""
        values: dict[str, Any] = {}
        parsers: dict[str, tuple[Callable[[str], Any], str]] = {
            "metrics_port": (_metrics_port, "a port number, 0 for any free port, -1 or off"),
            "max_message_bytes": (int, "a whole number of bytes"),
            "grace_seconds": (float, "a number of seconds"),
            "workers": (int, "a whole number of threads"),
            "reload_seconds": (float, "a number of seconds (0 disables hot reload)"),
            "reload_memory_mb": (int, "a whole number of MiB (0: no child process)"),
            "reload_timeout_seconds": (float, "a number of seconds"),
            "tick_seconds": (int, "a whole number of seconds"),
            "scheduler": (_on_off, "on or off"),
            "outbox_lease_seconds": (float, "a number of seconds"),
            "outbox_poll_seconds": (float, "a number of seconds"),
            "insecure": (_on_off, "on or off"),
            "rate_limit": (float, "a number per second"),
            "rate_burst": (float, "a number"),
            "max_concurrent": (int, "a whole number of calls"),
            "credentials_check_seconds": (float, "a number of seconds"),
            "drain_seconds": (float, "a number of seconds (0: no drain)"),
            "decision_retention_days": (int, "a whole number of days (0: keep forever)"),
            "evaluation_budget_seconds": (float, "a number of seconds"),
        }
        for f in fields(cls):
            raw = env.get(ENV[f.name], "").strip()
            if not raw:
                continue
            parse, expected = parsers.get(f.name, (str, "text"))
            try:
                values[f.name] = parse(raw)
            except ValueError:
                raise ConfigError(f.name, raw, f"must be {expected}") from None
        if "log_format" in values:
            values["log_format"] = values["log_format"].lower()
        return cls(**values)


def _on_off(raw: str) -> bool:
    value = raw.lower()
    if value in ("on", "true", "1", "yes"):
        return True
    if value in ("off", "false", "0", "no"):
        return False
    raise ValueError(raw)


def _metrics_port(raw: str) -> int | None:
    if raw.lower() in ("off", "-1", "none", "disabled"):
        return None
    return int(raw)
