"""House rules are not ads; an ordinary link is not an ad by itself (issue 12, item 6)."""

from __future__ import annotations

import pytest

from firekeeper.areas.screening.pure.features import TrustContext, sections
from firekeeper.rules import promo
from firekeeper.rules.house_rules import outside_prohibitions, states_rules
from tests.core.builders import message


@pytest.mark.parametrize(
    "text",
    [
        "Group rules: no ads, no DM me offers, no referral codes or paid courses. Be kind.",
        "Please don't post links to shops or paid courses here. No selling, no crypto.",
        "群规：禁止发广告、二维码、私加好友拉人，违者踢出",
        "本群严禁兼职刷单、返利、拉人头，发现一律踢",
    ],
)
def test_a_rules_notice_is_not_a_promotion(text: str) -> None:
    assert states_rules(text)
    out = sections(message(text), TrustContext())["message"]
    assert out["states_rules"] and not out["promotion"] and not out["paid_offer"]
    assert out["plain_text"] == promo.signals(text).plain_text  # the text itself is kept


def test_read_as_words_a_rules_notice_looks_like_an_ad() -> None:
    for text in (
        "Group rules: no ads, no DM me offers, no referral codes.",
        "禁止发广告、二维码、私加好友",
    ):
        assert promo.signals(text).promotion
        assert not promo.signals(outside_prohibitions(text)).promotion


@pytest.mark.parametrize(
    "text",
    [
        "严禁广告，加v:abc12345 领红包",  # a handle in the clause keeps it
        "No scams here, DM me for the real forex signals",  # only its own clause is set aside
        "群发勿踢，低价出游戏账号，加扣扣 2833106087",  # an ad's own disclaimer
        "ｎｏ ａｄｓ, ＤＭ ｍｅ ｆｏｒ ｐｒｉｃｅｓ $5",  # disguised letters are read whole
    ],
)
def test_an_ad_wearing_a_rules_words_is_still_an_ad(text: str) -> None:
    assert sections(message(text), TrustContext())["message"]["promotion"]


def test_only_clauses_that_forbid_and_hold_nothing_concrete_are_set_aside() -> None:
    text = "No ads. Book club Sat 8pm at https://meet.example.com/x, no DM offers!"
    kept = outside_prohibitions(text)
    assert len(kept) == len(text)
    assert "No ads" not in kept and "no DM offers" not in kept
    assert "Book club Sat 8pm at https://meet.example.com/x" in kept
    assert outside_prohibitions("Sat 8pm, Cafe Luna") == "Sat 8pm, Cafe Luna"


def test_an_ordinary_link_carries_nothing_but_shop_price_and_offer_signals() -> None:
    book = promo.signals("The novel is on sale for $8.99: https://www.amazon.com/dp/1635575")
    assert book.promotion and book.ordinary_link
    pitch = promo.signals("20% off my course, DM me: https://www.amazon.com/dp/1635575")
    assert pitch.promotion and not pitch.ordinary_link
    short = promo.signals("Cheap books $5 https://bit.ly/abc")
    assert not short.ordinary_link  # a shortener hides where it goes
    assert not promo.signals("No link here, just $8.99").ordinary_link
    out = sections(message("京东有售 https://item.jd.com/12345.html 现在39元"), TrustContext())
    assert out["message"]["ordinary_link"] is True


def test_dont_miss_is_urgency_not_a_rule() -> None:
    for text in ("Don't miss this course, DM me", "不要错过，私聊我领取课程优惠"):
        assert not states_rules(text)
        assert outside_prohibitions(text) == text
        assert sections(message(text), TrustContext())["message"]["promotion"]


def test_an_ads_assurances_are_not_rules() -> None:
    # a shape seen in real spam: "no scam" is a promise, not a prohibition
    text = "Earn 80% profit in 12 hours no scam no delay, DM me to start earning today"
    assert (
        not states_rules(text) and sections(message(text), TrustContext())["message"]["promotion"]
    )
