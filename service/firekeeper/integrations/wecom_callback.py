"""A WeCom (企业微信) callback receiver that feeds the translator, and the API calls it makes.

    GET  ?msg_signature&timestamp&nonce&echostr   URL verification: check, decrypt, echo
    POST ?msg_signature&timestamp&nonce  <xml><Encrypt>…</Encrypt></xml>
         check the signature, decrypt, check the receive id, parse safely,
         translate_wecom_callback -> deliver (evaluate, carry out) -> "success"

The scheme is WeCom's 加解密方案 (developer.work.weixin.qq.com/document/path/90968):
``msg_signature`` is the SHA-1 (hex) of the sorted, concatenated
[token, timestamp, nonce, encrypt]; ``encrypt`` is base64 of AES-256-CBC with
key = base64(EncodingAESKey + "="), IV = the key's first 16 bytes, PKCS#7
padding to a multiple of 32 bytes; the plaintext is
random(16) | msg_len (4 bytes, big-endian) | msg | receiveid, and receiveid
must be the corp id (a self-built app) or the suite id (a third-party app).

Answers: 200 with the echo or ``success``; 400 for a request that is not a
callback (parameters or body missing, not base64, bad padding); 403 when the
signature or the receive id is wrong. A callback that is authentic but not
translatable is answered 200 and logged: WeCom would only send it again.

Run it: ``python -m firekeeper.integrations.wecom_callback`` (environment
variables in ``docs/adapters.md``); it needs ``pip install "firekeeper[wecom]"``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import logging
import os
import struct
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import defusedxml.ElementTree as SafeET
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException

from firekeeper.adapters import (
    CallContext,
    PayloadError,
    PlatformCall,
    Translation,
    WeComContext,
    translate_wecom_callback,
)
from firekeeper.client import OutboxItem
from firekeeper.domain import Event, Platform
from firekeeper.errors import FirekeeperError
from firekeeper.integrations.relay import Relay
from firekeeper.integrations.settings import (
    ServiceSettings,
    SettingError,
    integer,
    listed,
    optional,
    required,
)

log = logging.getLogger("firekeeper.integrations.wecom")

BLOCK = 32  # WeCom pads to multiples of 32 bytes (PKCS#7 with a 32-byte block)
MAX_BODY = 1 << 20  # bytes of a callback body this receiver reads


class CallbackRefused(FirekeeperError):
    """A request this receiver does not accept; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        super().__init__(reason)


# ---------------------------------------------------------------- the crypto


