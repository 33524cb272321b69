"""The python-telegram-bot adapter, end to end without network.

Real updates become ``telegram.Update`` objects with PTB's own ``Update.de_json``;
a real Firekeeper (``run_service`` on port 0) decides; the decision's calls go
through PTB's ``Bot`` methods down to its request layer, where a
``telegram.request.BaseRequest`` subclass records each Bot API request and
answers it as Telegram would.

Real payloads: ``shared/fixtures/payloads/telegram/teloxide_update_rs_real_updates.json``
(teloxide/teloxide, crates/teloxide-core/src/types/update.rs, tests ``issue_1107``,
``de_private_chat_text_message``, ``pinned_message_works``; commit 3c46b96e, MIT;
see SOURCES.md). The join request is ``tests/adapters/samples/telegram_updates.json``
(written from the Bot API docs, see samples/README.md).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram import Update
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData
from telegram.warnings import PTBDeprecationWarning

from firekeeper.adapters import translate_telegram
from firekeeper.client import AsyncFirekeeperClient
from firekeeper.domain import Platform
from firekeeper.domain.chats import ChatKey, ChatRegistration
from firekeeper.integrations.settings import ServiceSettings, SettingError
from firekeeper.integrations.telegram_bot import (
    TelegramAdapter,
    TelegramSettings,
    build_application,
    is_permanent,
    main,
)
from tests.adapters.conftest import SAMPLES

from .conftest import TENANT, Firekeeper, eventually

BOT_TOKEN = "123456:TEST-token-not-real"
ADMIN_CHAT = "-1009999999"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Firekeeper", "username": "fk_bot"}


class RecordingRequest(BaseRequest):
    """PTB's HTTP layer replaced: records (method, parameters), answers like the Bot API."""

    def __init__(
        self, refuse: dict[str, tuple[int, str]] | None = None, *, refuse_once: bool = False
    ) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.refuse = refuse or {}
        self.refuse_once = refuse_once

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        if name != "getMe":
            self.calls.append((name, params))
        if name in self.refuse:
            status, description = self.refuse.pop(name) if self.refuse_once else self.refuse[name]
            return status, json.dumps(
                {"ok": False, "error_code": status, "description": description}
            ).encode()
        result: object = True
        if name == "getMe":
            result = BOT_USER
        elif name == "sendMessage":
            result = {
                "message_id": 1 + len(self.calls),
                "date": 1721600000,
                "chat": {"id": params["chat_id"], "type": "supergroup"},
                "from": BOT_USER,
                "text": params["text"],
            }
        return 200, json.dumps({"ok": True, "result": result}).encode()


def settings(address: str, **overrides: Any) -> TelegramSettings:
    values: dict[str, Any] = {
        "service": ServiceSettings(tenant=TENANT, target=address),
        "bot_token": BOT_TOKEN,
        "admin_chat_id": ADMIN_CHAT,
    }
    values.update(overrides)
    return TelegramSettings(**values)


@pytest.fixture
async def bot(
    firekeeper: Firekeeper,
) -> AsyncIterator[tuple[Application[Any, Any, Any, Any, Any, Any], RecordingRequest]]:
    request = RecordingRequest()
    application = build_application(
        settings(firekeeper.address), request=request, get_updates_request=RecordingRequest()
    )
    async with application:  # initialize: getMe through the recording layer
        yield application, request


def teloxide(payloads: Path, name: str) -> list[dict[str, Any]]:
    data = json.loads((payloads / "telegram" / "teloxide_update_rs_real_updates.json").read_text())
    found: list[dict[str, Any]] = data[name]
    return found


async def register(address: str, chat_id: str, **kw: Any) -> None:
    async with AsyncFirekeeperClient(address) as client:
        await client.register_chat(
            ChatRegistration(key=ChatKey(Platform.TELEGRAM, TENANT, chat_id), **kw)
        )


def adapter(application: Application[Any, Any, Any, Any, Any, Any]) -> TelegramAdapter:
    found = application.bot_data["firekeeper"]
    assert isinstance(found, TelegramAdapter)
    return found


