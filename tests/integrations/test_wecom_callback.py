"""The WeCom callback receiver: signature, decryption, receive id, safe XML, translation.

Vectors:

- WeCom's official Python sample, sbzhu/weworkapi_python ``callback/Sample.py``
  (commit 27220fbe9d5251d46101e33751568eae9f413666; the 企业微信 sample code, also
  linked from developer.work.weixin.qq.com/document/path/90968): its URL
  verification request and its encrypted POST, with that sample's Token,
  EncodingAESKey and corp id. Test vectors, facts carried over; no code copied.
- Callbacks encrypted here by ``encrypt`` (the documented layout, written for
  this test) around real plaintexts from ``shared/fixtures/payloads/wecom``
  (see SOURCES.md): ``docs_format_change_external_chat_update_add_member_thirdparty.xml``
  (the WeCom docs' third-party 客户群变更事件 example) and
  ``senparc_change_external_chat_update.xml`` (JeffreySu/WeiXinMPSDK, BSD-3-Clause).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import struct
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from firekeeper.adapters import Translation, WeComContext
from firekeeper.client import AsyncFirekeeperClient
from firekeeper.domain import MemberJoined, Platform
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.integrations.settings import ServiceSettings, SettingError
from firekeeper.integrations.wecom_callback import (
    WeComApi,
    WeComApiError,
    WeComCallback,
    WeComCrypto,
    WeComSettings,
    build_relay,
    http_server,
    is_permanent,
    main,
)

from .conftest import TENANT, Firekeeper

# ---------------------------------------------------------------- the official sample's vectors

SAMPLE_TOKEN = "hJqcu3uJ9Tn2gXPmxx2w9kkCkCE2EPYo"
SAMPLE_KEY = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt"
SAMPLE_CORP = "ww1436e0e65a779aee"
SAMPLE_VERIFY = {
    "msg_signature": "012bc692d0a58dd4b10f8dfe5c4ac00ae211ebeb",
    "timestamp": "1476416373",
    "nonce": "47744683",
    "echostr": (
        "fsi1xnbH4yQh0+PJxcOdhhK6TDXkjMyhEPA7xB2TGz6b+g7xyAbEkRxN/3cNXW9qdqjnoVzEtpbhnFyq6SVHyA=="
    ),
}
SAMPLE_POST_QUERY = {
    "msg_signature": "0c3914025cb4b4d68103f6bfc8db550f79dcf48e",
    "timestamp": "1476422779",
    "nonce": "1597212914",
}
SAMPLE_POST_BODY = (
    "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName>\n<Encrypt><![CDATA["
    "Kl7kjoSf6DMD1zh7rtrHjFaDapSCkaOnwu3bqLc5tAybhhMl9pFeK8NslNPVdMwmBQTNoW4mY7AIjeLvEl3NyeTkAgGz"
    "BhzTtRLNshw2AEew+kkYcD+Fq72Kt00fT0WnN87hGrW8SqGc+NcT3mu87Ha3dz1pSDi6GaUA6A0sqfde0VJPQbZ9U+3J"
    "WcoD4Z5jaU0y9GSh010wsHF8KZD24YhmZH4ch4Ka7ilEbjbfvhKkNL65HHL0J6EYJIZUC2pFrdkJ7MhmEbU2qARR4iQH"
    "E7wy24qy0cRX3Mfp6iELcDNfSsPGjUQVDGxQDCWjayJOpcwocugux082f49HKYg84EpHSGXAyh+/oxwaWbvL6aSDPOYuP"
    "DGOCI8jmnKiypE+]]></Encrypt>\n<AgentID><![CDATA[1000002]]></AgentID>\n</xml>"
)

# ---------------------------------------------------------------- our own vectors

TOKEN = "firekeeperTestToken"
KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")  # 43 characters
SUITE = "ww4asffe99e54c0f4c"  # the third-party example's SuiteId: its receive id


def aes(padded: bytes, key: str = KEY) -> str:
    """base64(AES-256-CBC(padded)), key = base64(EncodingAESKey + "="), IV = its first 16 bytes."""
    raw = base64.b64decode(key + "=")
    encryptor = Cipher(algorithms.AES(raw), modes.CBC(raw[:16])).encryptor()
    return base64.b64encode(encryptor.update(padded) + encryptor.finalize()).decode()


def encrypt(plain: bytes, receive_id: str, key: str = KEY) -> str:
    """WeCom's layout: random16 | msg_len (4, big-endian) | msg | receiveid, PKCS#7 to 32."""
    body = os.urandom(16) + struct.pack(">I", len(plain)) + plain + receive_id.encode()
    pad = 32 - len(body) % 32
    return aes(body + bytes([pad]) * pad, key)


