"""One message's text features are computed once, whichever stages read them."""

from __future__ import annotations

import pytest

from firekeeper.areas.lifecycle.pure import features as lifecycle
from firekeeper.areas.screening.pure import features as screening
from firekeeper.domain.events import MessagePosted
from firekeeper.rules import facts, features, promo
from firekeeper.rules.features import TextFeatures
from firekeeper.rules.unmask import unmask

from .builders import ctx, event


def test_the_shared_value_gives_what_each_feature_function_gives() -> None:
    text = "Ｆｒｅｅ course! d m me: www.example.com/x and https://t.me/joinchat/abc"
    shared = features.of(text)
    assert shared is features.of(text)
    assert shared.unmasked == unmask(text)
    assert shared.links(("https://a.example/",)) == features.find_links(
        text, ("https://a.example/",)
    )
    assert shared.plain_links() == features.find_links(unmask(text).text)
    assert shared.shape == features.shape(text)


def test_a_message_is_unmasked_once_for_the_fact_and_every_area(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = features.unmask

    def counting(text: str) -> object:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(features, "unmask", counting)
    features.of.cache_clear()
    text = "加 微 信 abc123，课程只要 ¥99 https://t.cn/xyz"
    ev = event(MessagePosted(message_id="m1", text=text))
    facts.build_fact(ev, ctx(), {})
    # the screening area: domains at load, then the promotion signals and the rest
    features.domains(features.of(text).plain_links())
    screening.sections(ev, screening.TrustContext())
    promo.signals(text)
    lifecycle.text_key(text)
    assert calls == [text]


def test_what_is_kept_is_bounded() -> None:
    features.of.cache_clear()
    for n in range(features.KEPT_TEXTS + 10):
        features.of(f"message {n}")
    assert features.of.cache_info().currsize == features.KEPT_TEXTS
    assert isinstance(features.of("message 0"), TextFeatures)


def test_a_pure_function_of_the_text_is_computed_once() -> None:
    features.of.cache_clear()
    seen: list[str] = []

    def count(text: str) -> int:
        seen.append(text)
        return len(text.split())

    text = "how do I join the reading club this week?"
    assert features.of(text).once(count) == 9
    assert features.of(text).once(count) == 9
    assert seen == [text]
