"""The content of a Telegram ``Message``: who sent it, text, entities, attachments.

Shared by the update translator (``firekeeper.adapters.telegram``) for regular,
edited and pinned messages. Attachments carry no URL except for stories
(``https://t.me/<channel>/s/<id>``): Bot API files are ``file_id`` handles,
not links.
"""

from __future__ import annotations

from collections.abc import Mapping

from firekeeper.adapters.base import (
    Json,
    PayloadError,
    flag,
    ident,
    number,
    obj,
    objs,
    text,
    unique,
    utf16_slice,
)
from firekeeper.domain.events import Actor, Attachment, Mention, MessagePosted, Role

# Message fields that are content, in the order they are reported, and their kind.
_CONTENT_KINDS: tuple[tuple[str, str], ...] = (
    ("photo", "image"),
    ("animation", "video"),
    ("video", "video"),
    ("video_note", "video"),
    ("voice", "voice"),
    ("audio", "audio"),
    ("document", "file"),
    ("sticker", "sticker"),
    ("story", "story"),
    ("poll", "poll"),
    ("venue", "location"),
    ("location", "location"),
    ("contact", "contact_card"),
    ("dice", "other"),
    ("game", "other"),
    ("giveaway", "other"),
    ("paid_media", "other"),
)
# Fields the Bot API also sets "for backward compatibility" beside another one.
_SHADOWED = {"document": "animation", "location": "venue"}


def actor_from_user(user: Json, path: str, role: Role = Role.MEMBER) -> Actor:
    """A Telegram ``User`` as an actor. Telegram never tells an account's creation time."""
    name = " ".join(p for p in (text(user, "first_name", path), text(user, "last_name", path)) if p)
    return Actor(
        id=ident(user, "id", path),
        display_name=name,
        is_bot=flag(user, "is_bot"),
        role=role,
        account_created_at=None,
        language_code=text(user, "language_code", path),
        is_premium=flag(user, "is_premium"),
    )


def message_posted(msg: Json, path: str, *, is_edit: bool = False) -> MessagePosted:
    """The content of a ``Message``: text or caption, entities, attachments, reply, forward."""
    body = text(msg, "text", path) or text(msg, "caption", path)
    entities = objs(msg, "entities", path) or objs(msg, "caption_entities", path)
    links, mentions = _entities(body, entities, f"{path}.entities")
    reply_id, reply_user = _reply(msg, path)
    is_forward, forwarded_from = _forward(msg, path)
    return MessagePosted(
        message_id=ident(msg, "message_id", path),
        text=body,
        links=links,
        mentions=mentions,
        attachments=_attachments(msg, path),
        reply_to_message_id=reply_id,
        reply_to_user_id=reply_user,
        is_forward=is_forward,
        forwarded_from=forwarded_from,
        is_edit=is_edit,
    )


NON_CONTENT_FIELDS = frozenset(
    {
        "message_id", "message_thread_id", "from", "sender_chat", "sender_boost_count",
        "sender_business_bot", "date", "business_connection_id", "chat", "is_topic_message",
        "is_automatic_forward", "reply_to_message", "external_reply", "quote", "reply_to_story",
        "via_bot", "edit_date", "has_protected_content", "is_from_offline", "media_group_id",
        "author_signature", "forward_origin", "forward_from", "forward_from_chat",
        "forward_from_message_id", "forward_signature", "forward_sender_name", "forward_date",
        "link_preview_options", "reply_markup", "effect_id", "show_caption_above_media",
        "has_media_spoiler", "entities", "caption_entities",
    }
)  # fmt: skip


def is_content(msg: Json, path: str) -> bool:
    if text(msg, "text", path) or text(msg, "caption", path):
        return True
    return any(field in msg for field, _ in _CONTENT_KINDS)


def message_sender(msg: Json, path: str, chat_id: str) -> Actor:
    sender_chat = obj(msg, "sender_chat", path)
    if sender_chat:  # sent on behalf of a channel, or by an anonymous admin of this group
        sid = ident(sender_chat, "id", f"{path}.sender_chat")
        return Actor(
            id=sid,
            display_name=text(sender_chat, "title", f"{path}.sender_chat"),
            role=Role.ADMIN if sid == chat_id else Role.MEMBER,
        )
    user = obj(msg, "from", path)
    if not user:
        raise PayloadError(f"{path}.from", "a group message without a sender")
    return actor_from_user(user, f"{path}.from")