def signed(encrypted: str, token: str = TOKEN) -> dict[str, str]:
    timestamp, nonce = "1403610513", "1372623149"
    digest = hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypted])).encode())
    return {"msg_signature": digest.hexdigest(), "timestamp": timestamp, "nonce": nonce}


def envelope(encrypted: str) -> bytes:
    return f"<xml><ToUserName><![CDATA[{SUITE}]]></ToUserName><Encrypt><![CDATA[{encrypted}]]></Encrypt><AgentID><![CDATA[]]></AgentID></xml>".encode()  # noqa: E501


def receiver(receive_id: str = SUITE) -> tuple[WeComCallback, list[Translation]]:
    got: list[Translation] = []
    crypto = WeComCrypto(TOKEN, KEY, receive_id)
    return WeComCallback(crypto, WeComContext(tenant=TENANT), got.append), got


def third_party_add_member(payloads: Path) -> bytes:
    name = "docs_format_change_external_chat_update_add_member_thirdparty.xml"
    return (payloads / "wecom" / name).read_bytes()


# ---------------------------------------------------------------- tests


def test_the_official_sample_url_verification_echoes_the_decrypted_echostr() -> None:
    crypto = WeComCrypto(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_CORP)
    callback = WeComCallback(crypto, WeComContext(tenant=TENANT), lambda _: None)
    reply = callback.handle("GET", SAMPLE_VERIFY)
    assert reply.status == 200
    assert reply.body.isdigit() and len(reply.body) > 10  # the echostr's plaintext: digits


def test_the_official_sample_message_decrypts_and_reaches_the_translator() -> None:
    crypto = WeComCrypto(SAMPLE_TOKEN, SAMPLE_KEY, SAMPLE_CORP)
    got: list[Translation] = []
    callback = WeComCallback(crypto, WeComContext(tenant=TENANT), got.append)
    reply = callback.handle("POST", SAMPLE_POST_QUERY, SAMPLE_POST_BODY.encode())
    assert (reply.status, reply.body) == (200, b"success")
    # The sample is an app text message (你好), not a customer-group change: a skip note.
    ((note,),) = [t.skipped for t in got]
    assert "text" in note.reason
    encrypted = SAMPLE_POST_BODY.split("<![CDATA[")[2].split("]]>")[0]
    plain = crypto.decrypt(encrypted).decode()
    assert "<Content>你好</Content>" in plain and "<MsgType>text</MsgType>" in plain


def test_a_customer_group_callback_is_verified_decrypted_and_translated(payloads: Path) -> None:
    callback, got = receiver()
    encrypted = encrypt(third_party_add_member(payloads), SUITE)
    reply = callback.handle("POST", signed(encrypted), envelope(encrypted))
    assert (reply.status, reply.body) == (200, b"success")
    (translation,) = got
    members = [
        e.payload.member.id for e in translation.events if isinstance(e.payload, MemberJoined)
    ]
    assert members == ["Jack", "Rose"]
    assert translation.sequence_hint is not None
    assert translation.sequence_hint.current == "71217227bbd112ecfe3a49c482195cb4"


def test_the_url_verification_of_our_own_vector_echoes_the_plaintext() -> None:
    callback, _ = receiver()
    echo = encrypt(b"5927782489442352469", SUITE)
    reply = callback.handle("GET", {**signed(echo), "echostr": echo})
    assert (reply.status, reply.body) == (200, b"5927782489442352469")


