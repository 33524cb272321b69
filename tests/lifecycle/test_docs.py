"""The topic, lifecycle and announcement examples in rulesets/README.md compile."""

from __future__ import annotations

import re

import pytest

from tests.compiling import compile_sources
from tests.conftest import REPO


@pytest.mark.parametrize(
    ("title", "name"),
    [
        ("Topic boundaries", "reading-club-topics"),
        ("Lifecycle", "running-club-life"),
        ("Announcements", "parents-notices"),
    ],
)
def test_the_readme_example_compiles(title: str, name: str) -> None:
    text = (REPO / "rulesets/README.md").read_text()
    example = re.search(rf"## {title}: a complete example.*?```yaml\n(.*?)```", text, re.S)
    assert example is not None
    sources = {
        str(p): p.read_text()
        for p in (REPO / "rulesets").glob("*.yaml")
        if not p.name.endswith("_test.yaml")
    }
    sources[f"README-{name}.yaml"] = example.group(1)
    ruleset = compile_sources(sources).get(name)
    assert ruleset.rules


def test_the_lifecycle_doc_names_every_lifecycle_metric() -> None:
    text = (REPO / "docs/lifecycle.md").read_text()
    for metric in (
        "firekeeper_chats_by_status",
        "firekeeper_outbox_pending",
        "firekeeper_ticks_total",
        "firekeeper_scheduler_leader",
        "firekeeper_outbox_acked_total",
    ):
        assert metric in text
