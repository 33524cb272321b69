"""A theme's vocabulary, and how much of a message it covers. Pure, linear time.

Keyword lists miss most on-topic talk: a film group says "who directed it?" and
"the lead was superb" without ever writing "film". So a theme is declared with
example messages too, and its vocabulary is every feature of its keywords,
phrases and examples (and, per chat, of the group's own recent on-topic
messages: ``firekeeper.areas.lifecycle.pure.features``). A message's *coverage* is the share
of its informative features the vocabulary knows.

Features, from folded text (NFKC, case fold):

- English and other spaced scripts: word stems (``directed`` -> ``direct``),
  stop words left out;
- CJK: character bigrams and single characters, so Chinese needs no segmenter
  (``导演是谁`` shares ``导演`` with an example saying ``这部片的导演``); a bigram
  with a particle or pronoun in it (``员的``) is mostly a word boundary and left out.

Each feature weighs what it tells: a bigram or a word 1; a single CJK
character :data:`CHAR_WEIGHT` (characters are shared across subjects far more
than words); words and characters of everyday talk that any group uses
(``think``, ``today``, ``知道``, ``喜欢``) :data:`GENERIC_WEIGHT`. Coverage is
``sum(weight of known features) / sum(weight of all features)``: 0 when the
message shares nothing informative with the theme, 1 when all of it is known.

The method was chosen on measurements (docs/lifecycle.md, "Judging a
message"): against the KdConv dialogues and an English set of eight group
themes it recognises on-topic talk that uses no keyword, where keyword
matching alone accepted a fraction of it.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable
from dataclasses import dataclass

from firekeeper.rules import linear

CHAR_WEIGHT = 0.25
GENERIC_WEIGHT = 0.15
VOCAB_LIMIT = 2048  # features kept from a theme's texts (later examples add nothing past it)
# A group's recent on-topic vocabulary (``remember``): at most RECENT_FEATURES words and
# bigrams the theme does not know, each weight multiplied by RECENT_DECAY at every
# on-topic message and raised by 1 when the message uses it; those at RECENT_AT or more
# (used twice lately) count as the theme's own. Tuned on the dev half of KdConv.
RECENT_FEATURES = 256
RECENT_DECAY = 0.97
RECENT_AT = 1.5
_KEPT_FROM = 0.05 / RECENT_DECAY  # a weight that would decay below 0.05 is forgotten
_WEIGHT = operator.itemgetter(1)

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
CJK_RUN = linear.tokens(f"[{_CJK}]+")
WORD = linear.tokens(r"[^\W_]+")  # read after CJK runs became spaces


def _listed(words: str) -> tuple[str, ...]:
    return tuple(words.split())


STOP_EN = frozenset(
    _listed(
        """a about above after again all also am an and any are as at be been before being
    but by can could did do does doing dont down during each few for from further get got
    had has have having he her here hers him his how i if im in into is it its just let lets
    me more most my no nor not now of off on once only or other our ours out over own same
    she should so some such than that thats the their them then there these they this those
    through to too under until up very was we were what when where which while who whom why
    will with would you your yours yourself"""
    )
)
CJK_STOP = frozenset("的了是我你他她它们在有和就也都这那吗呢吧啊呀嘛哦嗯个一不")

# Everyday words any group uses, whatever it is about: they count, but little.
_GENERIC_EN = frozenset(
    _listed(
        """know think thought like good bad time today tonight tomorrow yesterday day days
    week weeks month year years people person really want need make made go going went come
    came see saw look thing things way well much many new old back first last next got say
    said tell told use try feel lot little bit big small great best better right long still
    even maybe something anything nothing everyone everybody someone anyone question ask
    help post share start started guess mean sound seem nice hope wait already actually
    probably always never sometimes often again morning evening weekend place home friend
    guy guys anyone sorry okay yes yeah sure thank thanks please love hate fun funny real
    pretty quite enough kind sort stuff whole part point minute hour hours two three one
    another both every most other same different wonder mind hear heard talk talking read
    said ever since around though although because anyway also"""
    )
)
_GENERIC_ZH = _listed(
    """知道 什么 喜欢 可以 觉得 一下 没有 还是 这个 那个 时候 现在 今天 明天 昨天 真的 应该
    已经 因为 所以 但是 不过 如果 怎么 为什么 哪里 多少 一起 非常 特别 比较 一个 一些 大家
    我们 你们 他们 自己 东西 事情 感觉 其实 确实 不错 挺好 好像 可能 而且 还有 就是 那么
    这么 这样 那样 一直 一定 不是 没事 有点 一点 时间 地方 出来 起来 看看 听说 不少 很多
    了解 认识 记得 谢谢 哈哈 好的 对了 然后 之前 以后 最近 今年 去年 明年 上次 下次 周末
    晚上 早上 中午 下午 真是 好看 好听 厉害 推荐 问题 大概 或者 还要 一样 有人 朋友 是不是
    谁 哪 很 太 最 更 又 再 还 会 要 想 说 看 能 好 大 小 多 少 人 年 月 日 时 天 去 来 上 下
    中 里 么 怎 得 着 过 给 对 让 把 被 从 到 为 与 及 或 但 而 所 可 以 没 真 挺 做 知 道
    点 些 样 家 事 那 么 后 前 出 起 开 话 呵 嘿 嗨 哇 啦"""
)


def _generic_zh() -> frozenset[str]:
    out: set[str] = set()
    for word in _GENERIC_ZH:
        out.update(word[i : i + 2] for i in range(len(word) - 1))
        if len(word) <= 2:
            out.add(word)
    return frozenset(out)


GENERIC_ZH = _generic_zh()


def stem(token: str) -> str:
    """A deliberately light English stemmer, applied to theme terms and messages alike."""
    t = token
    if len(t) > 4 and t.endswith("ies"):
        t = t[:-3] + "y"
    elif len(t) > 5 and t.endswith("ing"):
        t = t[:-3]
    elif len(t) > 4 and t.endswith(("ed", "ches", "shes", "sses", "xes")):
        t = t[:-2]
    elif len(t) > 3 and t.endswith("s") and not t.endswith(("ss", "us", "is")):
        t = t[:-1]
    if len(t) > 3 and t.endswith("e"):
        t = t[:-1]
    if len(t) > 3 and t[-1] == t[-2] and t[-1] not in "aeiouls":
        t = t[:-1]  # running -> runn -> run
    return t


def words(folded: str) -> list[str]:
    """Word stems of the spaced scripts, stop words and single letters left out."""
    return [
        stem(w)
        for w in WORD.findall(CJK_RUN.sub(" ", folded))
        if w not in STOP_EN and (len(w) > 1 or w.isdigit())
    ]


_GENERIC_STEMS = frozenset(stem(w) for w in _GENERIC_EN)


def features(folded: str) -> dict[str, float]:
    """The weighted features of a folded text (see the module docstring)."""
    out: dict[str, float] = {}
    for w in words(folded):
        if not w.isdigit():
            out[w] = GENERIC_WEIGHT if w in _GENERIC_STEMS else 1.0
    for run in CJK_RUN.findall(folded):
        for i, c in enumerate(run):
            if c not in CJK_STOP:
                out[c] = GENERIC_WEIGHT * CHAR_WEIGHT if c in GENERIC_ZH else CHAR_WEIGHT
            if i + 1 < len(run):
                pair = run[i : i + 2]
                if pair[0] in CJK_STOP or pair[1] in CJK_STOP:
                    continue  # mostly a word boundary (员的, 的哭), not a word
                out[pair] = GENERIC_WEIGHT if pair in GENERIC_ZH else 1.0
    return out


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """The features a theme's texts use (keywords, phrases, examples)."""

    known: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.known