@pytest.mark.parametrize(
    ("change", "status", "why"),
    [
        ("signature", 403, "msg_signature does not match"),
        ("receive_id", 403, "receive id"),
        ("base64", 400, "not base64"),
        ("blocks", 400, "whole AES blocks"),
        ("padding", 400, "bad padding"),
        ("length", 400, "msg_len runs past"),
        ("missing", 400, "nonce is missing"),
        ("no_encrypt", 400, "no Encrypt element"),
        ("empty", 400, "no body"),
    ],
)
def test_requests_that_are_not_wecom_callbacks_are_refused(
    payloads: Path, change: str, status: int, why: str
) -> None:
    callback, got = receiver()
    plain = third_party_add_member(payloads)
    encrypted = encrypt(plain, "wwSomeoneElse" if change == "receive_id" else SUITE)
    query, body = signed(encrypted), envelope(encrypted)
    if change == "signature":
        query["msg_signature"] = "0" * 40
    elif change == "base64":
        encrypted = "not base64!"
        query, body = signed(encrypted), envelope(encrypted)
    elif change == "blocks":
        encrypted = base64.b64encode(b"x" * 20).decode()
        query, body = signed(encrypted), envelope(encrypted)
    elif change == "padding":  # a last byte of 0 is no PKCS#7 padding
        encrypted = aes(os.urandom(16) + struct.pack(">I", 6) + b"<xml/>" + bytes(6))
        query, body = signed(encrypted), envelope(encrypted)
    elif change == "length":  # msg_len says 10000 bytes, 6 follow
        inner = os.urandom(16) + struct.pack(">I", 10_000) + b"<xml/>"
        encrypted = aes(inner + bytes([6]) * 6)
        query, body = signed(encrypted), envelope(encrypted)
    elif change == "missing":
        del query["nonce"]
    elif change == "no_encrypt":
        body = b"<xml><ToUserName>x</ToUserName></xml>"
    elif change == "empty":
        body = b""
    reply = callback.handle("POST", query, body)
    assert reply.status == status
    assert why in reply.body.decode()
    assert got == []  # nothing reached the translator


def test_entities_and_doctypes_are_refused_outside_and_inside(payloads: Path) -> None:
    callback, got = receiver()
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><xml><Encrypt>&a;</Encrypt></xml>'
    )
    reply = callback.handle("POST", signed("x"), bomb)
    assert reply.status == 400 and "DTDs and entities are refused" in reply.body.decode()
    inner = (
        b'<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><ChatId>&e;</ChatId></xml>'
    )
    encrypted = encrypt(inner, SUITE)
    reply = callback.handle("POST", signed(encrypted), envelope(encrypted))
    assert reply.status == 400 and "decrypted callback" in reply.body.decode()
    assert got == []


def test_an_authentic_callback_the_translator_cannot_read_is_answered_and_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    callback, got = receiver()
    encrypted = encrypt(
        b"<xml><MsgType>event</MsgType><Event>change_external_chat</Event></xml>", SUITE
    )
    reply = callback.handle("POST", signed(encrypted), envelope(encrypted))
    assert (reply.status, reply.body) == (200, b"success")  # a retry would not help
    assert got == [] and "callback not translated" in caplog.text


def test_a_bad_encoding_aes_key_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="43 characters"):
        WeComCrypto(TOKEN, KEY[:-1], SUITE)
    with pytest.raises(ValueError, match="not base64"):
        WeComCrypto(TOKEN, "!" * 43, SUITE)


# ---------------------------------------------------------------- end to end


class RecordingOpener:
    """urllib's urlopen replaced: records each WeCom API request, answers errcode 0."""

    def __init__(self, errcodes: list[int] | None = None) -> None:
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self.errcodes = errcodes or []

    def __call__(self, request: urllib.request.Request, timeout: float) -> io.BytesIO:
        url = urllib.parse.urlsplit(request.full_url)
        query = dict(urllib.parse.parse_qsl(url.query))
        body = json.loads(request.data) if isinstance(request.data, bytes) else None
        self.requests.append((url.path, query, body))
        if url.path == "/cgi-bin/gettoken":
            answer: dict[str, Any] = {"errcode": 0, "access_token": "ACCESS", "expires_in": 7200}
        else:
            answer = {"errcode": self.errcodes.pop(0) if self.errcodes else 0, "errmsg": "ok"}
        return io.BytesIO(json.dumps(answer).encode())


def wecom_settings(address: str) -> WeComSettings:
    return WeComSettings.from_env(
        {
            "FIREKEEPER_TENANT": TENANT,
            "FIREKEEPER_TARGET": address,
            "WECOM_TOKEN": TOKEN,
            "WECOM_ENCODING_AES_KEY": KEY,
            "WECOM_CORP_ID": "wxf8b4f85f3a794e77",
            "WECOM_RECEIVE_ID": SUITE,
            "WECOM_SECRET": "secret",
            "WECOM_AGENT_ID": "1000002",
            "WECOM_ADMIN_USERS": "zhangsan,lisi",
        }
    )