def test_update_to_dict_translates_like_the_raw_payload(payloads: Path) -> None:
    # The adapter translates Update.to_dict(); PTB must hand back what Telegram sent.
    data = json.loads((payloads / "telegram" / "teloxide_update_rs_real_updates.json").read_text())
    context = TelegramSettings(ServiceSettings(tenant=TENANT), BOT_TOKEN)
    from firekeeper.adapters import TelegramContext

    ctx = TelegramContext(context.service.tenant)
    for updates in data.values():
        for raw in updates:
            parsed = Update.de_json(raw, None)
            assert translate_telegram(parsed.to_dict(), ctx) == translate_telegram(raw, ctx)


async def test_story_spam_from_a_blocked_user_is_deleted_and_banned(
    firekeeper: Firekeeper, bot: tuple[Any, RecordingRequest], payloads: Path
) -> None:
    application, request = bot
    story = teloxide(payloads, "issue_1107_story_spam_then_report_in_supergroup")[0]
    chat_id = str(story["message"]["chat"]["id"])
    await register(firekeeper.address, chat_id, kind="hobby", member_count=120)
    await firekeeper.block_user(Platform.TELEGRAM, "6962620676")  # the story spammer

    update = Update.de_json(story, application.bot)
    await application.process_update(update)

    assert request.calls == [
        ("deleteMessage", {"chat_id": -1001293752024, "message_id": 134545}),
        ("banChatMember", {"chat_id": -1001293752024, "user_id": 6962620676}),
    ]
    # Telegram redelivers the update: the service replays its decision, nothing is done twice.
    outcome = await adapter(application).handle(update)
    assert outcome.decisions[0].replayed and outcome.calls == []
    assert len(request.calls) == 2


async def test_a_flood_is_warned_muted_and_reported(
    firekeeper: Firekeeper, bot: tuple[Any, RecordingRequest], payloads: Path
) -> None:
    application, request = bot
    report = teloxide(payloads, "issue_1107_story_spam_then_report_in_supergroup")[1]
    chat_id = str(report["message"]["chat"]["id"])
    # One message a minute is already a flood in this chat: warn and mute at once.
    await register(
        firekeeper.address, chat_id, kind="hobby", member_count=120,
        params={"flood_per_minute": "1", "flood_mute_at": "1"},
    )  # fmt: skip

    await application.process_update(Update.de_json(report, application.bot))

    by_method: dict[str, list[dict[str, Any]]] = {}
    for method, params in request.calls:
        by_method.setdefault(method, []).append(params)
    (restrict,) = by_method["restrictChatMember"]
    assert restrict["chat_id"] == -1001293752024 and restrict["user_id"] == 5964236329
    assert restrict["use_independent_chat_permissions"] is True
    assert set(restrict["permissions"].values()) == {False}  # every can_send_* off
    # until_date is the time of the call + 10 minutes (the live bot acts now, not in 2024)
    assert restrict["until_date"] == pytest.approx(time.time() + 600, abs=60)
    warning = next(p for p in by_method["sendMessage"] if p["chat_id"] == -1001293752024)
    # the rule's text opens with {mention}: the adapter puts the member's name there
    assert warning["text"].startswith("the Cable Guy ") and "{mention}" not in warning["text"]
    assert warning["entities"] == [
        {"type": "text_link", "offset": 0, "length": 13, "url": "tg://user?id=5964236329"}
    ]
    notice = next(p for p in by_method["sendMessage"] if p["chat_id"] == int(ADMIN_CHAT))
    assert "rule flood." in notice["text"]


async def test_a_join_request_to_a_full_group_is_declined(
    firekeeper: Firekeeper, bot: tuple[Any, RecordingRequest]
) -> None:
    application, request = bot
    samples = json.loads((SAMPLES / "telegram_updates.json").read_text())
    join = samples["chat_join_request"]
    # goal groups stop at 49 members (rulesets/goal.yaml hard_cap)
    await register(firekeeper.address, "-1001000000001", kind="goal", member_count=49)

    await application.process_update(Update.de_json(join, application.bot))

    methods = [m for m, _ in request.calls]
    assert ("declineChatJoinRequest", {"chat_id": -1001000000001, "user_id": 999}) in request.calls
    assert "approveChatJoinRequest" not in methods
    assert any(m == "sendMessage" and p["chat_id"] == int(ADMIN_CHAT) for m, p in request.calls)


