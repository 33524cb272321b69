"""Chinese spam and ads: contact handles and their disguises, the scams Chinese groups
see, and ordinary Chinese talk about prices and shops that must stay clean.

The texts are written here in the shapes such ads take (none is copied from a
dataset); the measured figures on real data are in test_signals_zh_data.py.
"""

from __future__ import annotations

import pytest

from firekeeper.rules.promo import handle_view, signals
from firekeeper.rules.unmask import unmask


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        # contact handles: QQ, WeChat, phone, Telegram
        ("有需要的加扣扣 2833106087", "contact_handle"),
        ("企鹅：3194704877", "contact_handle"),
        ("🐧 3194704877 私聊", "contact_handle"),
        ("加V：abc_12345 详谈", "contact_handle"),
        ("薇信 wxid_88abc9 备注来意", "contact_handle"),
        ("威信号: hello2024", "contact_handle"),
        ("vx：shop8888", "contact_handle"),
        ("联系电话 13812345678", "contact_handle"),
        ("有事打 138-1234-5678", "contact_handle"),
        ("飞机 @deal_master 私聊", "contact_handle"),
        ("telegram: cheap_vpn_bot", "contact_handle"),
        ("需要的联系客服 9988776655", "contact_handle"),
        ("交流群：279314535", "group_number"),
        ("进群 1102943740 领资料", "group_number"),
        # their disguises
        ("扣扣 ３１９４７０４８７７", "contact_handle"),  # full-width digits
        ("扣扣 ❸❶❾❹❼⓿❹❽❼❼", "contact_handle"),  # negative circled digits
        ("扣扣 3️⃣1️⃣9️⃣4️⃣7️⃣0️⃣4️⃣8️⃣", "contact_handle"),  # keycap emoji digits
        ("扣扣 三一九四七零四八七七", "contact_handle"),  # Chinese numerals as digits
        ("扣扣 叁壹玖肆柒零肆捌柒柒", "contact_handle"),  # financial numerals
        ("扣扣 3 1 9 4-7 0 4.8 7 7", "contact_handle"),  # separators between digits
        ("q\u200bq 3194704877", "contact_handle"),  # a zero-width space
        ("𝐯𝐱：shop8888", "contact_handle"),  # mathematical letters
        ("ｖｘ：shop8888", "contact_handle"),  # full-width letters
        ("vх：shop8888", "contact_handle"),  # a Cyrillic х in vx
        ("加 微 信 abc12345", "private_contact"),  # spaced out
        ("加.微.信 abc12345", "private_contact"),  # punctuated
        ("加 V 信 abc12345", "private_contact"),
        ("➕v 了解详情", "private_contact"),
        ("需要的dd我", "private_contact"),
        ("出二手号，价格私聊", "private_contact"),
        # the scams
        ("在家刷单，一单一结，日结200", "earning_pitch"),
        ("招打字员，动动手指日入300", "earning_pitch"),
        ("带单炒币，稳赚不赔", "earning_pitch"),
        ("菠菜平台首充送彩金", "vice"),
        ("同城约炮，上门服务", "vice"),
        ("无抵押贷款，黑户也能下款，秒批", "loan_offer"),
        ("信用卡代还，花呗套现", "loan_offer"),
        ("低价出游戏账号，带稀有皮肤", "game_trade"),
        ("外挂防封，绕过反作弊检测", "game_trade"),
        ("金币出售，代充点券", "game_trade"),
        ("卡网上新了，卡密自动发", "game_trade"),
        ("扫码领红包，每天都有", "reward_lure"),
        ("淘宝无门槛领取大额优惠券", "reward_lure"),
        ("复制这条信息￥AbCd1234XyZ￥打开手机淘宝", "reward_lure"),
        ("微信搜索小程序「天天领」", "qr_or_card"),
        ("群发勿踢，打扰了", "ad_disclaimer"),
        ("禁商请撤回，谢谢", "ad_disclaimer"),
        ("出二手vape100r", "price"),  # 100r: RMB in chat slang
    ],
)
def test_chinese_spam_signals_are_found(text: str, signal: str) -> None:
    found = signals(text)
    assert signal in found.signals, (text, found.signals, found.plain_text)


@pytest.mark.parametrize(
    "text",
    [
        "有需要的加扣扣 2833106087 私聊",
        "企鹅 三一九四七零四八七七，低价出号",
        "出二手vape100r",
        "在家刷单，一单一结，加我微信",
        "菠菜平台首充送彩金，注册链接 https://example.bet/r",
        "无抵押贷款，秒批，联系 13812345678",
        "外挂防封，只需20r，需要的dd",
        "淘宝扫码无门槛领取大额红包",
        "交流群：279314535 火速加入",
        "群发勿踢",
        "原价149元【券后14.9】复制这条信息打开手机淘宝",
        "招打字员，日结，加V：abc_12345",
    ],
)
def test_chinese_ads_are_promotions(text: str) -> None:
    found = signals(text)
    assert found.promotion, (text, found.signals, found.score)


@pytest.mark.parametrize(
    "text",
    [
        "京东才¥39",  # the example
        "京东才¥39，还包邮，我昨天刚买",
        "这本书京东卖45元，当当38元，哪个划算？",
        "门票30元，学生半价优惠",
        "我在淘宝下单了，价格还行，99块",
        "买了个网卡明天才能到",
        "给你买波奇的发卡",  # a hair clip, not a card shop
        "你有正版账号吗？",
        "我的游戏账号被盗了怎么办",
        "米哈游的想法：好好过主线，然后做支线，打BOSS，攒材料升级",
        "qq红包恭喜发财",
        "男/女/不限，人数20人",
        "① 先报名 ② 再交材料 ③ 等通知",  # a numbered list, not a disguised number
        "一九四九年十月一日",
        "今天赶紧把作业写完",
        "@2148273214 你来吗",  # a QQ mention
        "我的QQ号被冻结了",
        "总票房4.94亿美元，稳赚了好几倍呢",
        "开放日入校时间为上午9:00",
        "凭身份证免费领票进入参观",
        "电话我知道，是010-63779779",
        "这家店的微信小程序挺好用",
    ],
)
def test_ordinary_chinese_talk_is_not_a_promotion(text: str) -> None:
    found = signals(text)
    assert not found.promotion, (text, found.signals, found.score)


def test_a_price_alone_in_chinese_is_no_paid_offer() -> None:
    found = signals("京东才¥39，还包邮")
    assert "price" in found.signals and "offer_words" in found.signals
    assert not found.paid_offer


def test_the_digit_tricks_are_named() -> None:
    assert "digit_signs" in unmask("❸❶❾❹❼").tricks
    assert "numerals" in unmask("三一九四七零四八七七").tricks
    assert unmask("三一九四七零四八七七").text == "3194704877"
    assert "digit_signs" not in unmask("① 先 ② 再 ③ 后").tricks
    assert unmask("一九四九年").text == "一九四九年"  # five numerals: a year, left as it is
    assert signals("扣扣 ❸❶❾❹❼⓿❹❽❼❼").has("obfuscated")


def test_the_handle_view_joins_spaced_digits_only() -> None:
    assert handle_view("3 1 9-4.7 0") == "319470"
    assert handle_view("12:30 开会") == "12:30 开会"
    assert handle_view("a b c") == "a b c"
    assert handle_view("1   2") == "1   2"  # three separators: two numbers
