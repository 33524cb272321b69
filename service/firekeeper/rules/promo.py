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
from firekeeper.rules.unmask import Unmasked

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
    "contact_handle": 2,
    "group_number": 3,
    "ad_disclaimer": 3,
    "game_trade": 2,
    "reward_lure": 2,
    "loan_offer": 2,
    "price": 1,
    "offer_words": 1,
    "urgency": 1,
    "money_emoji": 1,
    "pointer_emoji": 1,
    "outside_link": 1,
}
SIGNALS = tuple(WEIGHTS)

_CARD_KINDS = frozenset({"qr_code", "mini_program", "contact_card"})
# What an ordinary link to a thing carries (a shop's page for the book a club reads,
# its price, "on sale"); any other signal is a mark of an ad (``ordinary_link``).
_ORDINARY_LINK_SIGNALS = frozenset({"outside_link", "shop_link", "price", "offer_words"})


_any = linear.any_of
_CURRENCY = r"[$¥€£₽₹₩₴]"
_PRICE = _any(
    rf"{_CURRENCY}\s?\d",
    rf"\d(?:[\d,.]*\d)?\s?(?:k\s?)?(?:{_CURRENCY}|元|块|塊|人民币"
    r"|(?:rmb|cny|usdt?|eur|euros?|dollars?|bucks|eth|btc)\b|руб|р\.|грн|баксов|зел[её]ных|к\$)",
    r"\b(?:rmb|cny|usd|usdt|eur)\s?\d",
    r"\d\s?r(?:$|[^a-z0-9])",  # 20r, 10R: Chinese chat slang for RMB
    r"\d\s?/\s?(?:年|月|天|周|张|条)",  # 380/年, 100/月
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
    r"(?:加|\+|➕)\s?(?:我\s?)?(?:v|vx|wx|q|qq|扣扣|抠抠|企鹅|🐧|维信|徽信|嶶信|薇信|卫星|球球)",
    r"(?:需要|需者|有意|要的|购买)(?:的|者)?(?:请|可|直接)?(?:dd|d|滴滴|私聊|私信|私我|加我|找我|联系)",
    r"(?:dd|滴滴|私)我",
    r"(?:买|购买|要买|需要|想要).{0,12}(?:找|联系|私)(?:我|客服)",
    r"价格私|价格可(?:私|聊|谈)",
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
    r"刷单|做任务|点赞员|打字员|手工活|日结|日入\s?\d|日入[过上]|时薪|一单一结|一单一单结|秒结|佣金|垫付|接码",
    r"多拉多得|拉人头|在家(?:也能|即可|可|就能)做|动动手指|立返|宝妈",
    r"炒币|带单|跟单|喊单|荐股|牛股|稳赚不赔|保本|零风险|资金盘|虚拟币|理财(?:群|项目|产品|平台)",
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
    r"付费|课程|报名|训练营|特训营|限时|分销|带货",
    r"知识星球|开课|学费|私教|直播课|代购",
    r"出售|售价|低价(?:出|卖|转|售)|便宜(?:出|卖)|急出|出租|转让|批发|接定制|接单|定制|上架|补货",
    r"(?:^|[\s,，。!！:：])(?:出|卖)(?:二手|2手|个|一个|几个|自己|号|\s?[a-z0-9])",
    r"只需\s?\d|仅需\s?\d|仅售|不跑路|诚信(?:交易|买卖)|诚心交易|可议价|可面议|先做后付|包售后",
    r"курс(?:ы|ов|ам|ах)?\b|обучени|скидк|распродаж|купите|прода(?:м|ю|ём|ем)\b",
    r"подписк|вебинар|марафон|розыгрыш|реклам",
)
# Shopping words: offer words, but with a price alone no paid offer: "京东才¥39，还包邮"
# and "门票10元，学生半价优惠" are how people talk about prices.
_SHOPPING = _any(
    r"优惠|折扣|特价|原价|现价|购买|下单|团购|拼团|会员|抢购|秒杀|促销|包邮|福利",
)
_URGENCY = _any(
    r"\blimited\s+(?:spots|seats|places|time|offer|slots)\b",
    r"\bonly\s+\d+\s+(?:spots|seats|places|slots|left)\b",
    r"\bdon'?t\s+miss\b",
    r"\bhurry\b",
    r"\bact\s+(?:now|fast)\b",
    r"\bspots\s+are\s+limited\b",
    r"名额有限|仅剩|手慢无|先到先得|倒计时|最后\d*(?:个|名|天)",
    r"火速|赶紧|抓紧|速来|速度(?:加|进|来)|马上就要|错过(?:就|再)",
    r"осталось\s+\d*\s*(?:мест|свободн)|количество\s+мест\s+ограничено|успе(?:й|йте)\b",
    r"срочно|только\s+сегодня",
)
_VICE = _any(
    r"\b(?:casino|betting|bet\s+on)\b",
    r"博彩|赌场|百家乐|彩票",
    r"菠菜|网赌|赌博|下注|投注|押注|六合彩|时时彩|北京赛车|真人视讯|老虎机|电子游艺|返水|彩金|首充",
    r"约炮|约p\b|援交|上门服务|外围(?:女|模特|资源)|楼凤|包夜|裸聊|一夜情|同城约|成人(?:视频|网站|直播)",
    r"黄色(?:网站|视频)|福利姬",
    r"ставк|ставим|букмекер|18\+|интим|эскорт|фальш|без\s+тр[уy]сик|поддельн",
)
_POINTER_EMOJI = linear.compile("[\U0001f449\u27a1\u2b05\U0001f447\u2b07]")
_QR_TEXT = _any(
    r"扫码|扫.{0,3}[码吗玛]|二维码|\bscan\s+(?:the|this|my)\s+qr\b|\bqr[\s-]?code\b",
    r"(?:搜索?|打开|进入?)\s?(?:微信)?小程序|推荐(?:好友|名片)|个人名片",
)
# A handle to move the conversation elsewhere: a contact word, then an id. Read on the
# handle view (separators between digits removed), so "q q: 3 1 9-4 7" counts.
_ID = r"(?:\d{5,12}|[a-z][a-z0-9_-]{5,19})"
_CONTACT_HANDLE_SOURCES = (
    r"(?:(?:^|[^a-z])(?:qq|q)|扣扣|抠抠|企鹅|🐧|球球)\s?(?:号码?|号|群)?\s?[:：=]?\s?\d{5,12}",
    rf"(?:微信|威信|薇信|维信|徽信|嶶信|v信|(?:^|[^a-z])(?:vx|wx|weixin|wechat))\s?(?:号|id)?\s?[:：=]?\s?{_ID}",
    r"(?:加|\+|➕)\s?(?:我\s?)?(?:v|vx|wx)\s?[:：]?\s?[a-z0-9][a-z0-9_-]{5,19}",
    r"(?:加|联系|找|购买|咨询)[^\d\s]{0,4}\s?[:：]?\s?\d{6,12}",
    r"(?:(?:^|[^a-z])(?:tg|telegram)|电报|纸?飞机|✈️?)\s?(?:号|id)?\s?[:：]?\s?@?[a-z][a-z0-9_]{4,31}",
    r"(?:手机号?|电话|联系方式|(?:^|[^a-z])(?:tel|phone)|📞|☎️?|📱)\s?(?:号码?)?\s?[:：]?\s?\+?\d{7,15}",
    r"(?:^|[^0-9@])(?:\+?86)?1[3-9]\d{9}(?:$|[^0-9])",  # a mainland mobile number
)
_CONTACT_HANDLE = _any(*_CONTACT_HANDLE_SOURCES)
# A QQ group's number with the word for group: an invitation to another group.
_GROUP_NUMBER_SOURCES = (
    r"(?:群号?|群聊|(?:^|[^a-z])qun|裙|外部群?|内部群?|交流群|官方群|公益群|主群|进群|加群|入群|加入)"
    r"\s?(?:号码?)?\s?[:：]?\s?\d{5,12}",
)
_GROUP_NUMBER = _any(*_GROUP_NUMBER_SOURCES)
_ASCII_DIGITS = "0123456789"
_DIGIT_SEPARATORS = frozenset(" -.·_*/|~\u3000")
_AD_DISCLAIMER_SOURCES = (
    r"(?:禁|晋|进)商.{0,4}(?:撤|勿|物)",
    r"(?:群发|广告|打扰).{0,3}(?:勿|物)(?:踢|怪|t\b)",
    r"(?:勿|物)踢",
)
_AD_DISCLAIMER = _any(*_AD_DISCLAIMER_SOURCES)
_GAME_TRADE_SOURCES = (
    r"外挂|开挂|卡网|发卡网|发卡平台|自动发卡|卡密|防封|不封号|免封|封号记录|代练|代肝|代打",
    r"出号|卖号|收号|租号|账号(?:出售|出租|交易|代售)|黑卡|破解版",
    r"(?:出售|出租|低价出|便宜出|出|卖|收|租)(?:个|一个|几个)?(?:游戏|正版)?账号",
    r"绕过.{0,12}检测|(?:自瞄|透视)(?:挂|辅助)",
    r"(?:游戏币|金币|点券|元宝)(?:出售|回收|低价|代充)|代充",
)
_GAME_TRADE = _any(*_GAME_TRADE_SOURCES)
_REWARD_LURE_SOURCES = (
    r"领(?:取)?(?:现金|大额)?[红渱]包|[红渱]包(?:码|雨|口令)|扫.{0,4}领",
    r"领(?:取)?(?:优惠|大额|无门槛|满减)?券|券后|无门槛|免费领(?:取|红包|现金|福利|礼品|奖品|会员)|0元购|零元购|送现金",
    r"复制.{0,12}打开|[¥￥$][a-z0-9]{8,14}[¥￥$]",
)
_REWARD_LURE = _any(*_REWARD_LURE_SOURCES)
_LOAN_SOURCES = (
    r"贷款|网贷|放款|下款|秒批|秒下|无抵押|免抵押|黑户|征信|套现|提额|低息|借款(?:秒|当天|无需|额度)",
    r"(?:花呗|白条|信用卡).{0,3}(?:套|提|代还|取现)",
)
_LOAN = _any(*_LOAN_SOURCES)
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

    @property
    def ordinary_link(self) -> bool:
        """A link out (a shop's page included) with nothing else of an ad: no call to
        private chat, referral code, earning pitch, QR code, urgency, disguise,
        shortener, payment or invitation link. Whether it is about the group's own
        subject, and from someone trusted, the rules decide (rulesets/base.yaml)."""
        return self.outside_links > 0 and set(self.signals) <= _ORDINARY_LINK_SIGNALS


