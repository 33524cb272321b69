"""A Chinese WeCom group, end to end over real gRPC: its texts come in Chinese.

Real payloads and messages (../shared/fixtures, SOURCES.md):
- payloads/wecom/docs_format_change_external_chat_update_add_member_thirdparty.xml:
  the WeCom docs' 客户群变更事件 callback (add_member: Jack and Rose), through the
  shipped WeCom translator (firekeeper.adapters.wecom);
- datasets/siuank_qq_group/mc_qq_group.txt (siuank/ADDetector4J, MIT): real
  messages of a Chinese QQ group, posted into a chat registered without a language.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from firekeeper.adapters import CallContext, WeComContext, calls_for, translate_wecom_callback
from firekeeper.api.convert import decision_from_proto, event_to_proto
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2 as pb
from firekeeper.api.gen.firekeeper.v1 import firekeeper_pb2_grpc as pb_grpc
from firekeeper.config import Settings
from firekeeper.domain.events import Actor, Envelope, Event, MessagePosted, Platform
from tests.adapters.conftest import SHARED_FIXTURES
from tests.conftest import RULESETS
from tests.e2e.test_service import Running
from tests.i18n.test_language import qq_messages

HAN = re.compile(r"[\u4e00-\u9fff]")
ADD_MEMBER = "docs_format_change_external_chat_update_add_member_thirdparty.xml"


def _callback() -> str:
    path = SHARED_FIXTURES / "payloads" / "wecom" / ADD_MEMBER
    if not path.exists():
        pytest.skip(f"shared fixture {path} not found: clone shared/ beside the repository")
    return path.read_text(encoding="utf-8")


def _register(chat_id: str, language: str) -> pb.RegisterChatRequest:
    return pb.RegisterChatRequest(
        platform=pb.PLATFORM_WECOM,
        tenant="acme",
        chat_id=chat_id,
        ruleset="base",
        title="周末骑行群",
        member_count=199,  # the base caps a group at 200: Jack is the 200th, Rose one too many
        language=language,
    )


def _joins(chat_id: str) -> list[pb.Event]:
    xml = _callback().replace("CHAT_ID", chat_id)
    events = translate_wecom_callback(xml, WeComContext(tenant="acme")).events
    assert [e.payload.member.id for e in events] == ["Jack", "Rose"]  # type: ignore[union-attr]
    return [event_to_proto(e) for e in events]


def _chinese(text: str) -> bool:
    plain = re.sub(r"\{mention\}", "", text)
    return len(HAN.findall(plain)) > len(re.findall(r"[A-Za-z]", plain))


def _assert_chinese_denial(decision: pb.Decision) -> None:
    assert [a.type for a in decision.actions] == [
        pb.ACTION_TYPE_DENY_JOIN,
        pb.ACTION_TYPE_NOTIFY_ADMINS,
    ]
    notice = decision.actions[1].text
    assert notice.startswith("已拒绝 Rose 入群") and "上限是 200 人" in notice, notice
    assert all(_chinese(m.reason) for m in decision.trace), [m.reason for m in decision.trace]
    assert all(_chinese(a.text) for a in decision.actions if a.text)
    assert "hard_cap" not in notice and "params." not in notice
    _assert_chinese_calls(decision)


def _assert_chinese_calls(decision: pb.Decision) -> None:
    """What the WeCom adapter sends for the decision: the request to remove Rose (WeCom has
    no API for it) and the notice, both Chinese, neither naming a rule."""
    context = CallContext(
        chat_id="wr", now=datetime.now(UTC), admin_user_ids=("zhangsan",), agent_id=1000002
    )
    calls = calls_for(Platform.WECOM, decision_from_proto(decision), context)
    texts = [c.params["text"]["content"] for c in calls]  # type: ignore[index]
    assert len(texts) == 2, texts
    # WeCom callbacks give ids, not names: the member is named by id, in Chinese
    assert texts[0].startswith("【群管提醒】群 wr") and "用户 Rose 刚进群" in texts[0], texts[0]
    for text in texts:
        assert _chinese(text) and "size." not in text and "rule" not in text, text


def _settings(store_url: str) -> Settings:
    return Settings(
        store_url=store_url,
        grpc_address="127.0.0.1:0",
        metrics_port=None,
        rulesets_dir=str(RULESETS),
        grace_seconds=2,
    )


async def test_a_wecom_group_registered_as_chinese_reads_chinese(store_url: str) -> None:
    async with (
        Running(_settings(store_url)) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        stub = pb_grpc.GovernanceStub(channel)
        registration = _register("wrDeclared", "zh-hans")
        registration.params["promo_min_tenure"] = "21d"
        state = await stub.RegisterChat(registration, timeout=5)
        assert state.language == "zh-Hans"  # kept in its canonical case
        # parameters as their authors wrote them, not as seconds
        assert state.effective_params["promo_min_age"] == "14d"  # base.yaml's default
        assert state.effective_params["promo_min_tenure"] == "21d"  # the override
        assert state.effective_params["hard_cap"] == "200"
        jack, rose = _joins("wrDeclared")
        admitted = await stub.Evaluate(pb.EvaluateRequest(event=jack), timeout=5)
        assert list(admitted.decision.actions) == []
        denied = await stub.Evaluate(pb.EvaluateRequest(event=rose, explain=True), timeout=5)
        decision = denied.decision
        _assert_chinese_denial(decision)
        assert (decision.language, decision.language_source) == ("zh-Hans", "declared")
        again = await stub.Evaluate(pb.EvaluateRequest(event=rose), timeout=5)
        assert again.decision.replayed and again.decision.language == "zh-Hans"
        assert [a.text for a in again.decision.actions] == [a.text for a in decision.actions]


async def test_a_group_without_a_language_reads_the_one_its_members_write(
    store_url: str,
) -> None:
    messages = [m for m in qq_messages() if len(HAN.findall(m)) >= 4][:12]
    async with (
        Running(_settings(store_url)) as address,
        grpc.aio.insecure_channel(address) as channel,
    ):
        stub = pb_grpc.GovernanceStub(channel)
        await stub.RegisterChat(_register("wrDetected", ""), timeout=5)
        jack, rose = _joins("wrDetected")
        first = (await stub.Evaluate(pb.EvaluateRequest(event=jack), timeout=5)).decision
        assert first.language_source == "default" and first.language == "en"
        for i, text in enumerate(messages):
            event = Event(
                Envelope(
                    event_id=f"qq:{i}",
                    platform=Platform.WECOM,
                    tenant="acme",
                    chat_id="wrDetected",
                    occurred_at=rose.envelope.occurred_at.ToDatetime(tzinfo=UTC),
                    actor=Actor(id=f"member{i % 4}", display_name=f"群友{i % 4}"),
                ),
                MessagePosted(message_id=f"m{i}", text=text),
            )
            await stub.Evaluate(pb.EvaluateRequest(event=event_to_proto(event)), timeout=5)
        key = pb.ChatKey(platform=pb.PLATFORM_WECOM, tenant="acme", chat_id="wrDetected")
        state = await stub.GetChat(pb.GetChatRequest(key=key), timeout=5)
        assert (state.language, state.detected_language) == ("", "zh-Hans")
        decision = (await stub.Evaluate(pb.EvaluateRequest(event=rose), timeout=5)).decision
        _assert_chinese_denial(decision)
        assert (decision.language, decision.language_source) == ("zh-Hans", "detected")


async def test_a_registration_with_a_broken_language_tag_is_refused(tmp_path: Path) -> None:
    settings = _settings(f"sqlite:///{tmp_path / 'fk.db'}")
    async with Running(settings) as address, grpc.aio.insecure_channel(address) as channel:
        stub = pb_grpc.GovernanceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RegisterChat(_register("wrBad", "简体中文"), timeout=5)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "language" in (err.value.details() or "")
        key = pb.ChatKey(platform=pb.PLATFORM_WECOM, tenant="acme", chat_id="wrBad")
        with pytest.raises(grpc.aio.AioRpcError) as missing:
            await stub.GetChat(pb.GetChatRequest(key=key), timeout=5)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND  # nothing was written
