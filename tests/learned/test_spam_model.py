"""The pure spam scorer and its document: scores, languages, and documents it refuses."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from firekeeper.areas.screening.pure.features import TrustContext, sections
from firekeeper.domain.events import Actor, Envelope, Event, MessagePosted, Platform
from firekeeper.rules import spam_model
from firekeeper.rules.spam_model import SpamModel, SpamModelError, from_document, to_document


def _model(**kw: Any) -> SpamModel:
    bits = 8
    weights = tuple(((i * 37) % 255 - 127) / 40 for i in range(1 << bits))
    base = SpamModel("t1", bits, 1, 3, 200, -1.5, weights, {}, ("zh-Hans", "ru"))
    return replace(base, **kw)


def test_the_score_is_the_logistic_of_the_bucket_weights() -> None:
    m = _model()
    text = "出个外挂 80r"
    present = spam_model.buckets(text, m)
    z = m.bias + sum(m.weights[b] for b in present) / math.sqrt(len(present))
    want = 1 / (1 + math.exp(-z))
    assert spam_model.score(m, text) == pytest.approx(want, abs=1e-12)
    assert 0.0 < spam_model.score(m, text) < 1.0


def test_numbers_and_case_are_normalized_and_the_text_is_cut() -> None:
    m = _model()
    assert spam_model.normalize("QQ 3194704877  加我 50r", 200) == " qq # 加我 00r "
    assert spam_model.buckets("Vape 100R", m) == spam_model.buckets("vape 999r", m)
    assert spam_model.normalize("   ", 200) == ""
    assert spam_model.score(m, "") == pytest.approx(spam_model.sigmoid(m.bias))
    long = "好" * 200
    assert spam_model.buckets(long + "出外挂", m) == spam_model.buckets(long, m)


def test_languages_the_model_was_not_trained_on_get_no_score() -> None:
    m = _model()
    assert spam_model.script_lang("出个外挂") == "zh-Hans"
    assert spam_model.script_lang("пишите в лс") == "ru"
    assert spam_model.script_lang("DM me") == "en"
    assert spam_model.spam_score(m, "DM me for a deal") is None
    assert spam_model.spam_score(m, "出个外挂") == spam_model.score(m, "出个外挂")


def test_the_document_round_trips_with_8_bit_weights() -> None:
    m = _model(meta={"threshold": 0.8})
    back = from_document(to_document(m))
    assert back.version == m.version and back.languages == m.languages
    assert back.meta == {"threshold": 0.8}
    scale = max(abs(w) for w in m.weights) / 127
    error = max(abs(a - b) for a, b in zip(back.weights, m.weights, strict=True))
    assert error <= scale / 2 + 1e-12
    # once quantized, a round trip changes nothing
    assert from_document(to_document(back)).weights == back.weights


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"format": "something/9"}, "format"),
        ({"bits": 30}, "bits"),
        ({"bits": True}, "bits"),
        ({"ngram_min": 4, "ngram_max": 2}, "ngram_min"),
        ({"weights": "not base64!"}, "weights"),
        ({"weights": "eJwDAAAAAAE="}, "bytes for"),
        ({"scale": -1}, "scale"),
        ({"languages": "zh-Hans"}, "languages"),
        ({"languages": [1]}, "languages"),
    ],
)
def test_a_bad_document_is_refused_with_what_is_wrong(change: dict[str, Any], says: str) -> None:
    doc = to_document(_model()) | change
    with pytest.raises(SpamModelError, match=says):
        from_document(doc)


def test_a_document_missing_a_field_names_it() -> None:
    doc = to_document(_model())
    del doc["bias"]
    with pytest.raises(SpamModelError, match="'bias'"):
        from_document(doc)


def _message(text: str) -> Event:
    env = Envelope(
        event_id="e1",
        platform=Platform.TELEGRAM,
        tenant="t",
        chat_id="c",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        actor=Actor(id="u1", display_name="U"),
    )
    return Event(envelope=env, payload=MessagePosted(message_id="m1", text=text))


def test_the_fact_carries_spam_score_only_with_a_model_and_a_scored_language() -> None:
    m = _model()
    tc = TrustContext()
    zh = sections(_message("出个外挂 80r"), tc, (), m)["message"]
    assert zh["spam_score"] == round(spam_model.score(m, "出个外挂 80r"), 4)
    assert "spam_score" not in sections(_message("出个外挂 80r"), tc, (), None)["message"]
    assert "spam_score" not in sections(_message("selling cheats"), tc, (), m)["message"]