def vocabulary(folded_texts: Iterable[str], limit: int = VOCAB_LIMIT) -> Vocabulary:
    """The vocabulary of some folded texts, at most ``limit`` features (first come first)."""
    known: dict[str, None] = {}
    for text in folded_texts:
        for feature in features(text):
            if len(known) >= limit:
                return Vocabulary(frozenset(known))
            known[feature] = None
    return Vocabulary(frozenset(known))


Remembered = tuple[tuple[str, float], ...]


def recent(remembered: Remembered) -> frozenset[str]:
    """The features of a group's recent vocabulary that count as its theme's."""
    return frozenset(f for f, w in remembered if w >= RECENT_AT)


def remember(remembered: Remembered, found: dict[str, float], known: frozenset[str]) -> Remembered:
    """The recent vocabulary after one more on-topic message with features ``found``
    (``known``: the theme's own vocabulary, never stored twice). Bounded and deterministic:
    the heaviest RECENT_FEATURES kept."""
    weights = {f: w * RECENT_DECAY for f, w in remembered if w >= _KEPT_FROM}
    for f, w in found.items():
        if w >= 1.0 and f not in known:
            weights[f] = weights.get(f, 0.0) + 1.0
    if len(weights) <= RECENT_FEATURES:
        return tuple(weights.items())
    # a stable sort on the weight alone: ties keep the (deterministic) order they came in
    return tuple(sorted(weights.items(), key=_WEIGHT, reverse=True)[:RECENT_FEATURES])