def _entities(
    body: str, entities: list[Json], path: str
) -> tuple[tuple[str, ...], tuple[Mention, ...]]:
    links: list[str] = []
    mentions: list[Mention] = []
    for i, entity in enumerate(entities):
        where = f"{path}[{i}]"
        kind = text(entity, "type", where)
        offset = number(entity, "offset", where) or 0
        length = number(entity, "length", where) or 0
        if kind == "url":
            links.append(utf16_slice(body, offset, length))
        elif kind == "text_link":
            links.append(text(entity, "url", where))
        elif kind == "mention":  # "@username": Telegram gives no user id for these
            mentions.append(Mention(user_id=utf16_slice(body, offset, length)))
        elif kind == "text_mention":
            mentions.append(Mention(user_id=ident(obj(entity, "user", where), "id", where)))
    return unique(link for link in links if link), unique(mentions)


def _attachments(msg: Json, path: str) -> tuple[Attachment, ...]:
    out: list[Attachment] = []
    for field, kind in _CONTENT_KINDS:
        if field not in msg or _SHADOWED.get(field, "") in msg:
            continue
        value = msg[field]
        item: Json = value if isinstance(value, Mapping) else {}
        where = f"{path}.{field}"
        if field == "story":
            story_chat = obj(item, "chat", where)
            username = text(story_chat, "username", f"{where}.chat")
            story_id = number(item, "id", where)
            url = f"https://t.me/{username}/s/{story_id}" if username and story_id else ""
            out.append(Attachment(kind, url=url, title=text(story_chat, "title", f"{where}.chat")))
        elif field == "poll":
            out.append(Attachment(kind, title=text(item, "question", where)))
        elif field in ("venue", "game"):
            out.append(Attachment(kind, title=text(item, "title", where)))
        elif field == "contact":
            names = (text(item, "first_name", where), text(item, "last_name", where))
            out.append(Attachment(kind, title=" ".join(n for n in names if n)))
        else:
            out.append(
                Attachment(
                    kind,
                    title=text(item, "title", where),
                    file_name=text(item, "file_name", where),
                )
            )
    return tuple(out)


def _reply(msg: Json, path: str) -> tuple[str, str]:
    reply = obj(msg, "reply_to_message", path)
    # In forum topics every message "replies" to the topic's creation message.
    if not reply or "forum_topic_created" in reply:
        return "", ""
    where = f"{path}.reply_to_message"
    author = obj(reply, "sender_chat", where) or obj(reply, "from", where)
    return ident(reply, "message_id", where), (ident(author, "id", where) if author else "")


def _forward(msg: Json, path: str) -> tuple[bool, str]:
    origin = obj(msg, "forward_origin", path)
    if origin:
        where = f"{path}.forward_origin"
        kind = text(origin, "type", where)
        if kind == "user":
            return True, ident(obj(origin, "sender_user", where), "id", where)
        if kind == "hidden_user":
            return True, text(origin, "sender_user_name", where)
        if kind == "chat":
            return True, ident(obj(origin, "sender_chat", where), "id", where)
        if kind == "channel":
            return True, ident(obj(origin, "chat", where), "id", where)
        return True, ""
    # Fields of Bot API versions before 7.0, still found in stored updates.
    for field in ("forward_from", "forward_from_chat"):
        source = obj(msg, field, path)
        if source:
            return True, ident(source, "id", f"{path}.{field}")
    if "forward_sender_name" in msg or "forward_date" in msg:
        return True, text(msg, "forward_sender_name", path)
    return False, ""


def placement(msg: Json, path: str) -> tuple[str, str]:
    """(channel_id, thread_id): a forum topic is a channel; other threads are reply threads."""
    thread = number(msg, "message_thread_id", path)
    if thread is None:
        return "", ""
    return (str(thread), "") if flag(msg, "is_topic_message") else ("", str(thread))
