"""The credentials file: who may call, for which tenants and platforms, in which roles.

    # firekeeper-credentials.yaml (FIREKEEPER_CREDENTIALS)
    credentials:
      - name: telegram-acme            # the caller's identity: audit log, metric label
        token_sha256: 9f86d08...       # SHA-256 (hex) of the bearer token; never the token
        tenants: [acme]                # or "*": every tenant
        platforms: [telegram]          # or "*" (the default): every platform
        roles: [adapter]               # adapter, tenant_admin, operator
        rate_limit: 500                # optional: overrides FIREKEEPER_RATE_LIMIT
        rate_burst: 1000               # optional: overrides FIREKEEPER_RATE_BURST
        max_concurrent: 8              # optional: overrides FIREKEEPER_MAX_CONCURRENT
      - name: ops
        client_cert: ops.example.internal   # under mutual TLS: the certificate's CN or a SAN
        tenants: "*"
        roles: [operator, tenant_admin]

A credential needs ``token_sha256``, ``client_cert`` or both. Names and token
hashes are unique. ``CredentialsFile`` re-reads the file when it changes; a
bad edit is logged and the last good set keeps serving.
"""

from __future__ import annotations

import enum
import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from firekeeper.errors import FirekeeperError

log = logging.getLogger(__name__)

ALL = "*"
MAX_FILE_BYTES = 1024 * 1024


class Role(enum.StrEnum):
    ADAPTER = "adapter"
    TENANT_ADMIN = "tenant_admin"
    OPERATOR = "operator"


class CredentialsError(FirekeeperError):
    """The credentials file cannot be read or is not valid; the message says where."""


def token_hash(token: str) -> str:
    """The hex SHA-256 of a bearer token, as the credentials file stores it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Limits:
    rate: float  # units per second
    burst: float
    concurrent: int


@dataclass(frozen=True, slots=True)
class Credential:
    name: str
    tenants: frozenset[str] | None  # None: every tenant
    platforms: frozenset[str] | None  # None: every platform (names like "telegram")
    roles: frozenset[Role]
    rate_limit: float | None = None
    rate_burst: float | None = None
    max_concurrent: int | None = None

    def limits(self, default: Limits) -> Limits:
        return Limits(
            rate=self.rate_limit if self.rate_limit is not None else default.rate,
            burst=self.rate_burst if self.rate_burst is not None else default.burst,
            concurrent=(
                self.max_concurrent if self.max_concurrent is not None else default.concurrent
            ),
        )

    def covers(self, tenant: str, platform: str) -> bool:
        """Whether it may act for ``tenant`` on ``platform`` ("" for either: all of them)."""
        tenant_ok = self.tenants is None or (tenant != "" and tenant in self.tenants)
        platform_ok = self.platforms is None or (platform != "" and platform in self.platforms)
        return tenant_ok and platform_ok


@dataclass(frozen=True, slots=True)
class Credentials:
    """One parsed credentials file: look-ups by token hash and by certificate name."""

    by_token: Mapping[str, Credential]
    by_cert: Mapping[str, Credential]
    names: tuple[str, ...]

    def for_token(self, token: str) -> Credential | None:
        return self.by_token.get(token_hash(token))

    def for_cert(self, names: list[str]) -> Credential | None:
        for name in names:
            found = self.by_cert.get(name)
            if found is not None:
                return found
        return None


_Name = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")]
_Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{64}$")]
_Text = Annotated[str, StringConstraints(min_length=1, max_length=255)]
_PLATFORMS = ("telegram", "discord", "wecom", "slack", "matrix", "other")


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: _Name
    token_sha256: _Hash | None = None
    client_cert: _Text | None = None
    tenants: Literal["*"] | list[_Text] = Field(min_length=1)
    platforms: Literal["*"] | list[Literal[_PLATFORMS]] = "*"  # type: ignore[valid-type]
    roles: list[Role] = Field(min_length=1)
    rate_limit: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    rate_burst: float | None = Field(default=None, ge=1, allow_inf_nan=False)
    max_concurrent: int | None = Field(default=None, ge=1, le=10_000)


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    credentials: list[_Entry]


def parse(text: str, source: str = "<credentials>") -> Credentials:
    """Parse a credentials file; ``CredentialsError`` naming the entry and field on any fault."""
    try:
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CredentialsError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise CredentialsError(f"{source}: expected a mapping with a 'credentials:' list")
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in exc.errors()
        )
        raise CredentialsError(f"{source}: {problems}") from None
    by_token: dict[str, Credential] = {}
    by_cert: dict[str, Credential] = {}
    names: list[str] = []
    for i, entry in enumerate(parsed.credentials):
        where = f"{source}: credentials.{i} ({entry.name})"
        if entry.token_sha256 is None and entry.client_cert is None:
            raise CredentialsError(f"{where}: give token_sha256, client_cert or both")
        if entry.name in names:
            raise CredentialsError(f"{where}: the name {entry.name!r} is used twice")
        names.append(entry.name)
        cred = Credential(
            name=entry.name,
            tenants=None if entry.tenants == ALL else frozenset(entry.tenants),
            platforms=None if entry.platforms == ALL else frozenset(entry.platforms),
            roles=frozenset(entry.roles),
            rate_limit=entry.rate_limit,
            rate_burst=entry.rate_burst,
            max_concurrent=entry.max_concurrent,
        )
        if entry.token_sha256 is not None:
            digest = entry.token_sha256.lower()
            if digest in by_token:
                raise CredentialsError(f"{where}: the same token hash is given twice")
            by_token[digest] = cred
        if entry.client_cert is not None:
            if entry.client_cert in by_cert:
                raise CredentialsError(f"{where}: client_cert {entry.client_cert!r} given twice")
            by_cert[entry.client_cert] = cred
    return Credentials(by_token=by_token, by_cert=by_cert, names=tuple(names))


def read(path: Path) -> Credentials:
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise CredentialsError(f"{path}: {size} bytes, at most {MAX_FILE_BYTES}")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"{path}: cannot read the credentials file ({exc})") from None
    return parse(text, str(path))


class CredentialsFile:
    """The credentials of a file, re-read when its modification time or size changes.

    ``current()`` looks at the file at most every ``check_seconds`` (0: on every
    call); a file that no longer parses is logged as an error and the last good
    credentials stay in force. The first read must succeed.
    """

    def __init__(
        self,
        path: Path,
        *,
        check_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[Credentials], None] | None = None,
    ) -> None:
        self.path = path
        self._check = check_seconds
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self._credentials = read(path)
        self._checked = clock()
        if on_change is not None:
            on_change(self._credentials)

    def _stat(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def current(self) -> Credentials:
        now = self._clock()
        if now - self._checked < self._check:
            return self._credentials
        with self._lock:
            self._checked = now
            stamp = self._stat()
            if stamp == self._stamp:
                return self._credentials
            self._stamp = stamp
            try:
                fresh = read(self.path)
            except CredentialsError as exc:
                log.error(
                    "credentials file not reloaded; the last good one stays",
                    extra={"error": str(exc)},
                )
                return self._credentials
            self._credentials = fresh
            log.info("credentials reloaded", extra={"credentials": len(fresh.names)})
            if self._on_change is not None:
                self._on_change(fresh)
            return fresh
