"""`firekeeper explain` says which language the texts are in and why, and shows them."""

from __future__ import annotations

from pathlib import Path

import pytest

from firekeeper.cli import main
from tests.conftest import RULESETS


def test_explain_shows_the_chinese_reason_of_a_chinese_group(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "event.yaml").write_text(
        "kind: member.joined\nmember: {id: carol, name: Carol}\nat: 2025-01-06T12:00:00Z\n"
    )
    (tmp_path / "chat.yaml").write_text(
        "ruleset: base\nchat: {member_count: 200, owner: olga, language: zh-Hans}\n"
    )
    argv = ["explain", str(tmp_path / "event.yaml"), "--rulesets", str(RULESETS)]
    assert main([*argv, "--chat", str(tmp_path / "chat.yaml")]) == 0
    out = capsys.readouterr().out
    assert "language  zh-Hans (declared at registration)" in out
    assert "because: 群已满员：上限 200 人。" in out
    assert "已拒绝 Carol 入群" in out
    (tmp_path / "chat.yaml").write_text("ruleset: base\nchat: {member_count: 200}\n")
    assert main([*argv, "--chat", str(tmp_path / "chat.yaml")]) == 0
    out = capsys.readouterr().out
    assert "language  en (the ruleset's default" in out
    assert "because: The group is at its size limit of 200 members." in out
