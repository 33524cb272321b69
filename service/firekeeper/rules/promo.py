"""Promotion signals: what makes a message an ad or a paid offer, computed before the engine. Pure.

``signals(text, ...)`` first undoes obfuscation (``firekeeper.rules.unmask``), then
reads the text and links for named signals. Each signal has a weight; the
weights add up to ``score``. A message is a **promotion** when its score
reaches :data:`PROMOTION_SCORE` or it is a **paid offer**: a price, a payment
or shop link, or a referral code, together with offer words (course, 报名,
скидка...), an earning pitch, a call to private chat, a referral code, or a QR
code / mini program / contact card. No single weak signal makes a promotion:
a price alone (``M3 1TB - 3100 €``), a link alone, or "DM me" alone stays
below the bar, because false positives on ordinary chat are what people hold
against a moderation bot first.

Links to the chat's own domains (``allowed``) count for nothing here; links to
phishing domains (the list loaded at the edge) and to the tenant's blocked
domains are counted whatever the chat allows.

Languages: English, Chinese and Russian phrases. The patterns run on RE2
(``firekeeper.rules.linear``), so no text makes them take more than linear
time, and they read the first ``SCANNED_CHARS`` code points of a text.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from firekeeper.rules import domains as dl
from firekeeper.rules import features, linear
from firekeeper.rules.unmask import Unmasked, unmask

PROMOTION_SCORE = 3  # the shipped rulesets' promo_threshold; `firekeeper signals` measures it

WEIGHTS: dict[str, int] = {
    "phishing_link": 5,
    "blocked_domain": 5,
    "shortener_link": 2,
    "payment_link": 2,
    "shop_link": 1,
    "chat_invite_link": 1,
    "private_contact": 2,
    "referral_code": 2,
    "earning_pitch": 2,
    "vice": 2,
    "obfuscated": 2,
    "qr_or_card": 2,
    "price": 1,
    "offer_words": 1,
    "urgency": 1,
    "money_emoji": 1,
    "pointer_emoji": 1,
    "outside_link": 1,
}
SIGNALS = tuple(WEIGHTS)

_CARD_KINDS = frozenset({"qr_code", "mini_program", "contact_card"})


_any = linear.any_of
_CURRENCY = r"[$¥€£₽₹₩₴]"
_PRICE = _any(
    rf"{_CURRENCY}\s?\d",
    rf"\d(?:[\d,.]*\d)?\s?(?:k\s?)?(?:{_CURRENCY}|元|块|塊|人民币"
    r"|(?:rmb|cny|usdt?|eur|euros?|dollars?|bucks|eth|btc)\b|руб|р\.|грн|баксов|зел[её]ных|к\$)",
    r"\b(?:rmb|cny|usd|usdt|eur)\s?\d",
)
_PRIVATE_CONTACT = _any(
    r"\b(?:dm|pm|inbox|whatsapp|telegram|text|write)\s+me\b",
    r"\bsend\s+me\s+an?\s+(?:dm|pm|message)\b",
    r"\b(?:dm|pm)\s+(?:for|to)\b",
    r"\bin\s+(?:my\s+)?(?:dm|pm|inbox)s?\b",
    r"\bcontact\s+(?:me|us|their\s+agent|the\s+admin)\b",
    r"\badd\s+me\s+on\b",
    r"加(?:我)?(?:微信|微|vx|wx|v信|薇|威信|卫星|qq|q\b|好友)",
    r"加v\b",
    r"私(?:聊|信|我|戳)",
    r"(?:微信|vx|wx|v信|薇信|威信)\s*(?:号|[:：])",
    r"(?:详情|了解|咨询|报名).{0,4}(?:私|加|联系)",
    r"联系(?:我|客服|老师)",
    r"(?:в|на)\s+(?:лс|личку|личные\s+сообщения|личных\s+сообщениях|директ)\b",
    r"пиши(?:те)?\s+(?:мне|админу|сюда|только|в\s+(?:лс|личк|поиск))",
    r"напиши(?:те)?\s+(?:мне|в\s+поиск)",
    r"(?:ставь(?:те)?|пиши(?:те)?)\s*[«\"(]?\+",
    r"\(\+\)",
    r"жду\s+(?:вас\s+)?в\s+(?:лс|личк|личн)",
)
_REFERRAL = _any(
    r"\b(?:referral|ref|invite|invitation|promo|coupon|bonus)\s*(?:code|link)s?\b",
    r"\buse\s+my\s+(?:code|link|referral)\b",
    r"\bmy\s+referral\b",
    r"邀请码|推荐码|优惠码|推广码|分享码|注册码|口令",
    r"промокод|реферальн|по\s+моей\s+ссылке",
)
_REFERRAL_LINK = linear.compile(
    r"[?&](?:ref|referral|refid|ref_id|invite_code|inviter|aff|affiliate|start|promo)=",
    ignore_case=True,
)
_EARNING = _any(
    r"\bearn(?:ing)?s?\s+(?:up\s+to\s+|over\s+|more\s+than\s+)?[$€£\d]",
    r"\bstart\s+earning\b",
    r"\bmake\s+(?:money|\$)",
    r"\bpassive\s+income\b",
    r"\bwork\s+(?:from\s+home|online)\b",
    r"\b(?:investment|trading|trade)\s+(?:platform|company|opportunit\w*|broker)\b",
    r"\bfinancial(?:ly)?\s+(?:freedom|free|stable)\b",
    r"\b(?:daily|weekly|monthly|huge)\s+(?:profits?|earnings|income|returns?)\b",
    r"\b\d+\s*%\s*(?:profit|return|roi)\b",
    r"\bwithdrawals?\b",
    r"\bforex\b",
    r"\binvest(?:s|ed|ing|ment|ments|or|ors)?\b",
    r"\bshill\s+me\b",
    r"\bdrop\s+your\s+wallets?\b",
    r"\blooking\s+for\s+(?:partners|people|agents)\b",
    r"\bjoin\s+(?:my|our)\s+team\b",
    r"\bpeople\s+(?:are\s+)?needed\b",
    r"赚钱|日赚|月入|月赚|躺赚|兼职|副业|被动收入|高收益|稳赚|回报率|返利|零投入|带你赚|招代理|诚招",
    r"заработ|зараба[тб]|доход|без\s+вложени|инвестиц|прибыл|арбитраж|криптовалют",
    r"цифров\w+\s+(?:актив|валют)|трейдинг",
    r"ищ(?:у|ем)\s+(?:партн[её]р|людей|сотрудник|коллег|ассистент|администратор|менеджер)",
    r"набира(?:ю|ем)\s+(?:людей|в\s+команду|команду|партн)",
    r"наб[оo]р\s+(?:в\s+(?:команду|проект)|людей|сотрудник|партн)",
    r"требу(?:ется|ются)\s+(?:срочно\s+)?(?:сотрудник|люди|менеджер|курьер|человек)",
    r"нуж(?:ен|ны)\s+(?:срочно\s+)?(?:\w+\s+)?(?:человек|люди|сотрудник|партн|разнорабоч)",
    r"предлага(?:ю|ем)\s+(?:сотрудничеств|удал[её]нн|работ)",
    r"удал[её]нн\w+\s+(?:работ|заработ|деятельн|занятост)",
)
_OFFER = _any(
    r"\b(?:paid|online|video)\s+(?:course|class|program|membership|community|group|training)s?\b",
    r"\bcourses?\b",
    r"\benrol(?:l|ls|led|ling|ment)\b",
    r"\b(?:sign\s+up|register|book|buy|order|subscribe|reserve|join)\s+(?:now|here|today|through|via)\b",
    r"\bdiscounts?\b",
    r"\b(?:\d+\s*%\s*(?:off|sale|discount)|sale)\b",
    r"\bcoupons?\b",
    r"\bexclusive\s+(?:offer|deal|discount|package|access)\b",
    r"\bwebinars?\b",
    r"\bmasterclass\b",
    r"\bgiveaways?\b",
    r"\bfree\s+(?:trial|bonus|registration|lesson)\b",
    r"\bpre-?orders?\b",
    r"\bbest\s+price\b",
    r"付费|课程|报名|训练营|特训营|优惠|折扣|限时|特价|原价|现价|购买|下单|团购|拼团|分销|带货",
    r"知识星球|会员|抢购|秒杀|开课|学费|私教|直播课|促销|包邮|代购|福利",
    r"курс(?:ы|ов|ам|ах)?\b|обучени|скидк|распродаж|купите|прода(?:м|ю|ём|ем)\b",
    r"подписк|вебинар|марафон|розыгрыш|реклам",
)
_URGENCY = _any(
    r"\blimited\s+(?:spots|seats|places|time|offer|slots)\b",
    r"\bonly\s+\d+\s+(?:spots|seats|places|slots|left)\b",
    r"\bdon'?t\s+miss\b",
    r"\bhurry\b",
    r"\bact\s+(?:now|fast)\b",
    r"\bspots\s+are\s+limited\b",
    r"名额有限|仅剩|手慢无|先到先得|倒计时|最后\d*(?:个|名|天)",
    r"осталось\s+\d*\s*(?:мест|свободн)|количество\s+мест\s+ограничено|успе(?:й|йте)\b",
    r"срочно|только\s+сегодня",
)
_VICE = _any(
    r"\b(?:casino|betting|bet\s+on)\b",
    r"博彩|赌场|百家乐|彩票",
    r"ставк|ставим|букмекер|18\+|интим|эскорт|фальш|без\s+тр[уy]сик|поддельн",
)
_POINTER_EMOJI = linear.compile("[\U0001f449\u27a1\u2b05\U0001f447\u2b07]")
_QR_TEXT = _any(r"扫码|二维码|\bscan\s+(?:the|this|my)\s+qr\b|\bqr[\s-]?code\b")
_MONEY_EMOJI = linear.compile(
    "[\U0001f4b0\U0001f4b8\U0001f4b5\U0001f4b4\U0001f4b6\U0001f4b7\U0001f911\U0001f4b2\U0001fa99]"
)


@dataclass(frozen=True, slots=True)
class PromoSignals:
    """What one text says about promotion; ``signals`` in :data:`SIGNALS` order."""

    plain_text: str
    signals: tuple[str, ...]
    score: int
    paid_offer: bool
    links: tuple[str, ...] = ()
    outside_links: int = 0
    shortener_links: int = 0
    payment_links: int = 0
    chat_invite_links: int = 0
    phishing_links: int = 0
    blocked_links: int = 0
    tricks: tuple[str, ...] = field(default=())

    @property
    def promotion(self) -> bool:
        return self.score >= PROMOTION_SCORE or self.paid_offer

    def has(self, signal: str) -> bool:
        return signal in self.signals


def _obfuscated(um: Unmasked) -> bool:
    """A mixed-script word or two happen in real chat (a typo, a product code, a
    Ukrainian і); spam disguises most of its words. So look-alikes count when at
    least two words and a fifth of all words carry them."""
    disguised = um.lookalike >= 2 and um.lookalike * 5 >= um.words
    return um.invisible > 0 or um.fullwidth > 0 or um.spaced > 0 or disguised


def signals(
    text: str,
    links: Iterable[str] = (),
    attachment_kinds: Iterable[str] = (),
    *,
    allowed: Collection[str] = (),
    phishing: Collection[str] = (),
    blocked: Collection[str] = (),
) -> PromoSignals:
    """Signals of one message (or a profile bio): its text, the links the platform
    marked, and its attachments' kinds. ``allowed``/``phishing``/``blocked`` are
    domain lists matched with their subdomains."""
    um = unmask(linear.scanned(text))
    plain = um.text
    found = features.find_links(plain, links)
    kinds = frozenset(attachment_kinds)
    outside = shortener = payment = shops = invites = phishing_n = blocked_n = private_links = 0
    referral_link = False
    for link in found:
        domain = features.domain_of(link)
        if not domain:
            continue
        bare = link.split("://", 1)[-1].lower().removeprefix("www.")
        # Public phishing lists carry shorteners too (bit.ly, tinyurl.com): those are
        # the shortener signal, not proof of phishing.
        if dl.listed(domain, phishing) and not dl.listed(domain, dl.SHORTENERS):
            phishing_n += 1
        if dl.listed(domain, blocked):
            blocked_n += 1
        if dl.listed(domain, allowed):
            continue
        outside += 1
        shortener += dl.listed(domain, dl.SHORTENERS)
        payment += dl.listed(domain, dl.PAYMENT)
        shops += dl.listed(domain, dl.SHOPS)
        invites += bare.startswith(dl.CHAT_INVITE_PREFIXES)
        private_links += dl.listed(domain, dl.PRIVATE_CHAT_DOMAINS)
        referral_link = referral_link or bool(_REFERRAL_LINK.search(link))

    present = {
        "phishing_link": phishing_n > 0,
        "blocked_domain": blocked_n > 0,
        "shortener_link": shortener > 0,
        "payment_link": payment > 0,
        "shop_link": shops > 0,
        "chat_invite_link": invites > 0,
        "private_contact": private_links > 0 or bool(_PRIVATE_CONTACT.search(plain)),
        "referral_code": referral_link or bool(_REFERRAL.search(plain)),
        "earning_pitch": bool(_EARNING.search(plain)),
        "vice": bool(_VICE.search(plain)),
        "obfuscated": _obfuscated(um),
        "qr_or_card": bool(kinds & _CARD_KINDS) or bool(_QR_TEXT.search(plain)),
        "price": bool(_PRICE.search(plain)),
        "offer_words": bool(_OFFER.search(plain)),
        "urgency": bool(_URGENCY.search(plain)),
        "money_emoji": bool(_MONEY_EMOJI.search(plain)),
        "pointer_emoji": bool(_POINTER_EMOJI.search(plain)),
        "outside_link": outside > 0,
    }
    names = tuple(s for s in SIGNALS if present[s])
    money = present["price"] or payment + shops > 0 or present["referral_code"]
    pitch = any(
        present[s]
        for s in ("offer_words", "qr_or_card", "private_contact", "referral_code", "earning_pitch")
    )
    return PromoSignals(
        plain_text=plain,
        signals=names,
        score=sum(WEIGHTS[s] for s in names),
        paid_offer=money and pitch,
        links=found,
        outside_links=outside,
        shortener_links=shortener,
        payment_links=payment + shops,
        chat_invite_links=invites,
        phishing_links=phishing_n,
        blocked_links=blocked_n,
        tricks=um.tricks,
    )
