"""WeCom message-archive records (会话存档) -> normalized events.

Input: one decrypted archive record (the JSON the Finance SDK gives for one
message), parsed. Group messages have a ``roomid``: the customer-group chat id
(the same ``wr…`` id as a callback's ChatId). Records with an empty ``roomid``
are 1:1 conversations and are skipped, as are recalls (``action`` recall,
``msgtype`` revoke: no normalized event retracts a message), consent records
(``agree`` / ``disagree``) and device-switch records (``action`` switch).

Event id: ``wecom:{msgid}``; the archive keeps a record's msgid, so a record
pulled twice maps to the same id.

Attachment kinds: ``link`` and ``docmsg`` and each ``news`` item -> link_card
(and their URLs in ``links``); ``weapp`` -> mini_program; ``card`` ->
contact_card (title: the shared contact's id, description: its corp);
``image``/``voice``/``video``/``file``/``emotion``/``location``/``vote`` -> image,
voice, video, file, sticker, location, poll; ``chatrecord`` is a forward;
``mixed`` gives the text and attachments of its parts; anything else (red
packets, meetings, forms, calendar, todo...) -> other, titled with the msgtype.
Archive media carry an ``sdkfileid``, not a URL: ``url`` stays empty for them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from firekeeper.adapters.base import (
    Json,
    PayloadError,
    Skipped,
    Translation,
    from_unix_ms,
    ident,
    number,
    obj,
    objs,
    text,
    unique,
)
from firekeeper.adapters.wecom import WeComContext
from firekeeper.domain.events import Actor, Attachment, Envelope, Event, MessagePosted, Platform

_MEDIA_KINDS = {
    "image": "image",
    "voice": "voice",
    "video": "video",
    "file": "file",
    "emotion": "sticker",
}
# The object that holds a msgtype's content, where it is not named after it.
_CONTENT_KEY = {"docmsg": "doc", "markdown": "info", "news": "info"}
_NOT_CONTENT = {
    "agree": "consent to message archiving, not chat content",
    "disagree": "refusal of message archiving, not chat content",
}


def translate_wecom_archive(record: Json, context: WeComContext) -> Translation:
    """Translate one message-archive record."""
    msgid = ident(record, "msgid", "record")
    action = text(record, "action", "record")
    if action == "switch":
        return _skip("a device-switch record, not a message", "switch")
    msgtype = text(record, "msgtype", "record")
    if action == "recall" or msgtype == "revoke":
        recalled = text(obj(record, "revoke", "record"), "pre_msgid", "record.revoke")
        return _skip(f"recall of message {recalled or '?'}: no normalized retraction", "recall")
    if msgtype in _NOT_CONTENT:
        return _skip(_NOT_CONTENT[msgtype], msgtype)
    room = text(record, "roomid", "record")
    if not room:
        return _skip("a 1:1 conversation (empty roomid): only groups are governed", msgtype)
    millis = number(record, "msgtime", "record")
    if millis is None:
        raise PayloadError("record.msgtime", "required time is missing")
    envelope = Envelope(
        event_id=f"wecom:{msgid}",
        platform=Platform.WECOM,
        tenant=context.tenant,
        chat_id=room,
        occurred_at=from_unix_ms(millis, "record.msgtime"),
        actor=Actor(id=ident(record, "from", "record")),
    )
    return Translation(events=(Event(envelope, archive_message(record)),))


def archive_message(record: Json) -> MessagePosted:
    """The content of an archive record, whatever its room (also for 1:1 records)."""
    body, attachments, is_forward = _content(record, text(record, "msgtype", "record"), "record")
    return MessagePosted(
        message_id=ident(record, "msgid", "record"),
        text=body,
        links=unique(a.url for a in attachments if a.kind == "link_card" and a.url),
        attachments=attachments,
        is_forward=is_forward,
    )


def _content(record: Json, msgtype: str, path: str) -> tuple[str, tuple[Attachment, ...], bool]:
    key = _CONTENT_KEY.get(msgtype, msgtype)
    item = obj(record, key, path)
    where = f"{path}.{key}"
    if msgtype in ("text", "markdown"):
        return text(item, "content", where), (), False
    if msgtype in ("link", "docmsg"):
        card = Attachment(
            "link_card",
            url=text(item, "link_url", where),
            title=text(item, "title", where),
            description=text(item, "description", where),
        )
        return "", (card,), False
    if msgtype == "news":
        cards = tuple(
            Attachment(
                "link_card",
                url=text(n, "url", where),
                title=text(n, "title", where),
                description=text(n, "description", where),
            )
            for n in objs(item, "item", where)
        )
        return "", cards, False
    if msgtype == "weapp":
        title = text(item, "title", where) or text(item, "displayname", where)
        mini = Attachment("mini_program", title=title, description=text(item, "description", where))
        return "", (mini,), False
    if msgtype == "card":
        corp = text(item, "corpname", where)
        return (
            "",
            (Attachment("contact_card", title=text(item, "userid", where), description=corp),),
            False,
        )
    if msgtype in _MEDIA_KINDS:
        media = Attachment(_MEDIA_KINDS[msgtype], file_name=text(item, "filename", where))
        return "", (media,), False
    if msgtype == "location":
        place = Attachment(
            "location", title=text(item, "title", where), description=text(item, "address", where)
        )
        return "", (place,), False
    if msgtype == "vote":
        return "", (Attachment("poll", title=text(item, "votetitle", where)),), False
    if msgtype == "chatrecord":
        return text(item, "title", where), (), True
    if msgtype == "mixed":
        return _mixed(item, where)
    described = next(
        (
            str(item[k])
            for k in ("title", "topic", "wish", "content")
            if isinstance(item.get(k), str)
        ),
        "",
    )
    return "", (Attachment("other", title=msgtype, description=described),), False


def _mixed(item: Json, path: str) -> tuple[str, tuple[Attachment, ...], bool]:
    """A mixed message: its parts' content comes as JSON text inside each item."""
    texts: list[str] = []
    attachments: list[Attachment] = []
    for i, part in enumerate(objs(item, "item", path)):
        where = f"{path}.item[{i}]"
        kind = text(part, "type", where)
        try:
            inner = json.loads(text(part, "content", where) or "{}")
        except json.JSONDecodeError as exc:
            raise PayloadError(f"{where}.content", f"not JSON: {exc.msg}") from exc
        if not isinstance(inner, Mapping):
            raise PayloadError(f"{where}.content", "expected a JSON object")
        body, found, _ = _content({kind: inner}, kind, where)
        if body:
            texts.append(body)
        attachments.extend(found)
    return "\n".join(texts), tuple(attachments), False


def _skip(reason: str, native_type: str) -> Translation:
    return Translation(skipped=(Skipped(reason, native_type),))
