"""The fields the screening area adds to the fact, for rules to read: invite screening and
monetization timing (``features``, and the core's ``promo`` and ``value``; definitions in
docs/screening.md). ``firekeeper.area_registry`` assembles them with the core's and
every area's into the vocabulary the checker types rules against.
"""

from __future__ import annotations

from firekeeper.rules.vocabulary import JOINISH, MSG, REQ, SUBJECT, Field

# fmt: off
# (a table: one field a line reads best)
FIELDS: tuple[Field, ...] = (
    # (firekeeper.areas.screening.pure.features, .promo, .value; definitions in docs/screening.md)
    Field("actor.blocked", "bool", "the actor is on the tenant's blocklist (same platform)"),
    Field("member.blocked", "bool", "the member is on the tenant's blocklist (same platform)", SUBJECT),
    Field("member.review_approved", "bool", "an admin approved this member from the review queue", JOINISH),
    Field("inviter.blocked", "bool", "the inviter is on the tenant's blocklist (absent when no inviter is known)", JOINISH),
    Field("inviter.invites_24h", "int", "invitations by the inviter into this chat in the 24 hours before this one", JOINISH),
    Field("inviter.invites_7d", "int", "invitations by the inviter into this chat in the 7 days before this one", JOINISH),
    Field("inviter.invitee_count", "int", "every invitation by the inviter on record in this chat, whatever became of it", JOINISH),
    Field("inviter.invitees_removed", "int", "the inviter's invitees that admins removed, banned or denied at review", JOINISH),
    Field("inviter.invitees_removed_ratio", "number", "invitees removed, banned or denied at review / invitees with an outcome (absent while none has one)", JOINISH),
    Field("inviter.invitees_left_early_ratio", "number", "invitees who left by themselves within 3 days / invitees admitted (absent while none was)", JOINISH),
    Field("inviter.invitees_silent_ratio", "number", "invitees admitted 7+ days ago who never posted / those admitted 7+ days ago (absent while none was)", JOINISH),
    Field("chat.joins_10m", "int", "distinct people who joined or asked to join in the 10 minutes before this event", JOINISH),
    Field("chat.joins_1h", "int", "distinct people who joined or asked to join in the hour before this event", JOINISH),
    Field("chat.joins_24h", "int", "distinct people who joined or asked to join in the 24 hours before this event", JOINISH),
    Field("chat.held_joins", "int", "joins waiting in the chat's review queue", JOINISH),
    Field("request.answers_match", "bool", "the answers match every entry pattern the chat set (absent when it set none)", REQ),
    Field("request.answers_missing", "int", "entry patterns the answers do not match (absent when the chat set none)", REQ),
    Field("request.bio_promo_score", "int", "promotion score of the profile bio (see message.promo_score)", REQ),
    Field("request.bio_links", "int", "links in the profile bio", REQ),
    Field("message.plain_text", "text", "the text with obfuscation undone: full-width, look-alike, zero-width and spaced-out letters", MSG),
    Field("message.promo_score", "int", "sum of the weights of the promotion signals present", MSG),
    Field("message.promo_signals", "list", "promotion signals present: price, payment_link, shop_link, private_contact, referral_code, earning_pitch, shortener_link, phishing_link, obfuscated, ...", MSG),
    Field("message.promotion", "bool", "promo_score of 3 or more, or a paid offer", MSG),
    Field("message.paid_offer", "bool", "a price, payment/shop link or referral code, with offer words, an earning pitch, a call to private chat or a QR code / mini program / card", MSG),
    Field("message.states_rules", "bool", "the text forbids something: house rules (no ads, 禁止广告, 请勿刷屏); what a prohibition names is not read as a promotion signal (docs/screening.md)", MSG),
    Field("message.ordinary_link", "bool", "the message links out (a shop's page included) with nothing else of an ad beyond a price or shopping words: no call to private chat, referral code, earning pitch, QR code, urgency, disguise, shortener, payment or invitation link", MSG),
    Field("message.has_price", "bool", "a price: ¥99, $49, 99元, 500 руб, 20 USDT", MSG),
    Field("message.private_contact_call", "bool", "a call to move to private chat: DM me, 加微信, 私聊, пишите в лс, wa.me links", MSG),
    Field("message.referral_code", "bool", "a referral, invite or promo code, or a referral link (?ref=, ?start=)", MSG),
    Field("message.earning_pitch", "bool", "an earnings, investment or recruitment pitch: passive income, 日赚, заработок", MSG),
    Field("message.obfuscated", "bool", "the text hides words from filters (full-width, look-alike, zero-width or spaced-out letters)", MSG),
    Field("message.outside_links", "int", "links to domains the chat did not allow as its own", MSG),
    Field("message.shortener_links", "int", "links through URL shorteners and link hubs (outside the chat's own domains)", MSG),
    Field("message.payment_links", "int", "links to payment, shop, paid-course or paid-community sites (outside the chat's own domains)", MSG),
    Field("message.chat_invite_links", "int", "invitations into other groups: t.me/+, chat.whatsapp.com, discord.gg, ...", MSG),
    Field("message.phishing_links", "int", "links to domains on the phishing list the service loaded", MSG),
    Field("message.blocked_links", "int", "links to domains on the tenant's blocklist", MSG),
    Field("message.substantive", "bool", "a new, non-forwarded, non-promotional message of 20+ words (a CJK character is half a word)", MSG),
    Field("message.is_question", "bool", "the message asks a question", MSG),
    Field("message.answers_question", "bool", "the message replies to someone else's unanswered question with 3+ words", MSG),
    Field("chat.substantive_posts", "int", "substantive messages the chat has seen before this one", MSG),
    Field("chat.answered_questions", "int", "questions members answered for each other before this message", MSG),
    Field("chat.value_delivered", "int", "chat.substantive_posts + chat.answered_questions: the value the group has delivered", MSG),
    Field("actor.promo_strikes_24h", "int", "messages of the actor that a promo.* rule acted on in the last 24 hours", MSG),
    Field("actor.promo_strikes_7d", "int", "messages of the actor that a promo.* rule acted on in the last 7 days", MSG),
    Field("actor.promo_strikes_30d", "int", "messages of the actor that a promo.* rule acted on in the last 30 days", MSG),
)
# fmt: on
