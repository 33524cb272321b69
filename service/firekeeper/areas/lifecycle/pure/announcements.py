"""Announcements checked for designed communication: what they convey. Pure.

The article's sixth death pose: notices "too long to be too lazy to read;
either too short [and] a bunch of questions", which leave members unable to
"obtain the most critical information with the simplest thinking". A notice
(an announcement, a pinned message, a chat's announcement text) is judged on
what it conveys, not on its shape:

- **what**: an event or an action (meeting, ride, 读书会, 停水, vote, 报名,
  chapter 5), or house rules (no ads, 禁止广告);
- **when**: a time or a date (8pm, 20:00, Sat, 10 Dec, 12/10, 周六晚8点,
  明天下午3点, 12月10日, 下周);
- **where**: a place (Cafe Luna, room 2, 二号会议室, 地址：..., 老地方), an
  online venue (Zoom, 腾讯会议, 线上/线下, 群里) or a link.

A notice is **unclear** when it leaves members to ask (one of these, and never
when it is already too long):

- it calls for attention but says nothing of the three and no instruction
  ("通知", "Important!", "大家注意一下"), in at most :data:`CRYPTIC` display
  columns (a pinned line with no call for attention, "Faster than a bullet", is
  a highlight, not a notice to judge);
- it announces a change (moved, postponed, 改到, 推迟) without the new time or
  place ("Meeting moved. Check."), in at most :data:`ONE_LINE` columns;
- it points elsewhere instead of saying (see above, details later, 看群文件,
  待定) and gives no time or place, in at most :data:`ONE_LINE` columns;
- it announces an event (with a call for attention or an exclamation) and
  nothing of when or where ("Book club!", "读书会！"), in at most
  :data:`BARE_EVENT` columns.

A notice that says what, when and where passes however it is laid out: a
greeting first, one long line, no line breaks. Reading time still counts:
CJK at 300 characters a minute, other text at 240 words a minute (ordinary
silent-reading speeds); the rules compare it with ``notice_max_seconds``, and a
long notice's suggestion adds what its layout hides (a greeting for a first
line, a paragraph with no break).

The author gets one or two sentences: what is missing and how to fix it, in
the chat's language (else the notice's script), never a deletion.

A notice is measured on its first ``SCANNED_CHARS`` code points (RE2 patterns,
``firekeeper.rules.linear``); its ``length`` is that of the whole text, and a
notice that long reads in over a minute, so it is ``too_long`` anyway.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from firekeeper.rules import house_rules, linear
from firekeeper.rules.textmatch import fold

LONG_SECONDS = 60
CLEAR_FIRST_LINE = 60  # display columns
WALL_LINE = 240  # display columns
SHORT = 20  # display columns
CRYPTIC = 60  # display columns: a notice this short that says nothing is unclear
ONE_LINE = 120  # display columns: a change or a pointer without a time or place
BARE_EVENT = 30  # display columns: an event named and nothing else
SHORTEN_FROM = 15  # seconds of reading: below this a notice gets no advice to shorten it

_CJK = linear.tokens(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WORDS = linear.tokens(r"[^\W_]+")
_DETAIL = linear.compile(
    r"\d|[一二三四五六七八九十]+[点號号日月]|明天|后天|今晚|周[一二三四五六日天]|星期"
)
_GREETING = linear.compile(
    r"(?i)^[\W_]*(?:(?:hi|hello|hey|dear|good (?:morning|evening|afternoon))"
    r"(?:[\W_]+(?:all|everyone|everybody|friends|folks|members|guys|team|readers))?|"
    r"(?:notice|announcement|important|update|reminder|attention|fyi|pinned)|"
    r"大家好|各位(?:群友|朋友|家人|伙伴|同学|亲)?(?:们)?(?:好)?|亲爱的.{0,6}|"
    r"(?:重要)?(?:通知|公告|提醒|注意)|群公告)[\W_]*$"
)
_ZH_NUM = "[0-9一二三四五六七八九十两]"
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WHEN = linear.any_of(
    r"\d{1,2}(?:[:.]\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)",
    r"\d{1,2}[:：]\d{2}",
    r"\d{1,2}\s?(?:-|–|to)\s?\d{1,2}\s?(?:am|pm|h)\b",
    r"\b(?:noon|midday|midnight|tonight|today|tomorrow|tmrw?|weekend|weekends)\b",
    r"\b(?:this|next|every|each)\s+(?:morning|afternoon|evening|night|week|month|year)\b",
    r"\b(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?s?\b",
    rf"\b{_MONTH}\s?\d{{1,2}}\b",
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s?(?:of\s)?{_MONTH}(?:\s|$|[,.;!])",
    r"\b\d{1,2}/\d{1,2}\b",
    r"\b\d{4}-\d{1,2}-\d{1,2}\b",
    r"\b(?:in|within)\s+(?:\d+|an?|one|two|three)\s+(?:hours?|days?|weeks?|minutes?|mins?)\b",
    r"\b(?:by|before|until|till|from)\s+(?:the\s+)?(?:end\s+of\s+)?(?:\d|monday|tuesday|wednesday|thursday|friday|saturday|sunday|tonight|tomorrow|noon)",
    rf"(?:上午|下午|晚上|早上|中午|傍晚|凌晨|今晚|明晚|晚|早){_ZH_NUM}{{1,3}}\s?[点點时:：]",
    r"\d{1,2}\s?[点點时](?:\s?\d{1,2}分?|半|整)?",
    r"[一二三四五六七八九十两]{1,3}[点點](?:半|整|钟)",
    rf"{_ZH_NUM}{{1,2}}\s?月\s?{_ZH_NUM}{{1,3}}\s?[日号號]?",
    r"\d{1,2}\s?[日号號]",
    r"昨天|昨晚|今天|今晚|今早|今日|明天|明晚|明早|明日|后天|本周|这周|这个周|下周|下个?星期|下个?礼拜|周末|月底|月初|本月|下个?月|年底|每周|每天|每晚|每日|即日起",
    r"周[一二三四五六日天末]|星期[一二三四五六日天]|礼拜[一二三四五六日天]",
    r"[一二三四五六七八九十两\d]+(?:天|小时|分钟)(?:后|内|之内|以内)",
    r"(?:截止|之前|以前|前)(?:到)?\s?(?:\d|[一二三四五六七八九十])",
)
_WHERE = linear.any_of(
    r"https?://|www\.|\b[a-z0-9-]+\.(?:com|net|org|io|me|cn|co|app|dev|gg)\b",
    r"\b(?:zoom|teams|google\s+meet|meet\.google|skype|webex|jitsi|discord|voice\s+(?:channel|chat)|stage\s+channel|livestream|live\s+stream|twitch|youtube|online|on-line|in\s+person|in-person|irl)\b",
    r"\b(?:room|rm|hall|floor|building|bldg|block|gate|pier|court|field|lane|platform|stand|table)\s+[a-z0-9]",
    r"\b(?:cafe|café|coffee\s+shop|library|park|office|station|gym|pool|clubhouse|club\s+house|pub|bar|restaurant|studio|school|campus|centre|center|lobby|canteen|cafeteria|lake|reservoir|river|beach|trailhead|car\s+park|parking|square|museum|church|hotel|bookshop|bookstore|dock|marina|home)\b",
    r"\b(?:street|st\.|road|rd\.|avenue|ave\.?|boulevard|blvd)\b",
    r"\b(?:same|usual|our)\s+(?:place|spot|venue|room|channel|table)\b",
    r"\b(?:venue|location|address|where|place|meeting\s+point)\s?[:：-]\s?\S",
    r"#[a-z][a-z0-9_-]{1,30}",
    r"腾讯会议|飞书|钉钉|企业微信|视频号|直播间|线上|线下|网上|群里|群内|本群|群直播|群语音|语音|会议号|会议室|会议链接|链接|小程序|公众号|群文件|群相册|群公告|话题",
    r"(?:地址|地点|位置|集合点|集合地点|场地)\s?(?:[:：]|在|是)\s?\S",
    r"[0-9一二三四五六七八九十]+\s?(?:楼|层|号楼|栋|幢|单元|室|号门|号口|号线|号厅|号场|号馆|号桌)",
    r"门口|大厅|咖啡|书店|书房|图书馆|公园|广场|体育馆|球场|球馆|操场|食堂|餐厅|饭店|酒店|茶馆|茶室|水库|河边|湖边|钓场|鱼塘|小区|社区|学校|教室|办公室|物业|会所|工作室|老地方|老位置|家里|店里|门店|楼下|楼上|馆|店|站[内外口]|地铁|路口|路\d|[东南西北]门",
    r"\b(?:at|@)\s+(?:the\s+)?[a-z][a-z]+\s+[a-z]",
)
# An event, an action members take, or a thing a notice is about.
_WHAT = linear.any_of(
    r"\b(?:meeting|meetings|meetup|meet-up|meet|call|calls|session|sessions|event|events|talk|talks|workshop|class|classes|lesson|lessons|course|training|practice|rehearsal|game|games|match|tournament|ride|rides|run|runs|hike|hikes|walk|trip|outing|tour|dinner|lunch|breakfast|brunch|party|picnic|bbq|barbecue|potluck|drinks|gathering|get-together|discussion|discuss|review|retro|retrospective|standup|stand-up|sync|demo|launch|release|deploy|deployment|deadline|vote|voting|poll|survey|sign-up|signup|rsvp|check-in|challenge|quiz|exam|test|homework|assignment|chapter|chapters|book|books|novel|reading|episode|stream|screening|concert|show|fishing|maintenance|outage|water|power|electricity|heating|fee|fees|dues|pickup|pick-up|delivery|cleanup|clean-up|volunteers?|donations?|rules?|guidelines|schedule|agenda|minutes|slides|recording|notes|photos|plan|plans|season|league|club|trial|competition|contest|ceremony|celebration|festival|visit|trip|camp|camping|inspection|holiday|closure|shutdown|renewal|registration|enrolment|enrollment)\b",
    r"\b(?:bring|reply|respond|join|submit|post|share|read|watch|fill|pay|vote|come|attend|confirm|register|sign\s+up|book|prepare|finish|upload|send|update|install|wear|meet|start|starts|begin|begins|ends|open|opens|closes|closed|due)\b",
    r"会议|开会|例会|周会|晨会|年会|班会|家长会|读书会|分享会|见面会|茶话会|座谈会|交流会|线下会|聚会|聚餐|饭局|活动|讨论|分享|讲座|直播|上课|课程|课堂|网课|培训|打卡|投票|报名|接龙|截止|提交|作业|考试|测验|比赛|训练|练习|出发|集合|徒步|骑行|跑步|夜跑|晨跑|钓鱼|垂钓|爬山|登山|露营|团建|停水|停电|停气|检修|维修|施工|缴费|交费|物业费|开学|放学|放假|值班|体检|疫苗|快递|取件|群规|规则|规定|须知|章节|第.{1,4}[章节课期篇回]|读完|看完|读书|共读|带上|带好|回复|参加|签到|上线|发布|版本|评审|复盘|周报|日报|月报|汇报|面试|招聘|演出|观影|电影|展览|比赛|聚|约|练|读|写|跑|游|拍|学",
)
_INSTRUCTION = linear.any_of(
    r"\b(?:please|pls|plz|kindly|remember\s+to|make\s+sure|don'?t\s+forget|must|need\s+to|let\s+(?:me|us)\s+know|tell\s+(?:me|us))\b",
    r"请|务必|记得|麻烦|需要|大家(?:把|在|都|要)|要求|必须",
)
_CHANGE = linear.any_of(
    r"\b(?:moved|moves|moving|postponed|rescheduled|changed|changes|delayed|pushed|switched|shifted|relocated|brought\s+forward|new\s+(?:time|date|venue|place|location|room|link))\b",
    r"\b(?:change|changes)\s+(?:of|in)\s+(?:plans?|time|venue|date|schedule)\b",
    r"改到|改为|改成|改在|改期|改时间|改地点|改日|换地方|换时间|换地点|换了|推迟|延期|延后|顺延|提前|调整|变更|挪到|挪了|改了",
)
_POINTER = linear.any_of(
    r"\b(?:check|see|look)\s+(?:it|this|that|above|below|the\s+(?:group|chat|pinned|file|files|doc|docs|channel|link|thread))\b",
    r"\b(?:check|see|look)[.!\s]*$",
    r"\b(?:as\s+(?:discussed|before|usual|agreed|mentioned)|details\s+(?:later|tbd|tba|to\s+follow|soon|to\s+come)|tbd|tba|tbc|stay\s+tuned|more\s+(?:info\s+)?(?:later|soon|to\s+come)|you\s+know\s+(?:where|when|what)|same\s+as\s+(?:before|usual|last\s+time))\b",
    r"看群|看上面|见上|见下|详见|详情见|看文件|群文件|看公告|看附件|待定|另行通知|稍后通知|等通知|再通知|老规矩|你们懂的|懂的都懂|照旧|同上|如题",
)
# A call for attention: a notice that says nothing after it is cryptic; a pinned line
# without one ("Faster than a bullet") is a highlight, not a notice to judge.
_ATTENTION = linear.any_of(
    r"\b(?:notice|announcement|important|urgent|attention|heads\s+up|fyi|update|reminder|note|everyone|everybody|all|guys|folks|team)\b",
    r"通知|公告|注意|重要|提醒|紧急|大家|各位|收到|看一下|看下|留意",
)
_EXCLAIM = linear.compile(r"[!！]")
# Wishes, thanks and welcomes convey what they are: never "unclear".
_SOCIAL = linear.any_of(
    r"\b(?:happy|merry|congrats|congratulations|welcome|thanks|thank\s+you|cheers|well\s+done|good\s+luck)\b",
    r"快乐|恭喜|祝贺|欢迎|感谢|谢谢|辛苦了|加油|生日快乐|节日快乐",
)
_INNER_SPACE = linear.tokens(r"\s+")


def width(text: str) -> int:
    """Display columns: wide and full-width characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in ("W", "F") else 1 for c in text)


