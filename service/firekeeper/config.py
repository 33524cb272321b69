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
    FIREKEEPER_WORKERS             threads          8: evaluations running at once
    FIREKEEPER_RELOAD_SECONDS      seconds          5: how often the rulesets directory is checked
                                                    for changes (hot reload); 0 disables it
    FIREKEEPER_PHISHING_DOMAINS    file path        empty: none; a list of phishing domains, one a
                                                    line (message.phishing_links), read at start
    FIREKEEPER_TICK_SECONDS        seconds          3600: the scheduler's chat.tick period
    FIREKEEPER_SCHEDULER           on | off         on: this replica may run the scheduler (the
                                                    one holding the database lock runs it)
    FIREKEEPER_OUTBOX_LEASE_SECONDS seconds         30: an unacknowledged outbox item whose stream
                                                    died is sent again after this long
    FIREKEEPER_OUTBOX_POLL_SECONDS seconds          1: how often an idle outbox stream looks for
                                                    items another replica made
    FIREKEEPER_EVALUATION_BUDGET_SECONDS seconds    0.25: how long one event's feature stages may
                                                    take before the rest skip their text checks
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
    "workers": "FIREKEEPER_WORKERS",
    "reload_seconds": "FIREKEEPER_RELOAD_SECONDS",
    "phishing_domains": "FIREKEEPER_PHISHING_DOMAINS",
    "tick_seconds": "FIREKEEPER_TICK_SECONDS",
    "scheduler": "FIREKEEPER_SCHEDULER",
    "outbox_lease_seconds": "FIREKEEPER_OUTBOX_LEASE_SECONDS",
    "outbox_poll_seconds": "FIREKEEPER_OUTBOX_POLL_SECONDS",
    "evaluation_budget_seconds": "FIREKEEPER_EVALUATION_BUDGET_SECONDS",
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
    phishing_domains: str = ""  # path of a phishing domain list; empty: none
    tick_seconds: int = 3600  # the scheduler's period (chat.tick)
    scheduler: bool = True  # False: never run the scheduler on this replica
    outbox_lease_seconds: float = 30.0
    outbox_poll_seconds: float = 1.0
    evaluation_budget_seconds: float = 0.25

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
        if not 1 <= self.workers <= 1024:
            raise ConfigError("workers", self.workers, "must be an integer from 1 to 1024")
        if not (math.isfinite(self.reload_seconds) and self.reload_seconds >= 0):
            raise ConfigError("reload_seconds", self.reload_seconds, "must be a number >= 0")
        if not 1 <= self.tick_seconds <= 7 * 86_400:
            raise ConfigError("tick_seconds", self.tick_seconds, "must be 1 to 604800 seconds")
        for name in ("outbox_lease_seconds", "outbox_poll_seconds"):
            value = getattr(self, name)
            if not (math.isfinite(value) and 0.01 <= value <= 3600):
                raise ConfigError(name, value, "must be a number of seconds from 0.01 to 3600")
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
            "tick_seconds": (int, "a whole number of seconds"),
            "scheduler": (_on_off, "on or off"),
            "outbox_lease_seconds": (float, "a number of seconds"),
            "outbox_poll_seconds": (float, "a number of seconds"),
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
