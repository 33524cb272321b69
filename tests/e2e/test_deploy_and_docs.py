"""Ops artifacts and docs stay true to the code."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import yaml
from prometheus_client import CollectorRegistry

from firekeeper.auth.credentials import Limits
from firekeeper.auth.metrics import AuthMetrics
from firekeeper.metrics import Metrics
from firekeeper.rules.compiler import compile_sources
from firekeeper.rules.vocabulary import FIELDS
from tests.conftest import REPO

_METRIC = re.compile(r"\bfirekeeper_[a-z_]+")


def _exported_names() -> set[str]:
    registry = CollectorRegistry()
    Metrics(registry)
    AuthMetrics(registry, Limits(1, 1, 1))  # exported when a credentials file is configured
    names = set()
    for family in registry.collect():
        names.add(family.name)
        names.update(s.name for s in family.samples)
        if family.type == "histogram":
            names.update(f"{family.name}_{suffix}" for suffix in ("bucket", "count", "sum"))
        if family.type == "counter":
            names.add(f"{family.name}_total")
    return names


def test_alerts_and_dashboard_use_only_metrics_the_service_exports() -> None:
    exported = _exported_names()
    alerts = (REPO / "deploy/prometheus/alerts.yaml").read_text()
    dashboard = (REPO / "deploy/grafana/firekeeper-dashboard.json").read_text()
    yaml.safe_load(alerts)
    json.loads(dashboard)
    used = set(_METRIC.findall(alerts)) | set(_METRIC.findall(dashboard))
    assert used, "no firekeeper metric referenced at all"
    assert used <= exported, f"unknown metrics: {sorted(used - exported)}"


def test_kubernetes_manifests_parse_and_probe_the_grpc_service() -> None:
    docs = list(yaml.safe_load_all((REPO / "deploy/kubernetes/firekeeper.yaml").read_text()))
    kinds = [d["kind"] for d in docs]
    assert kinds == ["Deployment", "Service", "PodDisruptionBudget"]
    container = docs[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["grpc"]["service"] == "firekeeper.v1.Governance"
    # bound to 0.0.0.0, it must configure TLS and credentials or it would refuse to start
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert {"FIREKEEPER_CREDENTIALS", "FIREKEEPER_TLS_CERT", "FIREKEEPER_TLS_KEY"} <= set(env)
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    for name in ("FIREKEEPER_CREDENTIALS", "FIREKEEPER_TLS_CERT", "FIREKEEPER_TLS_KEY"):
        assert any(env[name].startswith(f"{m}/") for m in mounts), name
    # the kubelet's gRPC probe cannot do TLS: probes use the plaintext health-only port
    health_port = int(env["FIREKEEPER_HEALTH_ADDRESS"].rsplit(":", 1)[1])
    assert container["readinessProbe"]["grpc"]["port"] == health_port
    assert container["livenessProbe"]["grpc"]["port"] == health_port


def test_rulesets_readme_lists_every_field_of_the_vocabulary() -> None:
    text = (REPO / "rulesets/README.md").read_text()
    missing = [f.path for f in FIELDS if f"`{f.path}`" not in text]
    assert not missing, f"regenerate with `firekeeper vocabulary`: missing {missing}"


def test_the_first_complete_example_in_rulesets_readme_compiles() -> None:
    text = (REPO / "rulesets/README.md").read_text()
    example = re.search(r"## A complete example\s+```yaml\n(.*?)```", text, re.S)
    assert example is not None
    sources = {
        str(p): p.read_text()
        for p in (REPO / "rulesets").glob("*.yaml")
        if not p.name.endswith("_test.yaml")
    }
    sources["README-example.yaml"] = example.group(1)
    index = compile_sources(sources)
    club = index.get("reading-club")
    assert club.resolve_params({})["hard_cap"] == 120


def test_check_command_reports_every_mistake_with_its_location(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "bad.yaml").write_text(
        "ruleset: bad\n"
        "rules:\n"
        "  - id: a\n"
        "    on: member.joined\n"
        "    when: chat.membr_count > 3\n"
        "    reason: r\n"
        "    actions: [{type: deny_join}]\n"
        "  - id: b\n"
        "    on: message.posted\n"
        '    when: message.text matches "(unclosed"\n'
        "    reason: r\n"
        "    actions: [{type: warn_user}]\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "firekeeper.cli", "check", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert run.stderr.count("error:") == 3, run.stderr
    assert f"{tmp_path / 'bad.yaml'}:5:" in run.stderr and "chat.member_count" in run.stderr
    assert f"{tmp_path / 'bad.yaml'}:10:" in run.stderr
    assert f"{tmp_path / 'bad.yaml'}:12:" in run.stderr
