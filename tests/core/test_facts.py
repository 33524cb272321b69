from datetime import timedelta

from firekeeper.area_registry import VOCABULARY
from firekeeper.domain.chats import MemberRecord
from firekeeper.domain.events import Actor, Attachment, ChatUpdated, Mention, MessagePosted, Role
from firekeeper.rules.facts import build_fact, lookup, size_tier
from tests.core.builders import T0, chat, ctx, event, join


def _paths(d: dict[str, object], prefix: str = "") -> set[str]:
    out = set()
    for k, v in d.items():
        p = f"{prefix}{k}"
        if isinstance(v, dict) and k != "params":
            out |= _paths(v, p + ".")
        elif k != "params":
            out.add(p)
    return out


def test_size_tiers_follow_the_article() -> None:
    assert [size_tier(n) for n in (0, 49, 50, 200, 201)] == [
        "small",
        "small",
        "middle",
        "middle",
        "large",
    ]


def test_message_fact_has_only_vocabulary_paths_and_the_right_values() -> None:
    ev = event(
        MessagePosted(
            message_id="m1",
            text="See https://Example.com/x and www.t.me/joinchat\nsecond line",
            mentions=(Mention(user_id="u2"), Mention(everyone=True)),
            attachments=(Attachment(kind="image"), Attachment(kind="mini_program")),
            reply_to_message_id="m0",
        )
    )
    fact = build_fact(ev, ctx(), {"hard_cap": 200})
    paths = {f.path for f in VOCABULARY.fields}
    assert _paths(fact) <= paths, _paths(fact) - paths
    assert fact["message"]["domains"] == ["example.com", "t.me"]
    assert fact["message"]["link_count"] == 2
    assert fact["message"]["line_count"] == 2
    assert fact["message"]["mention_count"] == 1
    assert fact["message"]["mentions_everyone"] is True
    assert fact["message"]["attachment_kinds"] == ["image", "mini_program"]
    assert fact["message"]["is_reply"] is True
    assert fact["chat"]["age"] == 30 * 86400
    assert fact["params"] == {"hard_cap": 200}


def test_unknown_values_are_absent_not_guessed() -> None:
    fact = build_fact(join("u9"), ctx(chat().__class__(key=chat().key)), {})
    assert lookup(fact, "chat.age") == (False, None)
    assert lookup(fact, "member.account_age") == (False, None)
    assert lookup(fact, "member.tenure") == (False, None)
    assert fact["inviter"] == {"known": False}


def test_join_counts_and_rejoin() -> None:
    back = MemberRecord(user_id="u9", is_member=False, first_joined_at=T0 - timedelta(days=3))
    fact = build_fact(join("u9"), ctx(chat(member_count=49), back), {})
    assert fact["join"]["resulting_count"] == 50
    assert fact["join"]["is_rejoin"] is True
    already = MemberRecord(user_id="u9", is_member=True, joined_at=T0 - timedelta(days=1))
    fact = build_fact(join("u9"), ctx(chat(member_count=49), already), {})
    assert fact["join"]["resulting_count"] == 49
    assert fact["member"]["tenure"] == 86400


def test_owner_recorded_on_the_chat_wins_over_the_event_role() -> None:
    owner = Actor(id="boss", role=Role.MEMBER)
    fact = build_fact(
        event(MessagePosted(message_id="m"), actor=owner), ctx(chat(owner_id="boss")), {}
    )
    assert fact["actor"]["is_owner"] is True and fact["actor"]["is_admin"] is True


def test_chat_update_reports_drift_both_ways() -> None:
    fact = build_fact(event(ChatUpdated(platform_member_count=95)), ctx(chat(member_count=100)), {})
    assert fact["chat"]["member_count_drift"] == -5
    assert fact["chat"]["member_count_off_by"] == 5
