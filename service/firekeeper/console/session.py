"""Who is looking: the same credentials as the gRPC API, for a browser.

A request is let in by one of
- ``Authorization: Bearer <token>``, a token of the credentials file, or
- the session cookie that the login form sets after checking such a token: HttpOnly,
  ``SameSite=Strict``, ``Secure`` when the console serves TLS, and signed (HMAC-SHA256
  with a key made at start, so every session ends when the process does). It names
  the credential and the hash of its token, and lasts ``SESSION_SECONDS``: a token
  removed from the file (or replaced) ends its sessions at the next request.

The credential must hold an admin role (``tenant_admin`` or ``operator``, as
``Admin.ListAuditLog`` requires), and sees only its own tenants and platforms.
Without a credentials file (loopback only, as for gRPC) everybody is let in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from firekeeper.auth.credentials import Credential, Credentials, Role, token_hash

COOKIE = "firekeeper_console"
SESSION_SECONDS = 8 * 3600
ADMIN_ROLES = frozenset({Role.TENANT_ADMIN, Role.OPERATOR})
MAX_TOKEN_CHARS = 4096


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking; ``credential`` None: no credentials file, everything is visible."""

    credential: Credential | None

    @property
    def name(self) -> str:
        return self.credential.name if self.credential else ""

    def sees(self, tenant: str, platform: str | None = None) -> bool:
        """Whether the viewer may look at ``tenant`` ("": every tenant) on ``platform``
        (None: the pages that filter by the credential's platforms themselves)."""
        c = self.credential
        if c is None:
            return True
        if c.tenants is not None and tenant not in c.tenants:
            return False
        return platform is None or c.platforms is None or platform in c.platforms


class Refused(Exception):
    """Not let in; ``status`` 401 (who are you?) or 403 (not for you), and why."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class Sessions:
    def __init__(
        self,
        credentials: Callable[[], Credentials] | None,
        *,
        key: bytes | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credentials = credentials
        self._key = key or secrets.token_bytes(32)
        self._clock = clock

    @property
    def open(self) -> bool:
        """No credentials file: no login, everything visible."""
        return self._credentials is None

    def by_token(self, token: str) -> tuple[Viewer, str]:
        """The viewer a token names and its hash; ``Refused`` otherwise."""
        if self._credentials is None:
            return Viewer(None), ""
        if not token or len(token) > MAX_TOKEN_CHARS:
            raise Refused(401, "no token was given")
        digest = token_hash(token)
        found = self._credentials().by_token.get(digest)
        if found is None:
            raise Refused(401, "this token is not in the credentials file")
        return Viewer(self._admin(found)), digest

    def viewer(self, authorization: str | None, cookie: str | None) -> Viewer:
        """The viewer of a request (its bearer token decides over its cookie)."""
        if self._credentials is None:
            return Viewer(None)
        if authorization:
            scheme, _, token = authorization.partition(" ")
            if scheme.lower() != "bearer":
                raise Refused(401, "the Authorization header must be 'Bearer <token>'")
            return self.by_token(token.strip())[0]
        if not cookie:
            raise Refused(401, "sign in with a token")
        name, digest = self._read(cookie)
        found = self._credentials().by_token.get(digest)
        if found is None or found.name != name:
            raise Refused(401, "the session's token is no longer in the credentials file")
        return Viewer(self._admin(found))

    def issue(self, viewer: Viewer, digest: str) -> str:
        """The signed cookie value for a viewer who signed in with the token of ``digest``."""
        body = json.dumps(
            {"c": viewer.name, "h": digest, "exp": int(self._clock()) + SESSION_SECONDS},
            separators=(",", ":"),
        ).encode()
        payload = base64.urlsafe_b64encode(body).decode().rstrip("=")
        return f"{payload}.{self._sign(payload)}"

    def _sign(self, payload: str) -> str:
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def _read(self, cookie: str) -> tuple[str, str]:
        payload, _, signature = cookie.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            raise Refused(401, "the session cookie is not one this server signed: sign in again")
        try:
            data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            name, digest, expires = str(data["c"]), str(data["h"]), int(data["exp"])
        except (ValueError, KeyError, TypeError):
            raise Refused(401, "the session cookie cannot be read: sign in again") from None
        if expires <= self._clock():
            raise Refused(401, "the session has expired: sign in again")
        return name, digest

    @staticmethod
    def _admin(credential: Credential) -> Credential:
        if not credential.roles & ADMIN_ROLES:
            raise Refused(
                403,
                f"credential {credential.name!r} has no admin role "
                "(tenant_admin or operator): the console shows admin data",
            )
        return credential
