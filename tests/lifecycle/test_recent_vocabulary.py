"""A group's own recent on-topic vocabulary: bounded, per chat, in the store, and read back
after a restart (#12 item 1)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from firekeeper.areas.lifecycle import queries as rows
from firekeeper.areas.lifecycle.pure import theme_vocab
from firekeeper.domain.chats import ChannelTheme, Theme
from firekeeper.pipeline import RulesetHolder
from firekeeper.wiring import build_pipeline
from tests.lifecycle.builders import T0, message, registration
from tests.lifecycle.conftest import INDEX, World

FILM = Theme(
    keywords=("film", "movie", "director"),
    examples=(
        "Saw the new Villeneuve last night, the sound design alone is worth the ticket",
        "Who played the lead in that one? The performance carried the whole story",
        "The sequel is out Friday, anyone up for the IMAX showing?",
    ),
    channels=(ChannelTheme("lounge"),),
)
SEEDS = (
    "The director shot the desert scenes on location, every frame like a gallery painting",
    "That film's desert chase: every frame could be framed in a gallery",
)
PROBE = "Denis knows how to shoot a desert, every frame could hang in a gallery"


def test_remembering_is_bounded_decays_and_ignores_what_the_theme_knows() -> None:
    known = frozenset({"film"})
    got: theme_vocab.Remembered = ()
    for i in range(400):
        found = {f"w{i}.{j}": 1.0 for j in range(10)} | {"film": 1.0, "think": 0.15}
        got = theme_vocab.remember(got, found, known)
    assert len(got) == theme_vocab.RECENT_FEATURES
    words = dict(got)
    assert "film" not in words and "think" not in words  # known, and everyday words
    assert "w399.0" in words and "w0.0" not in words  # the oldest decayed away first
    once = theme_vocab.remember((), {"desert": 1.0}, known)
    assert theme_vocab.recent(once) == frozenset()  # used once: not the group's word yet
    twice = theme_vocab.remember(once, {"desert": 1.0}, known)
    assert theme_vocab.recent(twice) == {"desert"}
    assert theme_vocab.remember(twice, {}, known) == theme_vocab.remember(twice, {}, known)


def _window(world: World) -> str:
    with world.store.engine.connect() as conn:
        pk = conn.execute(rows.sa.text("select id from chats")).scalar_one()
        activity = rows.load_activity(conn, pk)
    assert activity is not None
    return activity.topic_window


def test_the_groups_own_words_join_its_theme_and_survive_a_restart(world: World) -> None:
    world.register(registration("hobby", theme=FILM))
    world.evaluate(message(PROBE, T0))
    assert _window(world) == ""  # nothing of the theme yet, nothing else either: neutral
    # members talk on the theme; a free-talk channel teaches nothing
    world.evaluate(message(SEEDS[0], T0 + timedelta(minutes=1), channel="lounge"))
    for i, text in enumerate(SEEDS):
        world.evaluate(message(text, T0 + timedelta(minutes=2 + i), "u2"))
    assert _window(world) == "oo"
    with world.store.engine.connect() as conn:
        pk = conn.execute(rows.sa.text("select id from chats")).scalar_one()
        activity = rows.load_activity(conn, pk)
    assert activity is not None
    assert {"desert", "gallery"} <= theme_vocab.recent(activity.recent_vocabulary)
    # a restart: a new pipeline over the same store reads the words back
    world.pipeline = build_pipeline(world.store, RulesetHolder(INDEX), clock=world.clock)
    world.evaluate(message(PROBE, T0 + timedelta(minutes=10), "u3"))
    assert _window(world) == "ooo"


def test_another_chat_does_not_share_the_words(world: World) -> None:
    world.register(registration("hobby", theme=FILM))
    for i, text in enumerate(SEEDS):
        world.evaluate(message(text, T0 + timedelta(minutes=i), "u2"))
    other = registration("hobby", theme=FILM)
    other = replace(other, key=replace(other.key, chat_id="other-chat"))
    world.register(other)
    probe = message(PROBE, T0 + timedelta(minutes=5), "u3")
    probe = replace(probe, envelope=replace(probe.envelope, chat_id="other-chat"))
    world.evaluate(probe)
    with world.store.engine.connect() as conn:
        pk = conn.execute(
            rows.sa.text("select id from chats where chat_id = 'other-chat'")
        ).scalar_one()
        activity = rows.load_activity(conn, pk)
    assert activity is not None and activity.topic_window == ""
    assert activity.recent_vocabulary == ()