async def test_a_callback_into_a_full_group_tells_the_admins_through_the_api(
    firekeeper: Firekeeper, payloads: Path
) -> None:
    settings = wecom_settings(firekeeper.address)
    async with AsyncFirekeeperClient(firekeeper.address) as client:
        key = ChatKey(Platform.WECOM, TENANT, "CHAT_ID")
        await client.register_chat(ChatRegistration(key=key, kind="goal", member_count=49))
    opener = RecordingOpener()
    relay = build_relay(settings, WeComApi(settings.corp_id, settings.secret, opener=opener))
    delivered: list[Translation] = []
    crypto = WeComCrypto(settings.token, settings.encoding_aes_key, settings.receive_id)
    callback = WeComCallback(crypto, WeComContext(tenant=TENANT), delivered.append)

    encrypted = encrypt(third_party_add_member(payloads), SUITE)
    assert callback.handle("POST", signed(encrypted), envelope(encrypted)).status == 200
    try:
        outcome = await relay.handle(delivered[0])
    finally:
        await relay.client.close()

    assert [d.actions[0].type for d in outcome.decisions] == ["deny_join", "deny_join"]
    paths = [path for path, _, _ in opener.requests]
    assert paths[0] == "/cgi-bin/gettoken" and paths.count("/cgi-bin/gettoken") == 1  # cached
    sends = [(q, b) for p, q, b in opener.requests if p == "/cgi-bin/message/send"]
    assert len(sends) == 4  # per member: remove them (no API for it) + the hard-cap notice
    for query, body in sends:
        assert query == {"access_token": "ACCESS"}
        assert body["touser"] == "zhangsan|lisi" and body["agentid"] == 1000002
    assert any(
        "remove" in b["text"]["content"] and "Jack" in b["text"]["content"] for _, b in sends
    )


def test_an_expired_token_is_fetched_again_once() -> None:
    opener = RecordingOpener(errcodes=[42001, 0])
    api = WeComApi("corp", "secret", opener=opener)
    api.post("/cgi-bin/message/send", {"touser": "a"})
    assert [p for p, _, _ in opener.requests] == [
        "/cgi-bin/gettoken", "/cgi-bin/message/send", "/cgi-bin/gettoken", "/cgi-bin/message/send",
    ]  # fmt: skip
    with pytest.raises(WeComApiError, match="errcode 60011"):
        WeComApi("corp", "secret", opener=RecordingOpener(errcodes=[60011])).post("/cgi-bin/x", {})
    assert is_permanent(WeComApiError(60011, "no privilege", "/cgi-bin/x"))
    assert not is_permanent(WeComApiError(-1, "system busy", "/cgi-bin/x"))
    assert not is_permanent(OSError("connection reset"))


def test_settings_come_from_the_environment_with_clear_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = wecom_settings("firekeeper:50051")
    assert settings.receive_id == SUITE and settings.admin_user_ids == ("zhangsan", "lisi")
    assert (settings.listen_host, settings.listen_port, settings.path) == (
        "127.0.0.1", 8080, "/wecom/callback",
    )  # fmt: skip
    assert isinstance(settings.service, ServiceSettings)
    with pytest.raises(SettingError, match="WECOM_AGENT_ID: expected a whole number"):
        WeComSettings.from_env(
            {"FIREKEEPER_TENANT": "t", "WECOM_TOKEN": "t", "WECOM_ENCODING_AES_KEY": KEY,
             "WECOM_CORP_ID": "c", "WECOM_SECRET": "s", "WECOM_AGENT_ID": "app"}
        )  # fmt: skip
    env = {"FIREKEEPER_TENANT": "t", "WECOM_TOKEN": "t", "WECOM_ENCODING_AES_KEY": "short",
           "WECOM_CORP_ID": "c", "WECOM_SECRET": "s"}  # fmt: skip
    assert main(env) == 2
    assert "43 characters" in capsys.readouterr().err


def test_the_http_server_answers_wecom_on_its_path_only(payloads: Path) -> None:
    # On 127.0.0.1 port 0: the stdlib server around the handler, as serve() runs it.
    callback, got = receiver()
    server = http_server(callback, "127.0.0.1", 0, "/wecom/callback")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def call(path: str, data: bytes | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(base + path, data=data)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code, exc.read()

    try:
        echo = encrypt(b"1616140317555161061", SUITE)  # base64 with + and /: URL-encoded
        query = urllib.parse.urlencode({**signed(echo), "echostr": echo})
        assert call(f"/wecom/callback?{query}") == (200, b"1616140317555161061")
        encrypted = encrypt(third_party_add_member(payloads), SUITE)
        query = urllib.parse.urlencode(signed(encrypted))
        assert call(f"/wecom/callback?{query}", envelope(encrypted)) == (200, b"success")
        assert len(got) == 1 and len(got[0].events) == 2
        assert call(f"/elsewhere?{query}", envelope(encrypted))[0] == 404
        assert call(f"/wecom/callback?{query}", b"<xml/>")[0] == 400
    finally:
        server.shutdown()
        server.server_close()
