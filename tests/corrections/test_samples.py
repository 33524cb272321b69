"""The pure near-duplicate test (firekeeper.areas.corrections.pure.features), on real texts.

Texts: umputun/tg-spam data/{spam,ham}-samples.txt and siuank/ADDetector4J
mc_qq_group.txt (``../shared/fixtures/SOURCES.md``).
"""

from __future__ import annotations

import pytest

from firekeeper.areas.corrections.pure.features import (
    HAM,
    MAX_SAMPLES,
    SPAM,
    ReportedSamples,
    normalize,
    sections,
)
from tests.core.builders import join, message

from .support import SHARED_FIXTURES, TG_SPAM, lines, require_shared

QQ = SHARED_FIXTURES / "datasets" / "siuank_qq_group" / "mc_qq_group.txt"
require_shared(QQ)


def _qq(label: str) -> list[str]:
    out = []
    for line in QQ.read_text(encoding="utf-8").splitlines():
        text, sep, got = line.rpartition("==")
        if sep and got.strip() == label and text.strip():
            out.append(text.strip())
    return out


SPAMS = lines(TG_SPAM / "spam-samples.txt")
HAMS = lines(TG_SPAM / "ham-samples.txt")


def test_normalising_folds_case_width_links_digits_and_punctuation() -> None:
    a = normalize("Earn $500 TODAY!!! 👉 https://t.me/+abc123")
    b = normalize("earn $9000 today 👉👉 https://bit.ly/zzz")
    assert a == b == "earn0todaylink"
    assert normalize("ＦＵＬＬ　ｗｉｄｔｈ") == "fullwidth"
    assert normalize("加 微 信：12345") == "加微信0"


def test_an_exact_copy_and_an_edited_copy_match_a_different_text_does_not() -> None:
    spam = SPAMS[0]
    samples = ReportedSamples.of([(SPAM, spam)])
    assert samples.match(spam).spam
    edited = spam.replace("https://tinyurl.com/yrd86r5b", "https://t.me/+other").upper() + " 🔥"
    found = samples.match(edited)
    assert found.spam and found.similarity >= 0.6
    assert not any(samples.match(h).spam for h in HAMS)


def test_every_tg_spam_sample_reported_catches_none_of_its_ham() -> None:
    samples = ReportedSamples.of([(SPAM, t) for t in SPAMS])
    assert len(samples) == len(set(map(normalize, SPAMS)))
    flagged = [h for h in HAMS if samples.match(h).spam]
    assert flagged == []


def test_chinese_spam_variants_match_and_short_chat_does_not() -> None:
    spam = [t for t in _qq("1") if len(normalize(t)) >= 20][:40]
    ham = _qq("0")
    samples = ReportedSamples.of([(SPAM, t) for t in spam])
    for t in spam:
        assert samples.match(t.replace("，", " ") + "！！").spam, t
    wrongly = [h for h in ham if samples.match(h).spam]
    assert len(wrongly) <= len(ham) // 200, wrongly  # measured: 0 of 2,079 with these 40


def test_short_texts_match_only_exactly() -> None:
    samples = ReportedSamples.of([(HAM, "ok thanks")])
    assert samples.match("OK, thanks!").ham  # the same once normalised
    assert not samples.match("ok thanks a lot").ham  # shorter than MIN_NEAR_CHARS: no near test


def test_ham_vouches_only_for_its_near_duplicates_and_spam_outranks_it() -> None:
    ham = HAMS[5]
    samples = ReportedSamples.of([(HAM, ham)])
    assert samples.match(ham).ham
    assert not any(samples.match(s).ham for s in SPAMS)
    both = ReportedSamples.of([(HAM, ham), (SPAM, ham)])
    found = both.match(ham)
    assert found.spam and not found.ham


def test_a_tenant_keeps_at_most_max_samples_newest_first() -> None:
    texts = [(SPAM, f"sample number {n} " + "x" * 20) for n in range(MAX_SAMPLES + 5)]
    samples = ReportedSamples.of(texts)
    assert len(samples.samples) <= MAX_SAMPLES
    with pytest.raises(ValueError, match="spam or ham"):
        ReportedSamples.of([("maybe", "text")])


def test_sections_only_for_messages() -> None:
    samples = ReportedSamples.of([(SPAM, SPAMS[1])])
    assert sections(message(SPAMS[1]), samples) == {
        "message": {"reported_spam_match": True, "reported_ham_match": False}
    }
    assert sections(message("hello there, how are you all"), None) == {
        "message": {"reported_spam_match": False, "reported_ham_match": False}
    }
    assert sections(join(), samples) == {}
