"""Ops artifacts and docs stay true to the code."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib

import yaml
from prometheus_client import CollectorRegistry

from firekeeper.area_registry import VOCABULARY
from firekeeper.area_registry import metrics as area_metrics
from firekeeper.auth.credentials import Limits
from firekeeper.auth.metrics import AuthMetrics
from firekeeper.domain.decisions import RuleMode
from firekeeper.metrics import Metrics
from tests.compiling import compile_sources
from tests.conftest import REPO

_METRIC = re.compile(r"\bfirekeeper_[a-z_]+")


def _exported_names() -> set[str]:
    registry = CollectorRegistry()
    area_metrics(Metrics(registry))  # the service's and every area's own
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
    missing = [f.path for f in VOCABULARY.fields if f"`{f.path}`" not in text]
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


# -- the deploy files agree with each other and with the code (scripts/validate-deploy runs
# the external validators: compose-spec schema, promtool, Kubernetes API schemas)

_DEPLOY = REPO / "deploy"
_SCOPED = re.compile(r'\bfirekeeper_[a-z_]+\{job=~"\$job", instance=~"\$instance"[,}]')


def _dashboard() -> dict:  # type: ignore[type-arg]
    return json.loads((_DEPLOY / "grafana/firekeeper-dashboard.json").read_text())


def _queries(board: dict) -> list[str]:  # type: ignore[type-arg]
    return [t["expr"] for p in board["panels"] for t in p.get("targets", [])]


def test_dashboard_filters_every_query_by_job_and_instance_variables() -> None:
    board = _dashboard()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert {"datasource", "job", "instance"} <= set(variables)
    assert "firekeeper_ready" in variables["job"]["query"]["query"]
    assert "$job" in variables["instance"]["query"]["query"]
    assert variables["instance"]["includeAll"] and variables["instance"]["allValue"] == ".*"
    for expr in _queries(board):
        names = _METRIC.findall(expr)
        assert names and len(_SCOPED.findall(expr)) == len(names), expr


def test_dashboard_has_panels_for_shadow_matches_reloads_queue_held_joins_and_signals() -> None:
    queries = " ".join(_queries(_dashboard()))
    exported = _exported_names()
    wanted = {
        "shadow matches": 'firekeeper_rule_matches_total{job=~"$job", instance=~"$instance",'
        ' mode="shadow"}',
        "reloads": "firekeeper_ruleset_reloads_total",
        "review queue depth": "firekeeper_review_queue_depth",
        "held joins": "firekeeper_joins_held_total",
        "signals": "firekeeper_promo_signals_total",
    }
    for what, needle in wanted.items():
        assert needle in queries, f"no panel for {what}"
        assert _METRIC.search(needle).group(0) in exported  # type: ignore[union-attr]
    assert RuleMode.SHADOW.value == "shadow"


def _alert_names() -> list[str]:
    alerts = yaml.safe_load((_DEPLOY / "prometheus/alerts.yaml").read_text())
    return [r["alert"] for g in alerts["groups"] for r in g["rules"]]


def test_every_alert_has_a_unit_test_that_fires_it_and_one_that_keeps_it_quiet() -> None:
    suite = yaml.safe_load((_DEPLOY / "prometheus/alerts_test.yaml").read_text())
    assert suite["rule_files"] == ["alerts.yaml"]
    fires: set[str] = set()
    quiet: set[str] = set()
    for test in suite["tests"]:
        for case in test["alert_rule_test"]:
            (fires if case["exp_alerts"] else quiet).add(case["alertname"])
    names = set(_alert_names())
    assert "FirekeeperRulesetReloadRejected" in names
    assert fires == names, f"alerts never shown firing: {sorted(names - fires)}"
    assert quiet == names, f"alerts never shown quiet: {sorted(names - quiet)}"


def test_the_scrape_jobs_shipped_are_the_job_the_alerts_select() -> None:
    alerts = (_DEPLOY / "prometheus/alerts.yaml").read_text()
    selected = set(re.findall(r'job="([^"]+)"', alerts))
    assert selected == {"firekeeper"}
    config = yaml.safe_load((_DEPLOY / "prometheus/prometheus.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["job_name"] == "firekeeper"
    assert config["rule_files"] == ["alerts.yaml"]
    compose = yaml.safe_load((_DEPLOY / "compose.yaml").read_text())
    host, port = job["static_configs"][0]["targets"][0].split(":")
    assert host in compose["services"]
    assert f"FIREKEEPER_METRICS_PORT={port}" in (_DEPLOY / "Dockerfile").read_text()
    # the Prometheus Operator's job label is the Service's name
    service = _kubernetes("firekeeper.yaml", "Service")
    assert service["metadata"]["name"] == "firekeeper"
    monitor = _kubernetes("monitoring.yaml", "ServiceMonitor")
    assert "jobLabel" not in monitor["spec"]


def _kubernetes(file: str, kind: str) -> dict:  # type: ignore[type-arg]
    docs = yaml.safe_load_all((_DEPLOY / "kubernetes" / file).read_text())
    (doc,) = [d for d in docs if d["kind"] == kind]
    return doc  # type: ignore[no-any-return]


def _operator_problem(doc: dict) -> str | None:  # type: ignore[type-arg]
    """Why the Prometheus Operator would not take ``doc``, or None."""
    import pydantic
    from cloudcoil.models.prometheus_operator import v1 as operator

    try:
        model = getattr(operator, doc["kind"]).model_validate(doc)
    except pydantic.ValidationError as exc:
        return str(exc)
    # the models ignore unknown keys: a key lost on the way back is one the operator lacks
    again = model.model_dump(mode="json", by_alias=True, exclude_unset=True)
    return None if again == doc else f"keys the operator does not know: {doc} -> {again}"


def test_prometheus_operator_resources_match_the_operator_schemas() -> None:
    docs = list(yaml.safe_load_all((_DEPLOY / "kubernetes/monitoring.yaml").read_text()))
    assert [d["kind"] for d in docs] == ["ServiceMonitor", "PrometheusRule"]
    for doc in docs:
        assert _operator_problem(doc) is None


def test_the_operator_schema_check_catches_a_misspelt_key_and_a_wrong_type() -> None:
    monitor = _kubernetes("monitoring.yaml", "ServiceMonitor")
    monitor["spec"]["endpoints"][0]["intervall"] = monitor["spec"]["endpoints"][0].pop("interval")
    assert "keys the operator does not know" in (_operator_problem(monitor) or "")
    rule = _kubernetes("monitoring.yaml", "PrometheusRule")
    rule["spec"]["groups"][0]["rules"][0]["labels"] = "severity=page"
    assert "validation error" in (_operator_problem(rule) or "")


def test_the_service_monitor_scrapes_the_service_and_the_rule_holds_the_shipped_alerts() -> None:
    service = _kubernetes("firekeeper.yaml", "Service")
    monitor = _kubernetes("monitoring.yaml", "ServiceMonitor")
    labels = monitor["spec"]["selector"]["matchLabels"]
    assert labels.items() <= service["metadata"]["labels"].items()
    ports = {p["name"] for p in service["spec"]["ports"]}
    assert [e["port"] for e in monitor["spec"]["endpoints"]] == ["metrics"]
    assert "metrics" in ports
    rule = _kubernetes("monitoring.yaml", "PrometheusRule")
    alerts = yaml.safe_load((_DEPLOY / "prometheus/alerts.yaml").read_text())
    assert rule["spec"]["groups"] == alerts["groups"], "copy alerts.yaml's groups over"


def test_the_image_tag_is_the_same_in_the_dockerfile_the_manifest_and_compose() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    tag = f"firekeeper:{version}"
    dockerfile = (_DEPLOY / "Dockerfile").read_text()
    assert f"-t {tag} " in dockerfile
    container = _kubernetes("firekeeper.yaml", "Deployment")["spec"]["template"]["spec"]
    assert [c["image"] for c in container["containers"]] == [tag]
    compose = yaml.safe_load((_DEPLOY / "compose.yaml").read_text())
    assert compose["services"]["firekeeper"]["image"] == tag


def test_compose_provisions_grafana_with_the_dashboard_and_a_prometheus_datasource() -> None:
    compose = yaml.safe_load((_DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"postgres", "firekeeper", "prometheus", "grafana"} <= set(services)
    store = services["firekeeper"]["environment"]["FIREKEEPER_STORE_URL"]
    assert store.startswith("postgresql+psycopg://") and "@postgres:5432/" in store
    mounts = {m.split(":")[0]: m.split(":")[1] for m in services["grafana"]["volumes"]}
    dashboards = yaml.safe_load(
        (_DEPLOY / "grafana/provisioning/dashboards/firekeeper.yaml").read_text()
    )
    (provider,) = dashboards["providers"]
    assert mounts["./grafana/firekeeper-dashboard.json"].startswith(provider["options"]["path"])
    assert mounts["./grafana/provisioning"] == "/etc/grafana/provisioning"
    sources = yaml.safe_load(
        (_DEPLOY / "grafana/provisioning/datasources/prometheus.yaml").read_text()
    )
    (source,) = sources["datasources"]
    assert source["type"] == "prometheus" and source["url"] == "http://prometheus:9090"
    prom = {m.split(":")[0]: m.split(":")[1] for m in services["prometheus"]["volumes"]}
    assert prom["./prometheus/alerts.yaml"] == "/etc/prometheus/alerts.yaml"
    assert prom["./prometheus/prometheus.yml"] == "/etc/prometheus/prometheus.yml"
