"""Floors on how well messages are judged against a group's theme (#12 item 1).

Data: the KdConv dialogues (thu-coai/KdConv, Apache-2.0; ../shared/fixtures/datasets/
kdconv_zh_dialogues, see shared/fixtures/SOURCES.md): 450 crowdsourced Chinese dialogues on
film, music and travel, each on its domain, judged against a film, a music and a travel
group's themes (tests/lifecycle/data/topic_zh_themes.yaml); and the English set written for
this project (tests/lifecycle/data/topic_en.yaml). Only the held-out halves are measured
here; the scorer's numbers were tuned on the other halves (tests/lifecycle/topic_measure.py,
which prints the whole table). Figures at the time of writing are in docs/lifecycle.md; the
floors sit a few points under them.
"""

from __future__ import annotations

import pytest

from tests.lifecycle import topic_measure

HELD_OUT = 1


@pytest.fixture(scope="module")
def kdconv() -> dict[str, topic_measure.Tally]:
    if not topic_measure.KDCONV.is_file():
        pytest.skip(f"shared fixtures not found at {topic_measure.KDCONV}: clone shared/ beside")
    return topic_measure.measure_kdconv(HELD_OUT)


def test_a_film_group_accepts_film_talk_and_flags_travel_talk(
    kdconv: dict[str, topic_measure.Tally],
) -> None:
    far = kdconv["far"]  # film, music against travel and back
    assert far.on > 5000 and far.off > 1500
    # a healthy group is not nudged: nearly every on-theme message is accepted, and what
    # is flagged was off the theme
    assert far.accepted / far.on >= 0.95, far.line("far")
    assert far.off_precision >= 0.83, far.line("far")
    assert far.accuracy >= 0.80, far.line("far")
    assert far.flagged / far.off >= 0.30, far.line("far")
    # on-topic talk with none of the theme's keywords is recognised from the examples
    assert far.keywordless_recognised >= 200, far.line("far")


def test_near_domains_are_told_apart_less_often_but_without_nudging_the_healthy(
    kdconv: dict[str, topic_measure.Tally],
) -> None:
    near = kdconv["near"]  # film against music: film talk names singers and soundtracks
    assert near.accepted / near.on >= 0.95, near.line("near")
    assert near.off_precision >= 0.80, near.line("near")
    assert near.accuracy >= 0.77, near.line("near")


def test_the_groups_recent_vocabulary_makes_judging_more_precise(
    kdconv: dict[str, topic_measure.Tally],
) -> None:
    recent = topic_measure.measure_kdconv(HELD_OUT, recent=True)["far"]
    assert recent.off_precision >= 0.88, recent.line("far + recent")
    assert recent.accepted / recent.on >= 0.97, recent.line("far + recent")
    assert recent.accuracy >= 0.80, recent.line("far + recent")
    assert recent.recognised > kdconv["far"].recognised


def test_english_group_themes() -> None:
    tally = topic_measure.measure_en(HELD_OUT)
    assert tally.on == 60 and tally.off == 36
    assert tally.accuracy >= 0.80, tally.line("en")
    assert tally.off_precision >= 0.75, tally.line("en")
    assert tally.accepted / tally.on >= 0.85, tally.line("en")
    assert tally.keywordless_recognised >= 5, tally.line("en")


def test_examples_recognise_more_than_keywords_alone() -> None:
    with_examples = topic_measure.measure_en(HELD_OUT)
    keywords_only = topic_measure.measure_en(HELD_OUT, examples=False)
    assert with_examples.recognised > keywords_only.recognised
    assert keywords_only.keywordless_recognised == 0