@dataclass(frozen=True, slots=True)
class NoticeCheck:
    length: int  # characters, stripped
    line_count: int  # non-empty lines
    reading_seconds: int
    first_line: str
    first_line_width: int
    first_line_clear: bool
    longest_line_width: int
    is_wall: bool
    too_short: bool
    has_what: bool
    has_when: bool
    has_where: bool
    states_rules: bool
    announces_change: bool
    unclear: bool
    missing: tuple[str, ...]  # what, when, where: what an unclear notice leaves out
    problems: tuple[str, ...]  # too_long, unclear
    suggestion: str  # empty when there is nothing to suggest
    zh: bool = False  # written mostly in CJK


def reading_seconds(text: str) -> int:
    cjk = len(_CJK.findall(text))
    words = len(_WORDS.findall(_CJK.sub(" ", text)))
    return round(cjk / 5 + words / 4)


def _judge(
    text: str, columns: int, what: bool, when: bool, where: bool, rules: bool
) -> tuple[bool, bool, tuple[str, ...]]:
    """(unclear, announces a change, what is missing) for a notice's scanned text."""
    change = _CHANGE.search(text) is not None
    pointer = _POINTER.search(text) is not None
    instruction = _INSTRUCTION.search(text) is not None
    if rules:
        return False, change, ()
    if change and not (when or where) and columns <= ONE_LINE:
        return True, True, ("when", "where") if what else ("what", "when", "where")
    if pointer and not when and not (where and what) and columns <= ONE_LINE:
        missing = tuple(n for n, ok in (("what", what), ("when", when), ("where", where)) if not ok)
        return True, change, missing
    if _SOCIAL.search(text) is not None:
        return False, change, ()
    calls = _ATTENTION.search(text) is not None
    if calls and not (what or when or where or instruction) and columns <= CRYPTIC:
        return True, change, ("what", "when", "where")
    if what and (calls or _EXCLAIM.search(text)) and not (when or where) and columns <= BARE_EVENT:
        return True, change, ("when", "where")
    return False, change, ()