def _obfuscated(um: Unmasked) -> bool:
    """A mixed-script word or two happen in real chat (a typo, a product code, a
    Ukrainian і); spam disguises most of its words. So look-alikes count when at
    least two words and a fifth of all words carry them."""
    disguised = um.lookalike >= 2 and um.lookalike * 5 >= um.words
    hidden_digits = um.digit_signs > 0 or um.numerals > 0
    return um.invisible > 0 or um.fullwidth > 0 or um.spaced > 0 or disguised or hidden_digits


# Every signal pattern in one set: one search of a text tells which of them occur
# (``firekeeper.rules.linear.PatternSet``), where each pattern alone was a search of its own.
_SIGNAL_PATTERNS = {
    "offer": _OFFER,
    "private_contact": _PRIVATE_CONTACT,
    "referral_code": _REFERRAL,
    "earning_pitch": _EARNING,
    "vice": _VICE,
    "qr_or_card": _QR_TEXT,
    "price": _PRICE,
    "shopping": _SHOPPING,
    "urgency": _URGENCY,
    "money_emoji": _MONEY_EMOJI,
    "pointer_emoji": _POINTER_EMOJI,
    # read on the handle view (handle_view)
    "contact_handle": _CONTACT_HANDLE,
    "group_number": _GROUP_NUMBER,
    "ad_disclaimer": _AD_DISCLAIMER,
    "game_trade": _GAME_TRADE,
    "reward_lure": _REWARD_LURE,
    "loan_offer": _LOAN,
}
_SIGNAL_SET = linear.pattern_set(*_SIGNAL_PATTERNS.values())
_ON_HANDLES = frozenset(
    ("contact_handle", "group_number", "ad_disclaimer", "game_trade", "reward_lure", "loan_offer")
)


