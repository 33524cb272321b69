"""What every reference adapter reads from its environment: where Firekeeper is, how to reach it.

Read once, from a mapping passed in (``os.environ`` in ``main``), into frozen
values; a missing or malformed variable is a :class:`SettingError` naming it.

    FIREKEEPER_TARGET        the service's address            default 127.0.0.1:50051
    FIREKEEPER_TENANT        the tenant this bot acts for     required
    FIREKEEPER_TOKEN         bearer token (secured service)   optional
    FIREKEEPER_CA            CA bundle to verify the service's TLS certificate (turns TLS on)
    FIREKEEPER_CLIENT_CERT   client certificate (mutual TLS), with FIREKEEPER_CLIENT_KEY
    FIREKEEPER_TIMEOUT       deadline of each call, seconds   default 5
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from firekeeper.client import DEFAULT_TARGET, AsyncFirekeeperClient, tls_credentials
from firekeeper.errors import FirekeeperError


class SettingError(FirekeeperError):
    """An environment variable is missing or has a value that cannot be used."""

    def __init__(self, name: str, reason: str) -> None:
        self.name = name
        super().__init__(f"{name}: {reason}")


def required(env: Mapping[str, str], name: str, what: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingError(name, f"not set: {what}")
    return value


def optional(env: Mapping[str, str], name: str, default: str = "") -> str:
    return env.get(name, "").strip() or default


def integer(env: Mapping[str, str], name: str, default: int | None = None) -> int | None:
    raw = optional(env, name)
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingError(name, f"expected a whole number, got {raw!r}") from None


def listed(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma-separated list, blanks dropped."""
    return tuple(part.strip() for part in optional(env, name).split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """How an adapter reaches Firekeeper."""

    tenant: str
    target: str = DEFAULT_TARGET
    token: str | None = None
    ca: str | None = None
    client_cert: str | None = None
    client_key: str | None = None
    timeout: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServiceSettings:
        raw_timeout = optional(env, "FIREKEEPER_TIMEOUT", "5")
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise SettingError(
                "FIREKEEPER_TIMEOUT", f"expected seconds, got {raw_timeout!r}"
            ) from None
        if timeout <= 0:
            raise SettingError("FIREKEEPER_TIMEOUT", "must be more than 0 seconds")
        cert = optional(env, "FIREKEEPER_CLIENT_CERT") or None
        key = optional(env, "FIREKEEPER_CLIENT_KEY") or None
        if (cert is None) != (key is None):
            raise SettingError(
                "FIREKEEPER_CLIENT_CERT" if key else "FIREKEEPER_CLIENT_KEY",
                "mutual TLS needs both FIREKEEPER_CLIENT_CERT and FIREKEEPER_CLIENT_KEY",
            )
        return cls(
            tenant=required(env, "FIREKEEPER_TENANT", "the tenant this bot acts for"),
            target=optional(env, "FIREKEEPER_TARGET", DEFAULT_TARGET),
            token=optional(env, "FIREKEEPER_TOKEN") or None,
            ca=optional(env, "FIREKEEPER_CA") or None,
            client_cert=cert,
            client_key=key,
            timeout=timeout,
        )

    def client(self) -> AsyncFirekeeperClient:
        """An asyncio client for these settings (TLS when a CA or client certificate is set)."""
        credentials = None
        if self.ca or self.client_cert:
            credentials = tls_credentials(ca=self.ca, cert=self.client_cert, key=self.client_key)
        return AsyncFirekeeperClient(
            self.target, timeout=self.timeout, token=self.token, credentials=credentials
        )