def check(text: str) -> NoticeCheck:
    length = len(text.strip())
    stripped = linear.scanned(text.strip())
    lines = [ln.strip() for ln in stripped.splitlines() if ln.strip()]
    first = lines[0] if lines else ""
    first_width = width(first)
    longest = max((width(ln) for ln in lines), default=0)
    seconds = reading_seconds(stripped)
    clear = bool(first) and first_width <= CLEAR_FIRST_LINE and not _GREETING.match(fold(first))
    wall = longest > WALL_LINE
    short = bool(stripped) and width(stripped) < SHORT and not _DETAIL.search(stripped)
    folded = _INNER_SPACE.sub(" ", fold(stripped))
    what = _WHAT.search(folded) is not None
    when = _WHEN.search(folded) is not None
    where = _WHERE.search(folded) is not None
    rules = house_rules.states_rules(folded)
    too_long = seconds > LONG_SECONDS
    unclear, change, missing = _judge(folded, width(folded), what, when, where, rules)
    unclear = unclear and bool(stripped) and not too_long
    problems = tuple(name for name, bad in (("too_long", too_long), ("unclear", unclear)) if bad)
    zh = len(_CJK.findall(stripped)) * 2 > len(_WORDS.findall(_CJK.sub(" ", stripped)))
    c = NoticeCheck(
        length=length,
        line_count=len(lines),
        reading_seconds=seconds,
        first_line=first,
        first_line_width=first_width,
        first_line_clear=clear,
        longest_line_width=longest,
        is_wall=wall,
        too_short=short,
        has_what=what or rules,
        has_when=when,
        has_where=where,
        states_rules=rules,
        announces_change=change,
        unclear=unclear,
        missing=missing if unclear else (),
        problems=problems,
        suggestion="",
        zh=zh,
    )
    return replace(c, suggestion=suggestion_for(c, "zh" if zh else "en"))