def coverage(found: dict[str, float], *vocabularies: frozenset[str]) -> float:
    """The share of a message's feature weight that any of the vocabularies knows."""
    total = sum(found.values())
    if total <= 0:
        return 0.0
    known = sum(w for f, w in found.items() if any(f in v for v in vocabularies))
    return known / total


# Subjects every group drifts into, whatever it is about (a group's own subject among
# them is left out for it: see ``drift_for``). A message is off topic only when it shows
# one of them and not the theme: positive evidence, so talk the service cannot place
# ("he was born in 1977") stays neutral rather than nudged.
DRIFT: tuple[tuple[str, str], ...] = (
    (
        "meals",
        """lunch dinner breakfast brunch eat ate eating food restaurant noodles ramen pizza
        burger sushi takeaway delivery cook cooking recipe coffee tea snack dessert hungry
        bakery menu 午饭 晚饭 早饭 早餐 吃饭 外卖 餐厅 饭店 好吃 面条 火锅 奶茶 咖啡 点菜
        做饭 食堂 烧烤 零食 饿了 甜点 菜谱 吃 午餐 晚餐 牛肉面 米饭 饺子 包子
        盒饭 面馆""",
    ),
    (
        "weather",
        """weather rain raining rainy snow sunny hot cold heat freezing storm wind forecast
        temperature humid umbrella 天气 下雨 下雪 降温 升温 台风 太热 好冷 暴雨 晴天 雾霾
        气温 闷热 带伞""",
    ),
    (
        "commute",
        """traffic commute bus subway train metro parking car petrol gas jam drive driving
        road bridge ticket taxi uber 堵车 地铁 公交 打车 停车 开车 通勤 加油 限行 早高峰
        晚高峰 路况 罚单""",
    ),
    (
        "office",
        """boss colleague colleagues office meeting meetings overtime salary payday promotion
        manager report deadline hr appraisal commute layoff 老板 领导 同事 加班 工资 开会
        上班 下班 绩效 年终奖 请假 辞职 跳槽 裁员 周报 考勤""",
    ),
    (
        "money",
        """stock stocks crypto bitcoin shares invest investing market price prices rent
        mortgage loan bank tax taxes inflation cheap expensive sale discount selling 股票
        基金 理财 房价 房租 房贷 贷款 涨价 降价 打折 便宜 比特币 炒股 利息 工资 买房""",
    ),
    (
        "health",
        """cold flu fever cough sick ill doctor dentist hospital medicine headache allergy
        sleep insomnia tired pain vaccine 感冒 发烧 咳嗽 生病 医院 医生 看病 吃药 头疼
        失眠 牙疼 过敏 疫苗 挂号 体检""",
    ),
    (
        "family",
        """kid kids son daughter baby husband wife mom mum dad parents wedding birthday
        daycare nanny grandma sister brother cousin neighbour neighbor landlord 孩子 儿子
        女儿 宝宝 老公 老婆 爸妈 父母 婆婆 结婚 婚礼 生日 邻居 房东 亲戚 相亲""",
    ),
    (
        "fitness",
        """gym workout workouts fitness yoga pilates hiking hike exercise weights diet protein
        squats run running jog jogging sneakers marathon 健身 健身房 减肥 瑜伽 爬山 徒步
        锻炼 运动 撸铁 跳操""",
    ),
    (
        "pets",
        """cat cats dog dogs puppy kitten pet vet leash litter 猫 狗 猫咪 狗狗 宠物 铲屎
        遛狗 猫粮 狗粮 兽医""",
    ),
    (
        "sports",
        """football soccer basketball match game team league goal score season playoffs
        final fans padel tennis cycling race 足球 篮球 比赛 球队 进球 球赛 世界杯 联赛
        决赛 球迷 总冠军 NBA""",
    ),
    (
        "gadgets",
        """phone iphone pixel android laptop computer tablet screen battery charger internet
        broadband wifi camera headphones app 手机 电脑 笔记本 平板 充电 屏幕 网速 宽带
        耳机 换手机 苹果 华为 小米""",
    ),
    (
        "news",
        """election president government politics minister policy war news
        protest council tax 选举 投票 总统 政府 政治 新闻 热搜 官方 政策 战争""",
    ),
    (
        "holidays",
        """holiday holidays vacation trip travel flight flights airport hotel beach visa
        luggage abroad tourist sightseeing booking 旅游 旅行 度假 机票 酒店 航班 机场
        签证 景点 门票 景区 开放 游玩 海边 行李 出国 导游 民宿 游客 参观 名胜 古迹 公园
        广场 博物馆 寺庙 收费 免费 地址 周边 附近 营业 闭馆 旺季 淡季 古镇 风景 景色 爬山
        游览 玩几天""",
    ),
    (
        "screen",
        """movie movies film films series episode episodes season netflix show shows tv
        cinema actor actress director sitcom streaming trailer 电影 电视剧 综艺 追剧 剧集
        演员 导演 主演 上映 影院 票房 影片""",
    ),
    (
        "music",
        """song songs album albums concert band singer music playlist gig tour lyrics
        spotify 歌 歌曲 专辑 演唱会 歌手 乐队 音乐 单曲 歌词 听歌 作曲 演唱""",
    ),
    (
        "home",
        """sofa furniture plumber leak tap renovation repair broken heating cleaning laundry
        apartment flat house move moving ikea 装修 搬家 家具 沙发 漏水 维修 打扫 洗衣
        房子 物业 停水 停电""",
    ),
)


def _drift() -> tuple[tuple[str, frozenset[str]], ...]:
    out = []
    for name, words in DRIFT:
        folded = " ".join(words.split()).casefold()
        known = {f for f, w in features(folded).items() if w >= CHAR_WEIGHT}
        out.append((name, frozenset(known)))
    return tuple(out)


DRIFT_VOCABULARIES = _drift()


def drift_for(theme: frozenset[str]) -> tuple[frozenset[str], ...]:
    """The drift subjects that are not the theme's own, without the theme's features."""
    out = []
    for _name, known in DRIFT_VOCABULARIES:
        shared = len(known & theme)
        if shared >= max(2, len(known) // 8):
            continue  # the group's own subject (a film group's films): not drift for it
        out.append(known - theme)
    return tuple(out)


def drift(found: dict[str, float], subjects: tuple[frozenset[str], ...]) -> float:
    """The share of a message's feature weight the likeliest drift subject knows."""
    total = sum(found.values())
    if total <= 0 or not subjects:
        return 0.0
    return max(sum(w for f, w in found.items() if f in s) for s in subjects) / total
