"""The phishing list setting, loaded at the edge, and the admin port's input checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from firekeeper.app import phishing_list
from firekeeper.areas.screening.admin import check_entries, check_settings, page_size
from firekeeper.config import Settings
from firekeeper.domain.chats import ChatKey
from firekeeper.domain.events import Platform
from firekeeper.domain.screening import BlockEntry, BlockKind, ChatScreening
from firekeeper.errors import FirekeeperError, InvalidEvent

KEY = ChatKey(Platform.TELEGRAM, "acme", "-1")


def test_the_phishing_list_is_read_from_the_setting(tmp_path: Path) -> None:
    listing = tmp_path / "phishing.txt"
    listing.write_text("# comment\nsteamcomrnunity.ru\n\nWWW.Discord-Nitro.gift\nnot a domain\n")
    settings = Settings.from_env({"FIREKEEPER_PHISHING_DOMAINS": str(listing)})
    assert phishing_list(settings) == {"steamcomrnunity.ru", "discord-nitro.gift"}
    assert phishing_list(Settings()) == frozenset()


def test_a_missing_phishing_list_stops_start_up_with_the_variable_named(tmp_path: Path) -> None:
    settings = Settings(phishing_domains=str(tmp_path / "absent.txt"))
    with pytest.raises(FirekeeperError, match="FIREKEEPER_PHISHING_DOMAINS"):
        phishing_list(settings)


def test_blocklist_entries_are_checked_and_normalized() -> None:
    out = check_entries(
        [
            BlockEntry(BlockKind.USER, " 42 ", Platform.DISCORD),
            BlockEntry(BlockKind.DOMAIN, "https://www.Evil.Example:443/x", Platform.TELEGRAM),
        ]
    )
    assert [(e.value, e.platform) for e in out] == [
        ("42", Platform.DISCORD),
        ("evil.example", None),
    ]
    for bad, field in (
        ([], "entries"),
        ([BlockEntry(BlockKind.USER, "42")], "entries[0].platform"),
        ([BlockEntry(BlockKind.USER, " ", Platform.DISCORD)], "entries[0].value"),
        ([BlockEntry(BlockKind.DOMAIN, "localhost")], "entries[0].value"),
    ):
        with pytest.raises(InvalidEvent) as info:
            check_entries(bad)
        assert info.value.field == field


def test_settings_are_checked_and_normalized() -> None:
    ok = check_settings(ChatScreening(KEY, ("OurClub.org", "ourclub.org"), ("(?i)rust",)))
    assert ok.allowed_domains == ("ourclub.org",)
    for bad, field in (
        (ChatScreening(KEY, ("not a domain",)), "allowed_domains[0]"),
        (ChatScreening(KEY, (), ("",)), "entry_patterns[0]"),
        (ChatScreening(KEY, (), ("ok", "(unclosed")), "entry_patterns[1]"),
        (ChatScreening(KEY, (), ("x" * 1001,)), "entry_patterns[0]"),
        (ChatScreening(KEY, (), tuple("abcdefghijklmnopqrstu")), "entry_patterns"),
    ):
        with pytest.raises(InvalidEvent) as info:
            check_settings(bad)
        assert info.value.field == field


def test_page_sizes() -> None:
    assert page_size(0) == 100 and page_size(500) == 500
    with pytest.raises(InvalidEvent):
        page_size(501)
