"""Promotion signals on English, Chinese and Russian messages, and what they must not flag."""

from __future__ import annotations

import pytest

from firekeeper.rules.promo import PROMOTION_SCORE, SIGNALS, WEIGHTS, signals


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "我的付费课程上线了！原价299元，今天只要¥99，报名链接 https://h5.xiaoeknow.com/c/1",
            {"price", "offer_words", "payment_link"},
        ),
        (
            "My paid course is live: $49, enroll now https://gumroad.com/l/abc",
            {"price", "offer_words", "payment_link"},
        ),
        ("想赚钱的加我微信 vx: abc123，日赚500元", {"private_contact", "earning_pitch", "price"}),
        ("扫码进群领取福利", {"qr_or_card", "offer_words"}),
        ("Use my referral code ABC123 for a bonus", {"referral_code"}),
        ("Join here https://t.me/some_bot?start=5555670114", {"referral_code", "outside_link"}),
        ("Earn up to $5000 weekly, DM me", {"earning_pitch", "private_contact", "price"}),
        (
            "Нужен человек для удаленного заработка. Для связи пишите + в ЛС",
            {"earning_pitch", "private_contact"},
        ),
        ("Limited spots! Only 3 seats left for the webinar", {"urgency", "offer_words"}),
        ("short link https://bit.ly/3abc", {"shortener_link", "outside_link"}),
        ("join us https://t.me/+AbCdEf123", {"chat_invite_link", "outside_link"}),
        ("💰💸 big wins", {"money_emoji"}),
    ],
)
def test_signals_are_found(text: str, expected: set[str]) -> None:
    assert expected <= set(signals(text).signals)


@pytest.mark.parametrize(
    "text",
    [
        "我的付费课程上线了！原价299元，今天只要¥99，报名链接 https://h5.xiaoeknow.com/c/1",
        "My paid course is live: $49, enroll now https://gumroad.com/l/abc",
        "想赚钱的加我微信，日赚500元",
        "Пpивeт! Coздaй ceбe пaccивный дoxoд, пишите в лс",
        "ｆｒｅｅ ｃｏｕｒｓｅ ＄０, ａｄｄ ｍｅ ｏｎ ｗｈａｔｓａｐｐ",
    ],
)
def test_promotions_are_promotions(text: str) -> None:
    assert signals(text).promotion


@pytest.mark.parametrize(
    "text",
    [
        "M3 512 GB is 2600 €, the 1 TB one 3100 € - which would you take?",  # a price alone
        "Here is the doc: https://example.org/guide",  # a link alone
        "DM me if you want the slides",  # a call to DM alone
        "这本书在淘宝上大概50元，值得买吗？",  # a price and a question
        "Бот все команды умеет как тут, так и в личку",
        "Anyone know a good course on Rust for beginners?",
        "今天的读书会笔记：第三章讲了复利，我觉得最有用的是每天记录。",
    ],
)
def test_ordinary_chat_is_not_a_promotion(text: str) -> None:
    found = signals(text)
    assert not found.promotion, found.signals


def test_the_chat_own_domains_are_no_signal() -> None:
    text = "Slides of the workshop: https://ourclub.org/slides - questions? DM me"
    assert signals(text).promotion
    allowed = signals(text, allowed={"ourclub.org"})
    assert not allowed.promotion and allowed.outside_links == 0


def test_phishing_and_blocked_domains_count_whatever_the_chat_allows() -> None:
    text = "free nitro https://login.steamcomrnunity.ru/gift and https://x.evil.example/a"
    found = signals(
        text,
        allowed={"steamcomrnunity.ru", "evil.example"},
        phishing={"steamcomrnunity.ru"},
        blocked={"evil.example"},
    )
    assert found.phishing_links == 1 and found.blocked_links == 1
    assert {"phishing_link", "blocked_domain"} <= set(found.signals)


def test_a_shortener_on_a_phishing_list_is_only_a_shortener() -> None:
    found = signals("see https://tinyurl.com/abc", phishing={"tinyurl.com"})
    assert found.phishing_links == 0 and found.shortener_links == 1


def test_attachments_and_platform_links_count() -> None:
    found = signals(
        "看看", links=("https://paypal.me/someone",), attachment_kinds=("mini_program",)
    )
    assert {"payment_link", "qr_or_card"} <= set(found.signals)


def test_obfuscation_is_a_signal_and_its_text_is_read() -> None:
    found = signals("Зaрaбoтoк в интeрнeтe, пишитe в лс")
    assert "obfuscated" in found.signals and "earning_pitch" in found.signals
    assert "Заработок" in found.plain_text


def test_weights_add_up_and_every_signal_has_one() -> None:
    assert set(WEIGHTS) == set(SIGNALS)
    found = signals("Earn $500 daily, DM me https://bit.ly/x")
    assert found.score == sum(WEIGHTS[s] for s in found.signals)
    assert found.score >= PROMOTION_SCORE
