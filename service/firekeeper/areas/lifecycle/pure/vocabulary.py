"""The fields the lifecycle area adds to the fact, for rules to read: topic boundaries,
lifecycle and announcements (``topic``, ``announcements``, ``features``; windows and
guards in docs/lifecycle.md). ``firekeeper.area_registry`` assembles them with the
core's and every area's into the vocabulary the checker types rules against.
"""

from __future__ import annotations

from firekeeper.rules.vocabulary import MSG, MSG_TICK, NOTICE, TICK, Field

# fmt: off
# (a table: one field a line reads best)
FIELDS: tuple[Field, ...] = (
    # (firekeeper.areas.lifecycle.pure.topic, .announcements, .lifecycle; windows and guards in docs/lifecycle.md)
    Field("chat.theme_keywords", "list", "the keywords of the chat's declared theme (its registration's, else its ruleset's profile)"),
    Field("message.topic", "string", "on_topic, off_topic, neutral (social, too short, partly related, nothing it can place, other script) or unscored (no theme here, a bot)", MSG),
    Field("message.topic_score", "number", "0 to 1: how strongly the text matches the theme: its keywords and phrases, or its vocabulary (examples, the group's recent on-topic talk); 0.3 is on topic (absent when unscored)", MSG),
    Field("message.is_social", "bool", "a greeting, thanks, laughter, acknowledgement, emoji or sticker (never off topic)", MSG),
    Field("message.off_topic", "bool", "message.topic is off_topic: long enough to show the theme, nothing of it, and plainly another subject (meals, weather, the office, ...)", MSG),
    Field("message.theme_hits", "list", "the theme's keywords and phrases the message contains, as the theme writes them", MSG),
    Field("message.announces_activity", "bool", "an announcement, pinned notice or text announcing an activity, new section or series (EN/ZH cues)", MSG),
    Field("message.expands_theme", "bool", "the owner or an admin announces an activity that brings another subject: off topic, or a new standing section or series about another subject (theme sprawl); an on-theme vote, check-in or challenge never is", MSG),
    Field("message.repeat_count", "int", "times the actor posted this same text in the last 10 minutes, this one included", MSG),
    Field("actor.messages_last_minute", "int", "the actor's messages in the last minute, this one included (edits and bots do not count)", MSG),
    Field("actor.mentions_last_minute", "int", "users (and @everyone) the actor mentioned in the last minute, this message included", MSG),
    Field("chat.messages_last_minute", "int", "messages by people in the chat in the last minute, this one included", MSG),
    Field("chat.off_topic_streak", "int", "off-topic messages since the last on-topic one, this one included (neutral ones neither break nor extend it)", MSG),
    Field("chat.nudged_this_streak", "bool", "a rule reading this field already acted in the current off-topic streak (one nudge per streak)", MSG),
    Field("chat.off_topic_share", "number", "share of off-topic messages among the last 20 judged on or off topic (absent before the first)", MSG_TICK),
    Field("chat.topic_window_size", "int", "messages judged on or off topic in that window (0 to 20)", MSG_TICK),
    Field("chat.new_themes_30d", "int", "owner/admin announcements of themes outside the declared one in the last 30 days (this one included)", MSG_TICK),
    Field("notice.present", "bool", "the event carries a notice: an announcement or pinned message, or a changed chat announcement", NOTICE),
    Field("notice.length", "int", "characters in the notice", NOTICE),
    Field("notice.line_count", "int", "non-empty lines in the notice", NOTICE),
    Field("notice.reading_seconds", "int", "estimated reading time: 300 CJK characters or 240 words a minute", NOTICE),
    Field("notice.first_line", "text", "the notice's first non-empty line (what a phone's preview shows)", NOTICE),
    Field("notice.first_line_clear", "bool", "the first line is at most 60 columns (30 CJK characters) and is not only a greeting or a label", NOTICE),
    Field("notice.is_wall", "bool", "a paragraph runs more than 240 columns without a line break", NOTICE),
    Field("notice.too_short", "bool", "under 20 columns with no time, date or number: members will have to ask", NOTICE),
    Field("notice.says_what", "bool", "the notice names an event or an action (meeting, ride, 读书会, 停水, vote, 报名, chapter 5) or states house rules", NOTICE),
    Field("notice.says_when", "bool", "the notice gives a time or a date (8pm, Sat, 10 Dec, 12/10, 周六晚8点, 明天下午3点, 12月10日, 下周)", NOTICE),
    Field("notice.says_where", "bool", "the notice gives a place, an online venue or a link (Cafe Luna, room 2, Zoom, 腾讯会议, 线下, 地址：...)", NOTICE),
    Field("notice.states_rules", "bool", "the notice forbids something: house rules (no ads, 禁止广告, 请勿刷屏)", NOTICE),
    Field("notice.announces_change", "bool", "the notice announces a change: moved, postponed, rescheduled, 改到, 推迟, 调整", NOTICE),
    Field("notice.unclear", "bool", "members cannot act on it without asking: a change without the new time or place, a pointer elsewhere, an event named and nothing more, or nothing at all (docs/lifecycle.md); never a notice that says what, when and where", NOTICE),
    Field("notice.missing", "list", "what an unclear notice leaves out: what, when, where (empty when it is clear)", NOTICE),
    Field("notice.problems", "list", "too_long (over a minute to read), unclear", NOTICE),
    Field("notice.suggestion", "text", "one or two sentences for the author: what is missing and how to fix it, or how to shorten a long notice; in the chat's language (empty when none)", NOTICE),
    Field("tick.period", "duration", "the scheduler's tick period", TICK),
    Field("chat.days_since_owner_spoke", "int", "whole days since the owner last posted (since first seen when never; absent when the owner is unknown)", TICK),
    Field("chat.days_since_admin_spoke", "int", "whole days since the owner or an admin last posted (since first seen when never)", TICK),
    Field("chat.days_since_last_message", "int", "whole days since a person last posted (since first seen when never)", TICK),
    Field("chat.days_since_reminder", "int", "whole days since a rule reading this field last acted on a tick (absent when none has)", TICK),
    Field("chat.messages_7d", "int", "messages by people in the last 7 days", TICK),
    Field("chat.activity_trend", "number", "messages of the last 7 days / the weekly average of the 3 weeks before (absent when those had none)", TICK),
    Field("chat.weeks_falling", "int", "weeks in a row with fewer messages than the week before (up to 4)", TICK),
    Field("chat.activity_declining", "bool", "activity is falling as a trend: the last two weeks lost at least 25 % and 5 messages a week against the usual week of the weeks before, beyond its usual variation (docs/lifecycle.md)", TICK),
    Field("chat.activity_drop_percent", "int", "share of the usual week's messages the last two weeks lost, 0-100 (absent until five weeks were watched)", TICK),
    Field("chat.maturity", "string", "young (under 90 days), mature (180 days or more, 5 or more others posted in 30 days, the owner wrote at most a fifth of it, not declining or quiet) or established (docs/lifecycle.md)", TICK),
    Field("chat.others_active_30d", "int", "people other than the owner who posted in the last 30 days", TICK),
    Field("chat.messages_usual_week", "int", "the usual messages a week: the mean of up to six weeks before the last two (absent until five weeks were watched)", TICK),
    Field("chat.active_posters_30d", "int", "people who posted in the last 30 days", TICK),
    Field("chat.health_status", "string", "new, thriving, steady, cooling, dormant or cemetery (docs/lifecycle.md)", TICK),
)
# fmt: on