async def test_a_private_chat_or_a_pinned_notice_makes_no_call(
    firekeeper: Firekeeper, bot: tuple[Any, RecordingRequest], payloads: Path
) -> None:
    application, request = bot
    for name in ("de_private_chat_text_message", "pinned_message_works"):
        for raw in teloxide(payloads, name):
            await application.process_update(Update.de_json(raw, application.bot))
    assert request.calls == []


def pinned(text: str, update_id: int, message_id: int) -> dict[str, Any]:
    """A notice pinned by Hirrolot in the teloxide group of the fixtures (text ours)."""
    group = {"id": -1001276785818, "title": "teloxide dev", "type": "supergroup"}
    user = {"first_name": "Hirrolot", "id": 408258968, "is_bot": False}
    note = {"chat": group, "date": 1582134643, "from": user, "message_id": message_id - 1}
    return {
        "message": {
            "chat": group, "date": 1582134655, "from": user, "message_id": message_id,
            "pinned_message": {**note, "text": text},
        },
        "update_id": update_id,
    }  # fmt: skip


async def test_feedback_on_a_notice_goes_privately_to_an_author_who_started_the_bot(
    firekeeper: Firekeeper, bot: tuple[Any, RecordingRequest], payloads: Path
) -> None:
    application, request = bot
    await register(firekeeper.address, "-1001276785818", kind="growth", member_count=20)
    # Before the author ever wrote to the bot, the admins are asked to pass it on.
    await application.process_update(Update.de_json(pinned("Meeting moved. Check.", 1, 30), None))
    ((method, params),) = request.calls
    assert method == "sendMessage" and params["chat_id"] == int(ADMIN_CHAT)
    assert "pass on to Hirrolot privately" in params["text"]
    # The author's private chat with the bot (a real update: de_private_chat_text_message).
    for raw in teloxide(payloads, "de_private_chat_text_message"):
        await application.process_update(Update.de_json(raw, application.bot))
    request.calls.clear()
    await application.process_update(Update.de_json(pinned("改时间了", 2, 40), None))
    ((method, params),) = request.calls
    assert method == "sendMessage" and params["chat_id"] == 408258968  # privately
    assert "says something changed" in params["text"] or "只说了有变化" in params["text"]


async def test_outbox_items_are_sent_through_the_bot_and_acknowledged(
    firekeeper: Firekeeper,
) -> None:
    request = RecordingRequest()
    application = build_application(
        settings(firekeeper.address), request=request, get_updates_request=RecordingRequest()
    )
    firekeeper.owner_missed(Platform.TELEGRAM, "-100555")
    async with application:
        assert application.post_init is not None and application.post_shutdown is not None
        await application.post_init(application)  # what run_polling does after initialize
        try:
            await eventually(lambda: any(m == "sendMessage" for m, _ in request.calls))
            # acknowledged once the call was made (when the stream asks for the next item)
            await eventually(lambda: firekeeper.pending_outbox() == 0)
        finally:
            await application.post_shutdown(application)
    ((method, params),) = request.calls
    assert method == "sendMessage" and params["chat_id"] == int(ADMIN_CHAT)
    assert "rule lifecycle.owner_silent" in params["text"]
    assert "The owner has not posted for" in params["text"]


async def test_an_outbox_item_whose_call_failed_in_transit_comes_again(
    firekeeper: Firekeeper,
) -> None:
    # Telegram answers 502 once: PTB raises NetworkError, the item is not acknowledged,
    # the stream is opened again and the service sends the item again.
    request = RecordingRequest(refuse={"sendMessage": (502, "Bad Gateway")}, refuse_once=True)
    application = build_application(
        settings(firekeeper.address), request=request, get_updates_request=RecordingRequest()
    )
    firekeeper.owner_missed(Platform.TELEGRAM, "-100555")
    async with application:
        assert application.post_init is not None and application.post_shutdown is not None
        await application.post_init(application)
        try:
            await eventually(lambda: len(request.calls) == 2)
            await eventually(lambda: firekeeper.pending_outbox() == 0)
        finally:
            await application.post_shutdown(application)
    first, second = request.calls
    assert first == second and first[0] == "sendMessage"  # the same call, made again


