"""What the adapters themselves write to people, in the chat's language.

Most texts people read come from the rulesets (a warning's text, a notice's
text), already in the chat's language. An adapter writes a few of its own: the
notice to admins that carries a ruleset's notice, and the request to admins to
do by hand what the platform gives a bot no API for (delete a message in a
WeCom group, mute there, set Telegram's slow mode...). Those are written here,
in English and simplified Chinese, the way a group owner would put them: what
to do and about whom, with no rule ids, signal names or parameter names.

The language is the decision's (``Decision.language``, put on the
``CallContext`` by :func:`firekeeper.adapters.calls_for`, or by the adapter).
An action that arrives alone (an outbox item carries no decision) is read in
the language its own text is written in: a ruleset's text for a Chinese group
is Chinese.
"""

from __future__ import annotations

from firekeeper.rules import language as lang_

_EN = {
    "prefix": "[Firekeeper] {chat}: ",
    "chat": "chat {chat}",
    "titled": "“{title}”",
    "delete_message": "the bot cannot delete messages here; please delete message {message}.",
    "delete_message_of": (
        "the bot cannot delete messages here; please delete {user}'s message ({message})."
    ),
    "mute": "the bot cannot mute here; please keep {user} from posting for {duration}.",
    "remove": "the bot cannot remove members here; please remove {user} from the group.",
    "ban": (
        "the bot cannot remove members here; please remove {user} from the group "
        "and keep them from coming back."
    ),
    "deny_joined": "{user} just joined and should not be in the group; please remove them.",
    "review_joined": "{user} just joined; please take a look before they settle in.",
    "review_request": "{user} asked to join; the request waits for you to approve or decline.",
    "slow_mode": "please turn on slow mode: one message every {duration} per member.",
    "slow_mode_off": "slow mode can be turned off again.",
    "calm_down": (
        "the group is going too fast; please ask everyone to slow down "
        "(about one message every {duration} each)."
    ),
    "calm_over": "the group has calmed down; no need to ask people to slow down any more.",
    "pause_invites": ("please stop invitations for {duration}: revoke the invite links for now."),
    "pause_invites_qr": (
        "please stop invitations for {duration}: stop sharing the group QR code and "
        "invitations for now."
    ),
    "pass_on": "the bot cannot write to {user} privately; please pass this on to them privately:",
    "pass_on_author": (
        "the bot cannot write to the author privately; please pass this on to them privately:"
    ),
    "someone": "a member",
    "user": "user {user}",
}

_ZH = {
    "prefix": "【群管提醒】{chat}：",
    "chat": "群 {chat}",
    "titled": "「{title}」",
    "delete_message": "机器人在这里撤不了消息，请手动撤回这条消息（{message}）。",
    "delete_message_of": "机器人在这里撤不了消息，请手动撤回 {user} 的这条消息（{message}）。",
    "mute": "机器人在这里没法禁言，请把 {user} 禁言 {duration}。",
    "remove": "机器人在这里没法踢人，请把 {user} 移出群。",
    "ban": "机器人在这里没法踢人，请把 {user} 移出群，之后也别再让这个人进群。",
    "deny_joined": "{user} 刚进群，按群规不该留在群里，请把这个人移出群。",
    "review_joined": "{user} 刚进群，麻烦先看一下这个人。",
    "review_request": "{user} 申请入群，请审核通过或拒绝。",
    "slow_mode": "请开启慢速模式：每人每 {duration}发一条。",
    "slow_mode_off": "可以关掉慢速模式了。",
    "calm_down": "群里刷得太快了，请提醒大家慢一点（每人大约每 {duration}发一条）。",
    "calm_over": "群里已经恢复正常节奏，不用再提醒大家放慢了。",
    "pause_invites": "请暂停邀请 {duration}：先停用群的邀请链接。",
    "pause_invites_qr": "请暂停邀请 {duration}：这段时间先别分享群二维码，也别拉人进群。",
    "pass_on": "机器人没法私聊 {user}，麻烦私下转告一下：",
    "pass_on_author": "机器人没法私聊发消息的人，麻烦私下转告一下：",
    "someone": "一位成员",
    "user": "用户 {user}",
}

PHRASES: dict[str, dict[str, str]] = {"en": _EN, "zh": _ZH}
"""Every phrase in every language the adapters write (the same keys in each)."""


def family(language: str) -> str:
    """``zh`` for any Chinese tag, else ``en`` (the languages the adapters write)."""
    tag = lang_.canonical(language) if language and lang_.valid_tag(language) else ""
    return "zh" if tag.split("-")[0] == "zh" else "en"


def language_of(declared: str, text: str) -> str:
    """The language to write in: the decision's when known, else the one ``text`` (the
    action's own, from the ruleset) is written in."""
    if declared:
        return declared
    return "zh-Hans" if any(_is_han(ch) for ch in text) else "en"


def _is_han(ch: str) -> bool:
    code = ord(ch)
    return 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF


def phrase(key: str, language: str, **values: str) -> str:
    """The phrase ``key`` in ``language`` with its ``{name}`` values filled."""
    return PHRASES[family(language)][key].format(**values)


def duration(seconds: int, language: str) -> str:
    """ "1 day" / "1 天": never seconds when a larger unit fits."""
    return lang_.duration(seconds, language)


def chat_name(chat_id: str, title: str, language: str) -> str:
    """How a notice names the chat: its title when the adapter knows it, else its id."""
    if title:
        return phrase("titled", language, title=title)
    return phrase("chat", language, chat=chat_id)


def admin_notice(language: str, chat: str, what: str, text: str) -> str:
    """A notice to admins: where, what to do (``what``: a phrase, or "") and the ruleset's
    text (already in ``language``)."""
    head = phrase("prefix", language, chat=chat)
    joiner = "" if family(language) == "zh" else " "  # Chinese puts no space between sentences
    body = joiner.join(part for part in (_sentence(what, language), text.strip()) if part)
    return head + body


def _sentence(what: str, language: str) -> str:
    if not what or family(language) == "zh":
        return what
    return what[0].upper() + what[1:]
