"""The field vocabulary a rule's ``when`` condition may use.

Each field has a type, the event kinds it is available on (``None``: all), and
a one-line description that ``rulesets/README.md`` repeats. The fact builder
(``firekeeper.rules.facts``) fills exactly these paths; the compiler rejects any
other path with a "did you mean" hint.

Types:
- ``int`` / ``number``: numeric comparisons ``== != < <= > >=``, ``in [..]``
- ``duration``: a number of seconds; compare with literals like ``14d``, ``6h``, ``30m``, ``45s``
- ``bool``: ``== true``/``false``, or the bare field as a condition
- ``string``: a short identifier-like value: ``==``, ``!=``, ``in [..]``
- ``text``: free text typed by people; only ``contains`` and ``matches``
  (computed with RE2 before the engine; never sent to the engine)
- ``list``: a list of short strings; ``contains "x"`` (membership) and
  ``contains any [..]``

A field whose value the platform did not give (``actor.account_age`` on
Discord, say) is absent from the fact: every comparison on it is false, and
``known(field)`` tests for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from firekeeper.domain.events import EventKind

_MSG = frozenset({EventKind.MESSAGE_POSTED})
_JOIN = frozenset({EventKind.MEMBER_JOINED})
_REQ = frozenset({EventKind.JOIN_REQUESTED})
_JOINISH = frozenset({EventKind.MEMBER_JOINED, EventKind.JOIN_REQUESTED})
_SUBJECT = frozenset(
    {
        EventKind.MEMBER_JOINED,
        EventKind.JOIN_REQUESTED,
        EventKind.MEMBER_LEFT,
        EventKind.ROLE_CHANGED,
    }
)
_LEFT = frozenset({EventKind.MEMBER_LEFT})
_UPD = frozenset({EventKind.CHAT_UPDATED})
_ROLE = frozenset({EventKind.ROLE_CHANGED})
_TICK = frozenset({EventKind.CHAT_TICK})
_MSG_TICK = _MSG | _TICK
_NOTICE = _MSG | _UPD

TYPES = ("int", "number", "duration", "bool", "string", "text", "list")


@dataclass(frozen=True, slots=True)
class Field:
    path: str
    type: str
    doc: str
    on: frozenset[EventKind] | None = None  # None: every event kind


def _person(prefix: str, who: str, on: frozenset[EventKind] | None) -> list[Field]:
    return [
        Field(f"{prefix}.id", "string", f"platform user id of {who}", on),
        Field(f"{prefix}.display_name", "text", f"display name of {who}", on),
        Field(f"{prefix}.is_bot", "bool", f"{who} is a bot account", on),
        Field(
            f"{prefix}.role",
            "string",
            f"role of {who} in the chat: member, admin, owner, restricted",
            on,
        ),
        Field(f"{prefix}.is_admin", "bool", f"{who} is an admin or the owner", on),
        Field(f"{prefix}.is_owner", "bool", f"{who} is the chat's owner", on),
        Field(
            f"{prefix}.account_age",
            "duration",
            f"age of {who}'s platform account (absent when the platform does not tell)",
            on,
        ),
        Field(
            f"{prefix}.is_member",
            "bool",
            f"{who} is currently a member of the chat, as the store knows",
            on,
        ),
        Field(
            f"{prefix}.tenure",
            "duration",
            f"time since {who} last joined the chat (absent when unknown)",
            on,
        ),
        Field(f"{prefix}.message_count", "int", f"messages {who} has posted in the chat", on),
        Field(f"{prefix}.invited_count", "int", f"members {who} has invited into the chat", on),
    ]


# fmt: off
# (a table: one field a line reads best)
FIELDS: tuple[Field, ...] = (
    # the event itself
    Field(
        "event.kind",
        "string",
        "the event kind: message.posted, member.joined, join.requested, member.left, chat.updated, role.changed, chat.tick",
    ),
    Field("event.platform", "string", "telegram, discord, wecom, slack, matrix, other"),
    Field(
        "event.channel_id",
        "string",
        "channel or forum topic the event happened in (empty when none)",
    ),
    Field("event.in_thread", "bool", "the event happened in a reply thread"),
    # the chat
    Field(
        "chat.kind",
        "string",
        "the chat's declared kind: work, hobby, growth, family, entertainment, goal, or unspecified",
    ),
    Field("chat.member_count", "int", "members before this event, as the store counts them"),
    Field(
        "chat.size_tier",
        "string",
        "small (< 50 members), middle (50-200) or large (> 200), from chat.member_count",
    ),
    Field(
        "chat.age",
        "duration",
        "time since the chat was created (absent when the creation time is unknown)",
    ),
    Field("chat.message_count", "int", "messages seen in the chat before this event"),
    Field("chat.title", "text", "the chat's title"),
    Field(
        "chat.platform_member_count",
        "int",
        "the member count the platform reported in this update (absent when not given)",
        _UPD,
    ),
    Field(
        "chat.member_count_drift",
        "int",
        "platform_member_count minus the stored count (absent when not given)",
        _UPD,
    ),
    Field(
        "chat.member_count_off_by",
        "int",
        "how far the platform's count is from the stored one, either way (absent when not given)",
        _UPD,
    ),
    Field("chat.announcement_text", "text", "the chat's announcement text in this update", _UPD),
    Field("chat.title_changed", "bool", "this update changed the title", _UPD),
    Field("chat.announcement_changed", "bool", "this update changed the announcement", _UPD),
    # who acted (the envelope's actor)
    *_person("actor", "the actor", None),
    # the member the event is about (joined, requested, left, role changed)
    *_person("member", "the member the event is about", _SUBJECT),
    # who invited them
    Field("inviter.known", "bool", "the platform said who invited the member", _JOINISH),
    *_person("inviter", "the inviter", _JOINISH),
    # joins
    Field(
        "join.method",
        "string",
        "invite_link, added_by_member, join_request, qr_code, self or unknown",
        _JOIN,
    ),
    Field(
        "join.resulting_count", "int", "members the chat would have if this join is admitted", _JOIN
    ),
    Field("join.is_rejoin", "bool", "the member was in the chat before", _JOIN),
    Field("join.has_invite_link", "bool", "the platform named the invite link used", _JOINISH),
    # join requests
    Field(
        "request.answers", "text", "the answers to the entry questions, joined by new lines", _REQ
    ),
    Field("request.answer_count", "int", "how many entry questions were answered", _REQ),
    Field("request.bio", "text", "the profile bio sent with the request", _REQ),
    # leaves
    Field(
        "leave.reason",
        "string",
        "left, removed, banned or unknown (Discord cannot tell a leave from a kick)",
        _LEFT,
    ),
    Field("leave.by_admin", "bool", "an admin removed or banned the member", _LEFT),
    # role changes
    Field("role.old", "string", "the member's role before", _ROLE),
    Field("role.new", "string", "the member's role after", _ROLE),
    # messages
    Field("message.text", "text", "the message text or caption", _MSG),
    Field("message.length", "int", "characters in the text", _MSG),
    Field("message.line_count", "int", "lines in the text", _MSG),
    Field("message.link_count", "int", "distinct links in the text and entities", _MSG),
    Field(
        "message.domains",
        "list",
        "registered domains of the links, lower case (e.g. t.me, example.com)",
        _MSG,
    ),
    Field("message.mention_count", "int", "users mentioned", _MSG),
    Field("message.mentions_everyone", "bool", "the message mentions @everyone / @all", _MSG),
    Field("message.attachment_count", "int", "attachments of any kind", _MSG),
    Field(
        "message.attachment_kinds",
        "list",
        "kinds of the attachments: image, video, file, link_card, mini_program, contact_card, qr_code, ...",
        _MSG,
    ),
    Field("message.is_reply", "bool", "the message replies to another", _MSG),
    Field("message.is_forward", "bool", "the message is forwarded", _MSG),
    Field("message.is_announcement", "bool", "posted as the chat's announcement", _MSG),
    Field("message.is_pinned_notice", "bool", "a pinned notice", _MSG),
    Field("message.is_edit", "bool", "an edit of an earlier message", _MSG),
    # --- invite screening and monetization timing
    # (firekeeper.areas.screening.pure.features, .promo, .value; definitions in docs/screening.md)
    Field("actor.blocked", "bool", "the actor is on the tenant's blocklist (same platform)"),
    Field("member.blocked", "bool", "the member is on the tenant's blocklist (same platform)", _SUBJECT),
    Field("member.review_approved", "bool", "an admin approved this member from the review queue", _JOINISH),
    Field("inviter.blocked", "bool", "the inviter is on the tenant's blocklist (absent when no inviter is known)", _JOINISH),
    Field("inviter.invites_24h", "int", "invitations by the inviter into this chat in the 24 hours before this one", _JOINISH),
    Field("inviter.invites_7d", "int", "invitations by the inviter into this chat in the 7 days before this one", _JOINISH),
    Field("inviter.invitee_count", "int", "every invitation by the inviter on record in this chat, whatever became of it", _JOINISH),
    Field("inviter.invitees_removed", "int", "the inviter's invitees that admins removed, banned or denied at review", _JOINISH),
    Field("inviter.invitees_removed_ratio", "number", "invitees removed, banned or denied at review / invitees with an outcome (absent while none has one)", _JOINISH),
    Field("inviter.invitees_left_early_ratio", "number", "invitees who left by themselves within 3 days / invitees admitted (absent while none was)", _JOINISH),
    Field("inviter.invitees_silent_ratio", "number", "invitees admitted 7+ days ago who never posted / those admitted 7+ days ago (absent while none was)", _JOINISH),
    Field("chat.joins_10m", "int", "distinct people who joined or asked to join in the 10 minutes before this event", _JOINISH),
    Field("chat.joins_1h", "int", "distinct people who joined or asked to join in the hour before this event", _JOINISH),
    Field("chat.joins_24h", "int", "distinct people who joined or asked to join in the 24 hours before this event", _JOINISH),
    Field("chat.held_joins", "int", "joins waiting in the chat's review queue", _JOINISH),
    Field("request.answers_match", "bool", "the answers match every entry pattern the chat set (absent when it set none)", _REQ),
    Field("request.answers_missing", "int", "entry patterns the answers do not match (absent when the chat set none)", _REQ),
    Field("request.bio_promo_score", "int", "promotion score of the profile bio (see message.promo_score)", _REQ),
    Field("request.bio_links", "int", "links in the profile bio", _REQ),
    Field("message.plain_text", "text", "the text with obfuscation undone: full-width, look-alike, zero-width and spaced-out letters", _MSG),
    Field("message.promo_score", "int", "sum of the weights of the promotion signals present", _MSG),
    Field("message.promo_signals", "list", "promotion signals present: price, payment_link, shop_link, private_contact, referral_code, earning_pitch, shortener_link, phishing_link, obfuscated, ...", _MSG),
    Field("message.promotion", "bool", "promo_score of 3 or more, or a paid offer", _MSG),
    Field("message.paid_offer", "bool", "a price, payment/shop link or referral code, with offer words, an earning pitch, a call to private chat or a QR code / mini program / card", _MSG),
    Field("message.states_rules", "bool", "the text forbids something: house rules (no ads, 禁止广告, 请勿刷屏); what a prohibition names is not read as a promotion signal (docs/screening.md)", _MSG),
    Field("message.ordinary_link", "bool", "the message links out (a shop's page included) with nothing else of an ad beyond a price or shopping words: no call to private chat, referral code, earning pitch, QR code, urgency, disguise, shortener, payment or invitation link", _MSG),
    Field("message.has_price", "bool", "a price: ¥99, $49, 99元, 500 руб, 20 USDT", _MSG),
    Field("message.private_contact_call", "bool", "a call to move to private chat: DM me, 加微信, 私聊, пишите в лс, wa.me links", _MSG),
    Field("message.referral_code", "bool", "a referral, invite or promo code, or a referral link (?ref=, ?start=)", _MSG),
    Field("message.earning_pitch", "bool", "an earnings, investment or recruitment pitch: passive income, 日赚, заработок", _MSG),
    Field("message.obfuscated", "bool", "the text hides words from filters (full-width, look-alike, zero-width or spaced-out letters)", _MSG),
    Field("message.outside_links", "int", "links to domains the chat did not allow as its own", _MSG),
    Field("message.shortener_links", "int", "links through URL shorteners and link hubs (outside the chat's own domains)", _MSG),
    Field("message.payment_links", "int", "links to payment, shop, paid-course or paid-community sites (outside the chat's own domains)", _MSG),
    Field("message.chat_invite_links", "int", "invitations into other groups: t.me/+, chat.whatsapp.com, discord.gg, ...", _MSG),
    Field("message.phishing_links", "int", "links to domains on the phishing list the service loaded", _MSG),
    Field("message.blocked_links", "int", "links to domains on the tenant's blocklist", _MSG),
    Field("message.substantive", "bool", "a new, non-forwarded, non-promotional message of 20+ words (a CJK character is half a word)", _MSG),
    Field("message.is_question", "bool", "the message asks a question", _MSG),
    Field("message.answers_question", "bool", "the message replies to someone else's unanswered question with 3+ words", _MSG),
    Field("chat.substantive_posts", "int", "substantive messages the chat has seen before this one", _MSG),
    Field("chat.answered_questions", "int", "questions members answered for each other before this message", _MSG),
    Field("chat.value_delivered", "int", "chat.substantive_posts + chat.answered_questions: the value the group has delivered", _MSG),
    Field("actor.promo_strikes_24h", "int", "messages of the actor that a promo.* rule acted on in the last 24 hours", _MSG),
    Field("actor.promo_strikes_7d", "int", "messages of the actor that a promo.* rule acted on in the last 7 days", _MSG),
    Field("actor.promo_strikes_30d", "int", "messages of the actor that a promo.* rule acted on in the last 30 days", _MSG),
    # --- topic boundaries, lifecycle and announcements
    # (firekeeper.areas.lifecycle.pure.topic, .announcements, .lifecycle; windows and guards in docs/lifecycle.md)
    Field("chat.theme_keywords", "list", "the keywords of the chat's declared theme (its registration's, else its ruleset's profile)"),
    Field("message.topic", "string", "on_topic, off_topic, neutral (social, too short, partly related, nothing it can place, other script) or unscored (no theme here, a bot)", _MSG),
    Field("message.topic_score", "number", "0 to 1: how strongly the text matches the theme: its keywords and phrases, or its vocabulary (examples, the group's recent on-topic talk); 0.3 is on topic (absent when unscored)", _MSG),
    Field("message.is_social", "bool", "a greeting, thanks, laughter, acknowledgement, emoji or sticker (never off topic)", _MSG),
    Field("message.off_topic", "bool", "message.topic is off_topic: long enough to show the theme, nothing of it, and plainly another subject (meals, weather, the office, ...)", _MSG),
    Field("message.theme_hits", "list", "the theme's keywords and phrases the message contains, as the theme writes them", _MSG),
    Field("message.announces_activity", "bool", "an announcement, pinned notice or text announcing an activity, new section or series (EN/ZH cues)", _MSG),
    Field("message.expands_theme", "bool", "the owner or an admin announces an activity that brings another subject: off topic, or a new standing section or series about another subject (theme sprawl); an on-theme vote, check-in or challenge never is", _MSG),
    Field("message.repeat_count", "int", "times the actor posted this same text in the last 10 minutes, this one included", _MSG),
    Field("actor.messages_last_minute", "int", "the actor's messages in the last minute, this one included (edits and bots do not count)", _MSG),
    Field("actor.mentions_last_minute", "int", "users (and @everyone) the actor mentioned in the last minute, this message included", _MSG),
    Field("chat.messages_last_minute", "int", "messages by people in the chat in the last minute, this one included", _MSG),
    Field("chat.off_topic_streak", "int", "off-topic messages since the last on-topic one, this one included (neutral ones neither break nor extend it)", _MSG),
    Field("chat.nudged_this_streak", "bool", "a rule reading this field already acted in the current off-topic streak (one nudge per streak)", _MSG),
    Field("chat.off_topic_share", "number", "share of off-topic messages among the last 20 judged on or off topic (absent before the first)", _MSG_TICK),
    Field("chat.topic_window_size", "int", "messages judged on or off topic in that window (0 to 20)", _MSG_TICK),
    Field("chat.new_themes_30d", "int", "owner/admin announcements of themes outside the declared one in the last 30 days (this one included)", _MSG_TICK),
    Field("notice.present", "bool", "the event carries a notice: an announcement or pinned message, or a changed chat announcement", _NOTICE),
    Field("notice.length", "int", "characters in the notice", _NOTICE),
    Field("notice.line_count", "int", "non-empty lines in the notice", _NOTICE),
    Field("notice.reading_seconds", "int", "estimated reading time: 300 CJK characters or 240 words a minute", _NOTICE),
    Field("notice.first_line", "text", "the notice's first non-empty line (what a phone's preview shows)", _NOTICE),
    Field("notice.first_line_clear", "bool", "the first line is at most 60 columns (30 CJK characters) and is not only a greeting or a label", _NOTICE),
    Field("notice.is_wall", "bool", "a paragraph runs more than 240 columns without a line break", _NOTICE),
    Field("notice.too_short", "bool", "under 20 columns with no time, date or number: members will have to ask", _NOTICE),
    Field("notice.says_what", "bool", "the notice names an event or an action (meeting, ride, 读书会, 停水, vote, 报名, chapter 5) or states house rules", _NOTICE),
    Field("notice.says_when", "bool", "the notice gives a time or a date (8pm, Sat, 10 Dec, 12/10, 周六晚8点, 明天下午3点, 12月10日, 下周)", _NOTICE),
    Field("notice.says_where", "bool", "the notice gives a place, an online venue or a link (Cafe Luna, room 2, Zoom, 腾讯会议, 线下, 地址：...)", _NOTICE),
    Field("notice.states_rules", "bool", "the notice forbids something: house rules (no ads, 禁止广告, 请勿刷屏)", _NOTICE),
    Field("notice.announces_change", "bool", "the notice announces a change: moved, postponed, rescheduled, 改到, 推迟, 调整", _NOTICE),
    Field("notice.unclear", "bool", "members cannot act on it without asking: a change without the new time or place, a pointer elsewhere, an event named and nothing more, or nothing at all (docs/lifecycle.md); never a notice that says what, when and where", _NOTICE),
    Field("notice.missing", "list", "what an unclear notice leaves out: what, when, where (empty when it is clear)", _NOTICE),
    Field("notice.problems", "list", "too_long (over a minute to read), unclear", _NOTICE),
    Field("notice.suggestion", "text", "one or two sentences for the author: what is missing and how to fix it, or how to shorten a long notice; in the chat's language (empty when none)", _NOTICE),
    Field("tick.period", "duration", "the scheduler's tick period", _TICK),
    Field("chat.days_since_owner_spoke", "int", "whole days since the owner last posted (since first seen when never; absent when the owner is unknown)", _TICK),
    Field("chat.days_since_admin_spoke", "int", "whole days since the owner or an admin last posted (since first seen when never)", _TICK),
    Field("chat.days_since_last_message", "int", "whole days since a person last posted (since first seen when never)", _TICK),
    Field("chat.days_since_reminder", "int", "whole days since a rule reading this field last acted on a tick (absent when none has)", _TICK),
    Field("chat.messages_7d", "int", "messages by people in the last 7 days", _TICK),
    Field("chat.activity_trend", "number", "messages of the last 7 days / the weekly average of the 3 weeks before (absent when those had none)", _TICK),
    Field("chat.weeks_falling", "int", "weeks in a row with fewer messages than the week before (up to 4)", _TICK),
    Field("chat.activity_declining", "bool", "activity is falling as a trend: the last two weeks lost at least 25 % and 5 messages a week against the usual week of the weeks before, beyond its usual variation (docs/lifecycle.md)", _TICK),
    Field("chat.activity_drop_percent", "int", "share of the usual week's messages the last two weeks lost, 0-100 (absent until five weeks were watched)", _TICK),
    Field("chat.maturity", "string", "young (under 90 days), mature (180 days or more, 5 or more others posted in 30 days, the owner wrote at most a fifth of it, not declining or quiet) or established (docs/lifecycle.md)", _TICK),
    Field("chat.others_active_30d", "int", "people other than the owner who posted in the last 30 days", _TICK),
    Field("chat.messages_usual_week", "int", "the usual messages a week: the mean of up to six weeks before the last two (absent until five weeks were watched)", _TICK),
    Field("chat.active_posters_30d", "int", "people who posted in the last 30 days", _TICK),
    Field("chat.health_status", "string", "new, thriving, steady, cooling, dormant or cemetery (docs/lifecycle.md)", _TICK),
    # --- policy-author tools
    # --- admins' corrections (firekeeper.areas.corrections.pure.features; docs/screening.md)
    Field("message.reported_spam_match", "bool", "the text is the same as, or a near-duplicate of, a message an admin of this tenant reported as spam", _MSG),
    Field("message.reported_ham_match", "bool", "the text is the same as, or a near-duplicate of, a message an admin of this tenant said was not spam (and matches none reported as spam)", _MSG),
    # --- languages (firekeeper.rules.language)
    Field("chat.language", "string", "the language the chat's texts are written in: one of the ruleset's `languages` (declared at registration, else detected from the messages, else the ruleset's first)"),
    Field("chat.theme_name", "text", "the chat's theme in words for people, in the chat's language: its title quoted (「周末钓鱼」, \"Weekend fishing\"), else \"what this group is about\" / 本群的主题"),
    # --- the learned spam signal (firekeeper.rules.spam_model; docs/screening.md)
    Field("message.spam_score", "number", "0 to 1: how likely the learned classifier (character n-grams, firekeeper train) finds the text spam or an ad (absent when no model is loaded)", _MSG),
)
# fmt: on

BY_PATH: dict[str, Field] = {f.path: f for f in FIELDS}

# Prefix under which ruleset parameters appear: ``params.hard_cap``. Their
# types come from the ruleset's own parameter declarations.
PARAMS_PREFIX = "params."


def lookup(path: str) -> Field | None:
    return BY_PATH.get(path)