async def test_a_refused_call_is_logged_and_the_rest_still_runs(
    firekeeper: Firekeeper, payloads: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The bot may not delete (not an admin): Telegram answers 400; the ban still goes out.
    request = RecordingRequest(
        refuse={"deleteMessage": (400, "Bad Request: message can't be deleted")}
    )
    application = build_application(
        settings(firekeeper.address), request=request, get_updates_request=RecordingRequest(),
        outbox=False,
    )  # fmt: skip
    story = teloxide(payloads, "issue_1107_story_spam_then_report_in_supergroup")[0]
    await register(firekeeper.address, str(story["message"]["chat"]["id"]), kind="hobby")
    await firekeeper.block_user(Platform.TELEGRAM, "6962620676")
    async with application:
        outcome = await adapter(application).handle(Update.de_json(story, application.bot))
    assert [m for m, _ in request.calls] == ["deleteMessage", "banChatMember"]
    assert [c.method for c in outcome.calls] == ["banChatMember"]
    assert outcome.failures == ["deleteMessage: Message can't be deleted"]
    assert "platform refused a call" in caplog.text


async def test_without_an_admin_chat_the_notice_is_reported_and_the_rest_is_done(
    firekeeper: Firekeeper, payloads: Path
) -> None:
    request = RecordingRequest()
    application = build_application(
        settings(firekeeper.address, admin_chat_id=""), request=request,
        get_updates_request=RecordingRequest(), outbox=False,
    )  # fmt: skip
    report = teloxide(payloads, "issue_1107_story_spam_then_report_in_supergroup")[1]
    await register(
        firekeeper.address, str(report["message"]["chat"]["id"]), kind="hobby",
        params={"flood_per_minute": "1", "flood_mute_at": "1"},
    )  # fmt: skip
    async with application:
        outcome = await adapter(application).handle(Update.de_json(report, application.bot))
    assert "restrictChatMember" in [m for m, _ in request.calls]
    assert any(
        f.startswith("notify_admins: ") and "admin_chat_id" in f for f in outcome.failures
    ), outcome.failures


def test_errors_that_a_retry_can_fix_are_transient() -> None:
    assert is_permanent(BadRequest("chat not found"))
    assert is_permanent(Forbidden("bot was kicked"))
    assert is_permanent(ValueError("no Bot method"))
    assert not is_permanent(TimedOut())
    with warnings.catch_warnings():  # PTB 22 warns that retry_after's type will change
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        rate_limited = RetryAfter(timedelta(seconds=5))
    assert not is_permanent(rate_limited)
    assert not is_permanent(NetworkError("connection reset"))


def test_settings_come_from_the_environment_with_clear_errors(
    capsys: pytest.CaptureFixture[str],
) -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": BOT_TOKEN,
        "FIREKEEPER_TENANT": "acme",
        "TELEGRAM_ADMIN_CHAT_ID": ADMIN_CHAT,
        "TELEGRAM_MEMBERSHIP_SOURCE": "chat_member",
        "TELEGRAM_INVITE_LINKS": "https://t.me/+a, https://t.me/+b",
        "FIREKEEPER_TARGET": "firekeeper:50051",
    }
    got = TelegramSettings.from_env(env)
    assert got.service.target == "firekeeper:50051" and got.service.tenant == "acme"
    assert got.invite_links == ("https://t.me/+a", "https://t.me/+b")
    assert got.membership_source.value == "chat_member"
    with pytest.raises(SettingError, match="TELEGRAM_BOT_TOKEN: not set"):
        TelegramSettings.from_env({"FIREKEEPER_TENANT": "acme"})
    with pytest.raises(SettingError, match="TELEGRAM_MEMBERSHIP_SOURCE"):
        TelegramSettings.from_env({**env, "TELEGRAM_MEMBERSHIP_SOURCE": "both"})
    assert main({"TELEGRAM_BOT_TOKEN": BOT_TOKEN}) == 2  # no tenant: exits before any request
    assert "FIREKEEPER_TENANT: not set" in capsys.readouterr().err