def suggestion_for(c: NoticeCheck, language: str) -> str:
    """The check's suggestion for a reader of ``language`` (Chinese or English):
    one or two sentences, what is missing and how to fix it; empty when nothing is."""
    zh = language.split("-")[0].lower() == "zh"
    if c.unclear:
        return _unclear(c, zh)
    if c.reading_seconds >= SHORTEN_FROM:  # rules set their own limit (notice_max_seconds)
        return _too_long(c, zh)
    return ""


def _quote(line: str, zh: bool) -> str:
    cut = line if len(line) <= 30 else line[:29] + "…"
    return f"「{cut}」" if zh else f'"{cut}"'


_MISSING_ZH = {"what": "什么事", "when": "什么时间", "where": "在哪里"}
_MISSING_EN = {"what": "what it is about", "when": "when", "where": "where"}


def _listed(names: tuple[str, ...], zh: bool) -> str:
    if zh:
        return "、".join(_MISSING_ZH[n] for n in names)
    words = [_MISSING_EN[n] for n in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _unclear(c: NoticeCheck, zh: bool) -> str:
    quoted = _quote(" ".join(c.first_line.split()) if c.line_count == 1 else c.first_line, zh)
    if c.announces_change:
        if zh:
            which = "是哪件事、" if "what" in c.missing else ""
            return (
                f"{quoted}只说了有变化，没说{which}改到什么时间、什么地方，大家只能来问。"
                "把新的时间和地点直接写上，比如「周六读书会改到周日下午3点，地点不变」。"
            )
        which = "what, " if "what" in c.missing else ""
        return (
            f"{quoted} says something changed but not {which}when or where it is now, so "
            "members will have to ask. Write the new time and place in the notice itself, "
            'e.g. "Book club moves to Sun 3pm, same room".'
        )
    if zh:
        return (
            f"{quoted}没写清{_listed(c.missing, True)}，大家看了不知道该做什么。"
            "一句话写全事情、时间和地点，比如「周六晚8点 腾讯会议讨论第5章，参加回复1」。"
        )
    return (
        f"{quoted} doesn't say {_listed(c.missing, False)}, so members can't act on it. "
        'Say what, when and where in one line, e.g. "Sat 8pm on Zoom: chapter 5 discussion, '
        'reply 1 to join".'
    )


def _too_long(c: NoticeCheck, zh: bool) -> str:
    opener = ""
    if c.first_line and not c.first_line_clear and _GREETING.match(fold(c.first_line)):
        opener = (
            f"第一行别用{_quote(c.first_line, True)}，直接写最关键的一句；"
            if zh
            else f"Open with the key point instead of {_quote(c.first_line, False)}, "
        )
    if zh:
        wall = "拆成几条要点、每条一行；" if c.is_wall else ""
        return f"{opener}{wall}只留大家必须知道或必须做的事，细节放到链接或文档里。"
    wall = "split it into short points, one per line, " if c.is_wall else ""
    keep = "keep what members must know or do, and move the details to a link or document."
    advice = f"{opener}{wall}{keep}"
    return advice[0].upper() + advice[1:]
