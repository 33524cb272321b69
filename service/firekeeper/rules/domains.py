"""Domain lists written here as data, and suffix matching. Pure.

A domain matches a list when it, or any parent of it, is on the list:
``m.tb.cn`` and ``x.paypal.me`` match ``tb.cn`` and ``paypal.me``. The lists
are deliberately short and well known; a tenant adds its own through the
blocklist API, a chat allows its own domains through its screening settings,
and the phishing list is a file loaded at the edge (``FIREKEEPER_PHISHING_DOMAINS``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

# Links that hide where they go: URL shorteners and link-in-bio hubs.
SHORTENERS = frozenset(
    {
        "bit.ly", "bitly.com", "tinyurl.com", "t.co", "goo.gl", "is.gd", "v.gd", "ow.ly",
        "buff.ly", "rebrand.ly", "cutt.ly", "shorturl.at", "urlz.fr", "rb.gy", "s.id", "t.ly",
        "tiny.cc", "bl.ink", "short.io", "bit.do", "soo.gd", "shorte.st", "adf.ly", "qr.ae",
        "clck.ru", "vk.cc", "page.link", "lnkd.in", "linktr.ee", "taplink.cc", "t.cn",
        "dwz.cn", "url.cn", "suo.im", "mrw.so", "amzn.to", "tb.cn", "u.jd.com", "sourl.cn",
        "reurl.cc", "surl.li", "shrtco.de", "cutt.us", "tinyurl.is", "spoo.me",
    }
)  # fmt: skip

# Where money changes hands: payment pages, paid-course and paid-community platforms.
PAYMENT = frozenset(
    {
        # payment and tipping
        "paypal.com", "paypal.me", "buy.stripe.com", "checkout.stripe.com", "pay.weixin.qq.com",
        "wxpay.wxutil.com", "alipay.com", "qr.alipay.com", "patreon.com", "ko-fi.com",
        "buymeacoffee.com", "boosty.to", "donationalerts.com", "cash.app", "venmo.com",
        "revolut.me", "yoomoney.ru", "qiwi.com", "afdian.net", "afdian.com", "mianbaoduo.com",
        "payhip.com", "lemonsqueezy.com", "gumroad.com", "sellix.io", "sellfy.com",
        # paid courses and paid communities (knowledge payment: the article's 知识付费)
        "xiaoe-tech.com", "xiaoeknow.com", "zsxq.com", "qianliao.tv", "ke.qq.com",
        "study.163.com", "udemy.com", "teachable.com", "thinkific.com", "kajabi.com",
        "podia.com", "skool.com", "getcourse.ru", "stepik.org", "whop.com",
    }
)  # fmt: skip

# Shops: people share product links in ordinary chat too, so these weigh less.
SHOPS = frozenset(
    {
        "taobao.com", "tmall.com", "jd.com", "pinduoduo.com", "yangkeduo.com", "weidian.com",
        "youzan.com", "koudaitong.com", "amazon.com", "aliexpress.com", "ebay.com", "etsy.com",
        "myshopify.com", "ozon.ru", "wildberries.ru", "shopee.com", "lazada.com",
    }
)  # fmt: skip

# Invitations into another group: pulling members elsewhere.
CHAT_INVITE_PREFIXES = (
    "t.me/+",
    "t.me/joinchat/",
    "telegram.me/joinchat/",
    "chat.whatsapp.com/",
    "discord.gg/",
    "discord.com/invite/",
    "discordapp.com/invite/",
    "qm.qq.com/",
    "jq.qq.com/",
    "work.weixin.qq.com/gm/",
)

# Links that open a private conversation with someone.
PRIVATE_CHAT_DOMAINS = frozenset({"wa.me", "u.wechat.com", "line.me", "m.me"})


MAX_LABELS = 127  # labels in the longest name DNS can hold (253 characters)


def parents(domain: str) -> tuple[str, ...]:
    """``a.b.c`` -> (``a.b.c``, ``b.c``); a bare top-level name is not a parent.

    Only the last :data:`MAX_LABELS` labels count: no listed (real) domain is
    longer, and a made-up host of thousands of labels would otherwise cost time
    quadratic in its length."""
    parts = domain.lower().strip(".").split(".")[-MAX_LABELS:]
    return tuple(".".join(parts[i:]) for i in range(len(parts) - 1)) or (domain.lower(),)


def listed(domain: str, domains: Collection[str]) -> bool:
    return bool(domains) and any(d in domains for d in parents(domain))


def normalize(domain: str) -> str:
    """Lower case, no scheme, path, port, leading ``www.`` or trailing dot; "" when unusable."""
    d = domain.strip().lower()
    d = d.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0].strip(".")
    d = d.removeprefix("www.")
    if not d or any(c.isspace() for c in d) or "." not in d:
        return ""
    return d


def parse_list(lines: Iterable[str]) -> frozenset[str]:
    """One domain a line; blank lines and ``#`` comments skipped; unusable lines dropped."""
    out = set()
    for line in lines:
        text = line.split("#", 1)[0]
        d = normalize(text)
        if d:
            out.add(d)
    return frozenset(out)
