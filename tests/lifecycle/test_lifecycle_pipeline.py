"""Topic boundaries, flood controls, notices, ticks and health on a real store (SQLite and
PostgreSQL), through the pipeline production runs and the default rulesets."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from firekeeper.areas.lifecycle.queries import outbox
from firekeeper.domain.chats import ChannelTheme
from firekeeper.domain.decisions import ActionType, Decision
from firekeeper.domain.health import Finding, HealthStatus, Pose
from firekeeper.scheduler import tick_event
from tests.lifecycle.builders import (
    KEY,
    OFF_TOPIC,
    ON_TOPIC,
    OWNER,
    READING,
    T0,
    announcement_update,
    joined,
    left,
    message,
    registration,
)
from tests.lifecycle.conftest import World


def _rules(d: Decision) -> list[str]:
    return [a.rule_id for a in d.actions]


def _talk(world: World, texts: tuple[str, ...], start: int = 0) -> list[list[str]]:
    return [
        _rules(world.evaluate(message(t, T0 + timedelta(minutes=start + i), f"u{i % 3}")))
        for i, t in enumerate(texts)
    ]


def test_an_off_topic_streak_in_a_reading_club_draws_one_nudge_not_a_stream(world: World) -> None:
    world.register(registration("growth"))  # a growth group is nudged after 4 in a row
    got = _talk(world, OFF_TOPIC)
    assert got == [[], [], [], ["topic.drift_nudge"], [], [], [], []]
    nudge = world.evaluate(message(OFF_TOPIC[0] + "!", T0 + timedelta(minutes=9)))
    assert nudge.actions == ()
    # a social message is neutral: the streak goes on, still no second nudge
    assert world.evaluate(message("haha 😂 thanks", T0 + timedelta(minutes=10))).actions == ()
    assert _talk(world, OFF_TOPIC[:2], start=11) == [[], []]
    # an on-topic message ends the streak; the next streak may be nudged once again
    world.evaluate(message(ON_TOPIC, T0 + timedelta(minutes=20)))
    again = _talk(world, OFF_TOPIC[:6], start=21)
    assert [r for r in again if r] == [["topic.drift_nudge", "topic.diluting"]]
    assert again[3] == ["topic.drift_nudge", "topic.diluting"]


def test_the_nudge_says_what_the_group_is_for(world: World) -> None:
    world.register(registration("growth", title="Slow Readers"))
    decisions = [
        world.evaluate(message(t, T0 + timedelta(minutes=i))) for i, t in enumerate(OFF_TOPIC[:4])
    ]
    (nudge,) = decisions[3].actions
    # the quieter nudge by default: to the admins, naming the theme in words (the
    # chat's title), not a dump of its keywords
    assert nudge.type is ActionType.NOTIFY_ADMINS and '"Slow Readers"' in nudge.text
    assert "book, reading" not in nudge.text
    trace = decisions[3].trace[0]
    assert ("chat.off_topic_streak", "4") in trace.values
    assert ("chat.nudged_this_streak", "false") in trace.values


def test_one_stray_message_at_a_time_is_never_punished(world: World) -> None:
    world.register(registration("growth"))
    for i, text in enumerate(OFF_TOPIC):
        assert world.evaluate(message(text, T0 + timedelta(minutes=2 * i))).actions == ()
        on = world.evaluate(message(f"{ON_TOPIC} ({i})", T0 + timedelta(minutes=2 * i + 1)))
        assert on.actions == ()


def test_a_free_talk_channel_is_not_judged(world: World) -> None:
    theme = READING.__class__(keywords=READING.keywords, channels=(ChannelTheme("lounge"),))
    world.register(registration("growth", theme=theme))
    for i, text in enumerate(OFF_TOPIC):
        d = world.evaluate(message(text, T0 + timedelta(minutes=i), channel="lounge"))
        assert d.actions == ()


def test_owner_silence_reaches_the_outbox_without_any_event(world: World) -> None:
    world.register(registration("growth"))  # the owner is missed after 7 days
    world.evaluate(message(ON_TOPIC, T0))  # a member speaks; the owner never does
    world.evaluate(message(ON_TOPIC + "!", T0 + timedelta(days=3)))
    world.tick(T0 + timedelta(days=3, hours=1))
    assert world.new_outbox() == []
    world.tick(T0 + timedelta(days=7, hours=1))
    (reminder,) = world.new_outbox()
    assert reminder.action.type is ActionType.NOTIFY_ADMINS
    assert reminder.action.rule_id == "lifecycle.owner_silent" and "7 days" in reminder.action.text
    assert reminder.key == KEY and reminder.event_id.startswith(f"tick:{KEY.chat_id}:3600s:")
    # the next days: one reminder a week at most
    for day in (8, 9, 13):
        world.tick(T0 + timedelta(days=day, hours=1))
        assert world.new_outbox() == []
    world.tick(T0 + timedelta(days=14, hours=1))
    # both the owner's and the group's silence match: one voice per chat, the higher priority
    (reminder,) = world.new_outbox()
    assert reminder.action.rule_id == "lifecycle.group_silent"
    stored = world.store.find_decision(KEY.tenant, KEY.platform, reminder.event_id)
    assert stored is not None and [a.rule_id for a in stored.actions] == [reminder.action.rule_id]
    silenced = {m.rule_id: m.silenced_by for m in stored.trace}
    assert silenced == {
        "lifecycle.group_silent": "",
        "lifecycle.owner_silent": reminder.action.rule_id,
    }
    # the owner speaks: that reminder stops
    world.evaluate(message("Next book: pick one by Friday", T0 + timedelta(days=15), OWNER))
    world.tick(T0 + timedelta(days=21, hours=1))
    assert [i.action.rule_id for i in world.new_outbox()] == []


def test_a_tick_is_evaluated_once_and_logged(world: World) -> None:
    world.register(registration("goal", params={"owner_silent_days": "0"}))
    world.at(T0)
    first = world.scheduler().run_once()
    assert first is not None and (first.evaluated, first.replayed) == (1, 0)
    assert world.scheduler().run_once() is None  # a restart in the same period: done already
    event = tick_event(KEY, 3600, first.period_index)
    again = world.pipeline.evaluate(event)
    assert again.replayed and _rules(again) == ["lifecycle.owner_silent"]
    stored = world.store.find_decision(KEY.tenant, KEY.platform, event.envelope.event_id)
    assert stored is not None and stored.actions == again.actions
    assert len(world.new_outbox()) == 1  # enqueued once, however often it is evaluated
    assert world.pipeline.get_chat(KEY).chat.events_processed == 0  # ticks are not chat events


def test_flood_controls_act_once_at_each_threshold(world: World) -> None:
    world.register(registration("hobby", params={"slow_mode_at": "6", "repeat_limit": "3"}))
    spam = [world.evaluate(message("buy now", T0 + timedelta(seconds=i), "sam")) for i in range(4)]
    assert [_rules(d) for d in spam] == [
        [],
        [],
        ["flood.repeat", "flood.repeat_warn"],
        ["flood.repeat"],
    ]
    assert spam[2].actions[0].type is ActionType.DELETE_MESSAGE
    rush = [
        world.evaluate(message(f"{OFF_TOPIC[i % 8]} {i}", T0 + timedelta(seconds=10 + i), f"p{i}"))
        for i in range(4)
    ]
    slow = [r for r in rush if ActionType.SET_SLOW_MODE in [a.type for a in r.actions]]
    assert len(slow) == 1 and rush[1] is slow[0]  # 4 spam + 2 = the 6th message in a minute
    storm = world.evaluate(
        message(
            "look", T0 + timedelta(seconds=30), "max", mentions=tuple(f"x{i}" for i in range(11))
        )
    )
    assert {a.type for a in storm.actions} >= {ActionType.DELETE_MESSAGE, ActionType.MUTE}


def test_theme_sprawl_tells_the_owner(world: World) -> None:
    world.register(registration("growth"))  # two new themes in 30 days is sprawl here
    first = world.evaluate(
        message("Let's add a fitness check-in area: post your workout daily", T0, OWNER)
    )
    assert first.actions == ()
    second = world.evaluate(
        message(
            "Starting a finance club: sign up to share stock picks", T0 + timedelta(days=2), OWNER
        )
    )
    (notice,) = second.actions
    assert notice.rule_id == "topic.theme_sprawl" and "2 new themes" in notice.text
    # a member announcing something is not the owner expanding the group
    member = world.evaluate(
        message("Let's organise a hiking meetup, sign up here", T0 + timedelta(days=3), "u9")
    )
    assert member.actions == ()


def test_unreadable_notices_get_a_concrete_suggestion(world: World) -> None:
    world.register(registration("family"))  # family notices must be read in 30 seconds
    # over a minute to read: it counts as a flagged notice in the health report too
    wall = "Hello everyone!\n" + "The water will be off on Tuesday in building 3 and 4. " * 25
    d = world.evaluate(message(wall, T0, OWNER, announcement=True))
    (notice,) = d.actions
    assert notice.rule_id == "notice.too_long" and "seconds to read" in notice.text
    assert '"Hello everyone!"' in notice.text
    # to its author alone: a private message, never a post to the group
    assert notice.type is ActionType.MESSAGE_USER and notice.target_user_id == OWNER.id
    ok = world.evaluate(
        message(
            "Tue 9-12: water off, buildings 3-4", T0 + timedelta(hours=1), OWNER, announcement=True
        )
    )
    assert ok.actions == ()
    upd = world.evaluate(announcement_update("通知", T0 + timedelta(hours=2)))
    (unclear,) = upd.actions
    # the advice comes in the chat's language (its members wrote English), whatever
    # the notice's script (tests/i18n: a Chinese group reads it in Chinese)
    assert unclear.rule_id == "notice.announcement_unclear"
    assert '"通知" doesn\'t say what it is about, when or where' in unclear.text
    health = world.service.chat_health(KEY, T0 + timedelta(days=1))
    comm = next(x for x in health.diagnoses if x.pose is Pose.NO_DESIGNED_COMMUNICATION)
    assert health.metrics.notices_flagged_30d == 2 and comm.finding is Finding.PRESENT


def test_health_calls_a_dead_group_a_cemetery_and_says_why(world: World) -> None:
    world.register(registration("growth", member_count=3))
    for i in range(3):
        world.evaluate(joined(f"n{i}", T0 + timedelta(minutes=i)))
    world.evaluate(left("n2", T0 + timedelta(minutes=5)))
    _talk(world, OFF_TOPIC, start=10)
    world.evaluate(message(ON_TOPIC, T0 + timedelta(minutes=30), OWNER))
    alive = world.service.chat_health(KEY, T0 + timedelta(days=1))
    assert alive.status is not HealthStatus.CEMETERY
    assert (alive.metrics.joins_30d, alive.metrics.leaves_30d) == (3, 1)
    assert alive.metrics.monthly_active_posters == 4 and alive.metrics.scored_messages_30d == 9
    dead = world.service.chat_health(KEY, T0 + timedelta(days=45))
    assert dead.status is HealthStatus.CEMETERY
    assert (
        dead.status_reason == "no one has posted for 44 days; a growth group is a cemetery after 30"
    )
    leading = next(x for x in dead.diagnoses if x.pose is Pose.NO_LEADING)
    assert leading.finding is Finding.PRESENT and "44 days ago" in leading.evidence
    # a tick records the status for the chats-by-status gauge
    world.tick(T0 + timedelta(days=45))
    assert world.service.status_counts()[HealthStatus.CEMETERY] == 1
    assert world.service.pending() >= 1


def test_flood_windows_forget_what_is_older_than_they_are(world: World) -> None:
    world.register(registration("hobby"))
    for i in range(2):
        assert world.evaluate(message("same words", T0 + timedelta(minutes=i), "sam")).actions == ()
    later = world.evaluate(message("same words", T0 + timedelta(minutes=12), "sam"))
    assert later.actions == ()  # the earlier two are out of the 10-minute window
    world.tick(T0 + timedelta(minutes=30))  # ticks prune the window rows
    third = world.evaluate(message("same words", T0 + timedelta(minutes=31), "sam"))
    assert third.actions == ()
    assert world.evaluate(message("same words", T0 + timedelta(minutes=32), "sam")).actions == ()
    fifth = world.evaluate(message("same words", T0 + timedelta(minutes=33), "sam"))
    assert [a.rule_id for a in fifth.actions] == ["flood.repeat", "flood.repeat_warn"]


def test_acknowledged_outbox_items_are_dropped_after_a_week(world: World) -> None:
    world.register(registration("goal", params={"owner_silent_days": "0"}))
    world.tick(T0)
    (first,) = world.new_outbox()
    assert world.service.pending() == 0

    def kept() -> list[str]:
        with world.store.engine.connect() as conn:
            return [str(i) for i in conn.execute(sa.select(outbox.c.id)).scalars()]

    assert kept() == [first.id]  # acknowledged, kept for a week
    world.tick(T0 + timedelta(days=8))
    later = world.new_outbox()
    assert later and sorted(kept()) == sorted(i.id for i in later)  # the first is gone