@dataclass(frozen=True, slots=True)
class WeComCrypto:
    """Signature check and decryption with the callback's Token and EncodingAESKey."""

    token: str
    encoding_aes_key: str
    receive_id: str  # the corp id (self-built app) or suite id (third-party app)
    key: bytes = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if not self.token:
            raise ValueError("the callback Token is empty")
        if not self.receive_id:
            raise ValueError("the receive id (corp id or suite id) is empty")
        if len(self.encoding_aes_key) != 43:
            raise ValueError(
                f"an EncodingAESKey has 43 characters, this one {len(self.encoding_aes_key)}"
            )
        try:
            key = base64.b64decode(self.encoding_aes_key + "=", validate=True)
        except binascii.Error:
            raise ValueError("the EncodingAESKey is not base64 (letters and digits)") from None
        object.__setattr__(self, "key", key)

    def signature(self, timestamp: str, nonce: str, encrypted: str) -> str:
        joined = "".join(sorted([self.token, timestamp, nonce, encrypted]))
        return hashlib.sha1(joined.encode("utf-8")).hexdigest()

    def check(self, msg_signature: str, timestamp: str, nonce: str, encrypted: str) -> None:
        expected = self.signature(timestamp, nonce, encrypted)
        if not hmac.compare_digest(expected, msg_signature.lower()):
            raise CallbackRefused(HTTPStatus.FORBIDDEN, "msg_signature does not match")

    def decrypt(self, encrypted: str) -> bytes:
        """The ``msg`` inside ``encrypted``, after checking its length and receive id."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except binascii.Error:
            raise CallbackRefused(HTTPStatus.BAD_REQUEST, "the ciphertext is not base64") from None
        if not data or len(data) % 16:
            raise CallbackRefused(HTTPStatus.BAD_REQUEST, "the ciphertext is not whole AES blocks")
        decryptor = Cipher(algorithms.AES(self.key), modes.CBC(self.key[:16])).decryptor()
        padded = decryptor.update(data) + decryptor.finalize()
        pad = padded[-1]
        if not 1 <= pad <= BLOCK or padded[-pad:] != bytes([pad]) * pad:
            raise CallbackRefused(HTTPStatus.BAD_REQUEST, "bad padding: wrong EncodingAESKey?")
        plain = padded[:-pad]
        if len(plain) < 20:
            raise CallbackRefused(HTTPStatus.BAD_REQUEST, "the plaintext is too short")
        (length,) = struct.unpack(">I", plain[16:20])
        if 20 + length > len(plain):
            raise CallbackRefused(HTTPStatus.BAD_REQUEST, "msg_len runs past the plaintext")
        message, receive_id = plain[20 : 20 + length], plain[20 + length :]
        if not hmac.compare_digest(receive_id, self.receive_id.encode("utf-8")):
            raise CallbackRefused(HTTPStatus.FORBIDDEN, "the receive id is not this corp's")
        return message


# ---------------------------------------------------------------- the handler


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


def _param(query: Mapping[str, str], name: str) -> str:
    value = query.get(name, "")
    if not value:
        raise CallbackRefused(HTTPStatus.BAD_REQUEST, f"query parameter {name} is missing")
    return value


def _parse_xml(raw: bytes, what: str) -> Any:
    try:
        return SafeET.fromstring(raw, forbid_dtd=True)
    except DefusedXmlException:
        raise CallbackRefused(
            HTTPStatus.BAD_REQUEST, f"{what}: DTDs and entities are refused"
        ) from None
    except SafeET.ParseError as exc:
        raise CallbackRefused(HTTPStatus.BAD_REQUEST, f"{what}: not well-formed ({exc})") from None


class WeComCallback:
    """The callback endpoint as a function of (method, query, body); no server inside."""

    def __init__(
        self,
        crypto: WeComCrypto,
        context: WeComContext,
        deliver: Callable[[Translation], None],
    ) -> None:
        self.crypto = crypto
        self.context = context
        self.deliver = deliver

    def handle(self, method: str, query: Mapping[str, str], body: bytes = b"") -> Reply:
        try:
            if method == "GET":
                return Reply(HTTPStatus.OK, self.verify_url(query))
            if method == "POST":
                self.receive(query, body)
                return Reply(HTTPStatus.OK, b"success")
            return Reply(HTTPStatus.METHOD_NOT_ALLOWED, b"GET or POST")
        except CallbackRefused as exc:
            log.warning("callback refused", extra={"status": exc.status, "why": str(exc)})
            return Reply(exc.status, str(exc).encode("utf-8"))

    def verify_url(self, query: Mapping[str, str]) -> bytes:
        """The decrypted ``echostr``, which WeCom expects back verbatim."""
        echo = _param(query, "echostr")
        self.crypto.check(_param(query, "msg_signature"), _param(query, "timestamp"),
                          _param(query, "nonce"), echo)  # fmt: skip
        return self.crypto.decrypt(echo)

    def receive(self, query: Mapping[str, str], body: bytes) -> Translation | None:
        """Check, decrypt and translate one callback, and deliver the translation."""
        signature = _param(query, "msg_signature")
        timestamp, nonce = _param(query, "timestamp"), _param(query, "nonce")
        if not body:
            raise CallbackRefused(HTTPStatus.BAD_REQUEST, "the callback has no body")
        encrypted = (_parse_xml(body, "body").findtext("Encrypt") or "").strip()
        if not encrypted:
            raise CallbackRefused(HTTPStatus.BAD_REQUEST, "the body has no Encrypt element")
        self.crypto.check(signature, timestamp, nonce, encrypted)
        message = self.crypto.decrypt(encrypted)
        _parse_xml(message, "decrypted callback")  # safe before the translator reads it
        try:
            translation = translate_wecom_callback(message, self.context)
        except PayloadError as exc:
            # Authentic, but not a callback we can read: a retry would not change that.
            log.error("callback not translated", extra={"field": exc.field, "why": str(exc)})
            return None
        self.deliver(translation)
        return translation


# ---------------------------------------------------------------- the WeCom API


class WeComApiError(FirekeeperError):
    """WeCom answered a call with a non-zero errcode."""

    def __init__(self, errcode: int, errmsg: str, route: str) -> None:
        self.errcode = errcode
        super().__init__(f"{route}: errcode {errcode}: {errmsg}")


TOKEN_ERRORS = frozenset({40014, 42001})  # invalid / expired access_token: fetch a new one
TRANSIENT_ERRORS = frozenset({-1, 45009, 45033})  # busy, rate limits: try again later

Opener = Callable[[urllib.request.Request, float], Any]


def _urlopen(request: urllib.request.Request, timeout: float) -> Any:
    return urllib.request.urlopen(request, timeout=timeout)


class WeComApi:
    """POST JSON to ``https://qyapi.weixin.qq.com`` with a cached ``access_token``."""

    BASE = "https://qyapi.weixin.qq.com"

    def __init__(
        self,
        corp_id: str,
        secret: str,
        *,
        opener: Opener = _urlopen,
        timeout: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._corp_id = corp_id
        self._secret = secret
        self._open = opener
        self._timeout = timeout
        self._monotonic = monotonic
        self._token = ""
        self._expires = 0.0
        self._lock = threading.Lock()

    def _json(self, request: urllib.request.Request, route: str) -> dict[str, Any]:
        with self._open(request, self._timeout) as response:
            answer = json.loads(response.read().decode("utf-8"))
        if not isinstance(answer, dict):
            raise WeComApiError(-1, "the answer is not a JSON object", route)
        code = int(answer.get("errcode", 0))
        if code:
            raise WeComApiError(code, str(answer.get("errmsg", "")), route)
        return answer

    def access_token(self, *, fresh: bool = False) -> str:
        with self._lock:
            if fresh or not self._token or self._monotonic() >= self._expires:
                query = urllib.parse.urlencode(
                    {"corpid": self._corp_id, "corpsecret": self._secret}
                )
                route = "/cgi-bin/gettoken"
                answer = self._json(urllib.request.Request(f"{self.BASE}{route}?{query}"), route)
                self._token = str(answer["access_token"])
                # renew five minutes early (expires_in is 7200 s)
                self._expires = self._monotonic() + int(answer.get("expires_in", 7200)) - 300
            return self._token

    def post(self, route: str, body: Mapping[str, object]) -> dict[str, Any]:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        for fresh in (False, True):
            token = urllib.parse.urlencode({"access_token": self.access_token(fresh=fresh)})
            request = urllib.request.Request(
                f"{self.BASE}{route}?{token}",
                data=data,
                headers={"Content-Type": "application/json; charset=utf-8"},
                method="POST",
            )
            try:
                return self._json(request, route)
            except WeComApiError as exc:
                if exc.errcode not in TOKEN_ERRORS or fresh:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def carry_out(self, call: PlatformCall) -> dict[str, Any]:
        """One call of ``wecom_actions``: the one place where calls become WeCom requests."""
        if call.method != "POST" or not call.route.startswith("/cgi-bin/"):
            raise WeComApiError(-2, f"not a WeCom API call: {call.method} {call.route}", call.route)
        return self.post(call.route, call.params)


def is_permanent(exc: BaseException) -> bool:
    """An errcode other than busy / rate limited will not change on a retry; network errors may."""
    if isinstance(exc, WeComApiError):
        return exc.errcode not in TRANSIENT_ERRORS
    return not isinstance(exc, OSError | TimeoutError)


# ---------------------------------------------------------------- configuration and main


@dataclass(frozen=True, slots=True)
class WeComSettings:
    """``WECOM_*`` variables (and ``FIREKEEPER_*``, see ``settings``)."""

    service: ServiceSettings
    token: str
    encoding_aes_key: str
    corp_id: str
    receive_id: str
    secret: str
    agent_id: int | None
    admin_user_ids: tuple[str, ...]
    sender_user_id: str
    listen_host: str
    listen_port: int
    path: str

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WeComSettings:
        corp_id = required(env, "WECOM_CORP_ID", "the corp id (我的企业 > 企业信息)")
        listen = optional(env, "WECOM_LISTEN", "127.0.0.1:8080")
        host, _, port = listen.rpartition(":")
        if not host or not port.isdigit():
            raise SettingError("WECOM_LISTEN", f"expected HOST:PORT, got {listen!r}")
        return cls(
            service=ServiceSettings.from_env(env),
            token=required(env, "WECOM_TOKEN", "the callback Token set in the app's 接收消息"),
            encoding_aes_key=required(
                env, "WECOM_ENCODING_AES_KEY", "the callback EncodingAESKey (43 characters)"
            ),
            corp_id=corp_id,
            receive_id=optional(env, "WECOM_RECEIVE_ID", corp_id),
            secret=required(env, "WECOM_SECRET", "the app's (or 客户联系's) secret for API calls"),
            agent_id=integer(env, "WECOM_AGENT_ID"),
            admin_user_ids=listed(env, "WECOM_ADMIN_USERS"),
            sender_user_id=optional(env, "WECOM_SENDER"),
            listen_host=host.strip("[]"),
            listen_port=int(port),
            path=optional(env, "WECOM_PATH", "/wecom/callback"),
        )

    def call_context(self, chat_id: str, now: datetime, event: Event | None = None) -> CallContext:
        return CallContext(
            chat_id=chat_id,
            now=now,
            event_kind=event.kind if event is not None else None,
            admin_user_ids=self.admin_user_ids,
            agent_id=self.agent_id,
            sender_user_id=self.sender_user_id,
        )


def build_relay(settings: WeComSettings, api: WeComApi) -> Relay:
    async def carry_out(call: PlatformCall) -> object:
        return await asyncio.to_thread(api.carry_out, call)

    def event_context(event: Event, now: datetime) -> CallContext:
        return settings.call_context(event.envelope.chat_id, now, event)

    def item_context(item: OutboxItem, now: datetime) -> CallContext:
        return settings.call_context(item.action.chat_id or item.chat.chat_id, now)

    return Relay(
        platform=Platform.WECOM,
        tenant=settings.service.tenant,
        client=settings.service.client(),
        carry_out=carry_out,
        event_context=event_context,
        item_context=item_context,
        is_permanent=is_permanent,
    )


def _logged(done: Future[Any]) -> None:
    """A decision or the outbox stream that failed on the worker loop goes to the log."""
    if not done.cancelled() and (exc := done.exception()) is not None:
        log.error("callback not decided", exc_info=exc)


def http_server(callback: WeComCallback, host: str, port: int, path: str) -> ThreadingHTTPServer:
    """A stdlib HTTP server answering ``path`` with ``callback`` (call ``serve_forever``)."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            if url.path != path:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
            raw_length = self.headers.get("Content-Length") or "0"
            if not raw_length.isdigit():
                self.send_error(HTTPStatus.BAD_REQUEST, "Content-Length is not a number")
                return
            length = int(raw_length)
            if length > MAX_BODY:
                self.send_error(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
                return
            reply = callback.handle(method, query, self.rfile.read(length) if length else b"")
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def log_message(self, format: str, *args: object) -> None:
            log.debug(format % args)  # the query holds signatures: keep it out of info logs

    return ThreadingHTTPServer((host, port), Handler)


def serve(settings: WeComSettings) -> None:  # pragma: no cover - runs until interrupted
    """The receiver on ``WECOM_LISTEN``, the relay and the outbox stream on an asyncio thread."""
    crypto = WeComCrypto(settings.token, settings.encoding_aes_key, settings.receive_id)
    relay = build_relay(settings, WeComApi(settings.corp_id, settings.secret))
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, name="firekeeper-wecom", daemon=True).start()
    asyncio.run_coroutine_threadsafe(relay.run_outbox(), loop).add_done_callback(_logged)

    def deliver(translation: Translation) -> None:
        # Answer WeCom at once (it waits 5 s, then retries); the decision follows.
        asyncio.run_coroutine_threadsafe(relay.handle(translation), loop).add_done_callback(_logged)

    callback = WeComCallback(crypto, WeComContext(tenant=settings.service.tenant), deliver)
    server = http_server(callback, settings.listen_host, settings.listen_port, settings.path)
    log.info("wecom callback listening", extra={"port": settings.listen_port})
    try:
        server.serve_forever()
    finally:
        server.server_close()
        loop.call_soon_threadsafe(loop.stop)


def main(env: Mapping[str, str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO)
    try:
        settings = WeComSettings.from_env(os.environ if env is None else env)
        WeComCrypto(settings.token, settings.encoding_aes_key, settings.receive_id)
    except (SettingError, ValueError) as exc:
        print(f"firekeeper wecom: {exc}", file=sys.stderr)
        return 2
    try:
        serve(settings)
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
