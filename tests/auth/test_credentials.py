"""The credentials file: parsing, refusals with their place, and reloading."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from firekeeper.auth.credentials import (
    CredentialsError,
    CredentialsFile,
    Limits,
    Role,
    parse,
    token_hash,
)

GOOD = f"""
credentials:
  - name: tg-acme
    token_sha256: {token_hash("s3cret")}
    tenants: [acme]
    platforms: [telegram]
    roles: [adapter]
    rate_limit: 5
  - name: ops
    client_cert: ops.internal
    tenants: "*"
    roles: [operator, tenant_admin]
"""


def test_a_file_is_read_into_credentials_by_token_hash_and_certificate_name() -> None:
    creds = parse(GOOD)
    adapter = creds.for_token("s3cret")
    assert adapter is not None and adapter.name == "tg-acme"
    assert adapter.roles == {Role.ADAPTER} and adapter.tenants == {"acme"}
    assert adapter.covers("acme", "telegram") and not adapter.covers("acme", "discord")
    assert not adapter.covers("other", "telegram") and not adapter.covers("", "telegram")
    assert adapter.limits(Limits(100, 200, 4)) == Limits(5, 200, 4)
    assert creds.for_token("s3cret ") is None and creds.for_token(token_hash("s3cret")) is None
    ops = creds.for_cert(["someone", "ops.internal"])
    assert ops is not None and ops.tenants is None and ops.covers("", "")
    assert "s3cret" not in GOOD  # the file holds only the hash


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("credentials: [{name: x, tenants: [a], roles: [adapter]}]", "token_sha256, client_cert"),
        (
            "credentials: [{name: x, token_sha256: abc, tenants: [a], roles: [adapter]}]",
            "credentials.0.token_sha256",
        ),
        (
            f"credentials: [{{name: x, token_sha256: {'a' * 64}, tenants: [a], roles: [king]}}]",
            "credentials.0.roles.0",
        ),
        (
            f"credentials: [{{name: x, token_sha256: {'a' * 64}, tenants: [a], roles: [adapter],"
            " tokn: 1}]",
            "credentials.0.tokn",
        ),
        (
            f"credentials: [{{name: x, token_sha256: {'a' * 64}, tenants: [], roles: [adapter]}}]",
            "credentials.0.tenants",
        ),
        (
            f"credentials: [{{name: x, token_sha256: {'a' * 64}, tenants: [a], roles: [adapter]}},"
            f" {{name: x, token_sha256: {'b' * 64}, tenants: [a], roles: [adapter]}}]",
            "used twice",
        ),
        ("credentials: [", "not valid YAML"),
        ("- just a list", "credentials"),
    ],
)
def test_a_bad_file_is_refused_naming_the_place(text: str, where: str) -> None:
    with pytest.raises(CredentialsError) as err:
        parse(text, "creds.yaml")
    assert str(err.value).startswith("creds.yaml: ") and where in str(err.value)


def test_the_file_is_reread_when_it_changes_and_a_bad_edit_keeps_the_last_good(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "creds.yaml"
    path.write_text(GOOD, encoding="utf-8")
    now = [0.0]
    seen: list[int] = []
    holder = CredentialsFile(
        path, check_seconds=1.0, clock=lambda: now[0], on_change=lambda c: seen.append(len(c.names))
    )
    assert holder.current().for_token("s3cret") is not None
    path.write_text(GOOD.replace(token_hash("s3cret"), token_hash("new")), encoding="utf-8")
    assert holder.current().for_token("s3cret") is not None  # not checked yet: within 1 s
    now[0] = 2.0
    assert holder.current().for_token("s3cret") is None
    assert holder.current().for_token("new") is not None
    path.write_text("credentials: [oops", encoding="utf-8")
    now[0] = 4.0
    with caplog.at_level(logging.ERROR):
        assert holder.current().for_token("new") is not None
    assert "last good one stays" in caplog.text and "new" not in caplog.text.split("error")[0]
    assert seen == [2, 2]


def test_an_unreadable_file_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="cannot read the credentials file"):
        CredentialsFile(tmp_path / "missing.yaml")