def _found_signals(plain: str, handles: str) -> frozenset[str]:
    """The names in :data:`_SIGNAL_PATTERNS` whose pattern occurs: the handle patterns
    on ``handles``, the others on ``plain``."""
    names = tuple(_SIGNAL_PATTERNS)
    on_plain = {names[i] for i in _SIGNAL_SET.found(plain)}
    if handles == plain:
        return frozenset(on_plain)
    on_handles = {names[i] for i in _SIGNAL_SET.found(handles)}
    return frozenset((on_plain - _ON_HANDLES) | (on_handles & _ON_HANDLES))


def handle_view(text: str) -> str:
    """``text`` with the separators between digits removed (``3 1 9-4.7`` -> ``31947``;
    one or two separator characters at a time), so a number spaced out to dodge
    filters reads as one. Only the contact-handle pattern reads it; one pass."""
    if not (
        any(map(str.isdigit, text)) if not text.isascii() else any(d in text for d in _ASCII_DIGITS)
    ):
        return text  # no digit at all: nothing to join
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        out.append(ch)
        i += 1
        if ch.isdigit():
            j = i
            while j < n and j - i < 2 and text[j] in _DIGIT_SEPARATORS:
                j += 1
            if j > i and j < n and text[j].isdigit():
                i = j
    return "".join(out)


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
    shared = features.of(text)  # the unmasked text and its links, once per message
    um = shared.unmasked
    plain = um.text
    found = shared.plain_links(links)
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

    handles = handle_view(plain)
    hit = _found_signals(plain, handles)
    selling = "offer" in hit
    present = {
        "phishing_link": phishing_n > 0,
        "blocked_domain": blocked_n > 0,
        "shortener_link": shortener > 0,
        "payment_link": payment > 0,
        "shop_link": shops > 0,
        "chat_invite_link": invites > 0,
        "private_contact": private_links > 0 or "private_contact" in hit,
        "referral_code": referral_link or "referral_code" in hit,
        "earning_pitch": "earning_pitch" in hit,
        "vice": "vice" in hit,
        "obfuscated": _obfuscated(um),
        "qr_or_card": bool(kinds & _CARD_KINDS) or "qr_or_card" in hit,
        "contact_handle": "contact_handle" in hit,
        "group_number": "group_number" in hit,
        "ad_disclaimer": "ad_disclaimer" in hit,
        "game_trade": "game_trade" in hit,
        "reward_lure": "reward_lure" in hit,
        "loan_offer": "loan_offer" in hit,
        "price": "price" in hit,
        "offer_words": selling or "shopping" in hit,
        "urgency": "urgency" in hit,
        "money_emoji": "money_emoji" in hit,
        "pointer_emoji": "pointer_emoji" in hit,
        "outside_link": outside > 0,
    }
    names = tuple(s for s in SIGNALS if present[s])
    money = present["price"] or payment + shops > 0 or present["referral_code"]
    pitch = selling or any(
        present[s]
        for s in (
            "qr_or_card",
            "private_contact",
            "referral_code",
            "earning_pitch",
            "contact_handle",
            "group_number",
            "game_trade",
            "reward_lure",
            "loan_offer",
        )
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
