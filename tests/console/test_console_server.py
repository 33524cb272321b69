"""Serving the console: off by default, loopback unless credentials and TLS are set (as
the gRPC port), HTTPS with the server's certificate, and its settings' errors."""

from __future__ import annotations

import logging
import ssl
import sys
from pathlib import Path

import aiohttp
import pytest

from firekeeper.auth.transport import ExposureError
from firekeeper.config import ConfigError, Settings
from firekeeper.console.server import ConsoleServer, check_exposure
from tests.auth.support import Authority, credential, write_credentials
from tests.console.support import populated


def test_the_console_is_off_unless_a_port_is_given() -> None:
    assert Settings().console_port is None
    assert Settings.from_env({"FIREKEEPER_CONSOLE_PORT": "off"}).console_port is None
    assert Settings.from_env({"FIREKEEPER_CONSOLE_PORT": "8080"}).console_port == 8080
    assert Settings.from_env({}).console_host == "127.0.0.1"
    with pytest.raises(ConfigError, match="FIREKEEPER_CONSOLE_PORT"):
        Settings.from_env({"FIREKEEPER_CONSOLE_PORT": "web"})
    with pytest.raises(ConfigError, match="FIREKEEPER_CONSOLE_PORT"):
        Settings(console_port=70000)
    with pytest.raises(ConfigError, match="FIREKEEPER_CONSOLE_HOST"):
        Settings(console_host=" ")


def test_off_loopback_it_needs_credentials_and_tls(caplog: pytest.LogCaptureFixture) -> None:
    check_exposure(Settings(console_port=0))
    check_exposure(Settings(console_port=0, console_host="[::1]"))
    with pytest.raises(ExposureError) as err:
        check_exposure(Settings(console_port=0, console_host="0.0.0.0"))
    assert "FIREKEEPER_CREDENTIALS" in str(err.value) and "TLS" in str(err.value)
    with pytest.raises(ExposureError, match="TLS"):
        check_exposure(
            Settings(console_port=0, console_host="0.0.0.0", credentials_file="creds.yaml")
        )
    check_exposure(
        Settings(
            console_port=0,
            console_host="0.0.0.0",
            credentials_file="creds.yaml",
            tls_cert="c.pem",
            tls_key="k.pem",
        )
    )
    with caplog.at_level(logging.WARNING):
        check_exposure(Settings(console_port=0, console_host="0.0.0.0", insecure=True))
    assert "without credentials" in caplog.text


async def test_it_serves_https_with_the_servers_certificate_and_a_secure_cookie(
    tmp_path: Path,
) -> None:
    ca = Authority(tmp_path)
    pem = ca.issue("server", "localhost", server=True)
    creds = write_credentials(
        tmp_path / "credentials.yaml", [credential("ops", "tok-ops", "*", ["operator"])]
    )
    settings = Settings(
        console_port=0,
        credentials_file=str(creds),
        tls_cert=str(pem.cert),
        tls_key=str(pem.key),
    )
    with populated() as (sandbox, health, _decided):
        server = ConsoleServer(settings, sandbox.store, health, lambda: sandbox.rulesets.index)
        port = await server.start()
        try:
            trust = ssl.create_default_context(cafile=str(ca.pem.cert))
            async with aiohttp.ClientSession() as http:
                url = f"https://127.0.0.1:{port}"
                async with http.post(
                    f"{url}/login", data={"token": "tok-ops"}, ssl=trust, allow_redirects=False
                ) as r:
                    assert r.status == 303
                    cookie = r.headers["Set-Cookie"]
                    assert "Secure" in cookie and "HttpOnly" in cookie
                async with http.get(
                    f"{url}/rules", headers={"Authorization": "Bearer tok-ops"}, ssl=trust
                ) as r:
                    assert r.status == 200
                with pytest.raises(aiohttp.ClientError):  # no plaintext beside TLS
                    async with http.get(f"http://127.0.0.1:{port}/rules") as r:
                        await r.read()
        finally:
            await server.stop()


async def test_a_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    with populated() as (sandbox, health, _decided):
        first = ConsoleServer(
            Settings(console_port=0), sandbox.store, health, lambda: sandbox.rulesets.index
        )
        port = await first.start()
        try:
            second = ConsoleServer(
                Settings(console_port=port), sandbox.store, health, lambda: sandbox.rulesets.index
            )
            with pytest.raises(OSError, match=f"the console cannot listen on 127.0.0.1:{port}"):
                await second.start()
        finally:
            await first.stop()


def test_without_the_console_extra_serve_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from firekeeper import app
    from firekeeper.errors import FirekeeperError

    monkeypatch.setitem(sys.modules, "firekeeper.console.server", None)  # as if not installed
    with pytest.raises(FirekeeperError, match=r"pip install 'firekeeper\[console\]'"):
        app._console(Settings(console_port=0))
