"""Settings from an environment mapping."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest
from pydantic import ValidationError

from firekeeper.cli import main, parser
from firekeeper.config import (
    ConfigError,
    Settings,
    env_name,
    flag_name,
    load,
    markdown_table,
    mask,
    split_address,
)
from tests.conftest import REPO


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert s.store_url == "sqlite:///./firekeeper-data/firekeeper.db"
    assert (s.grpc_host, s.grpc_port) == ("127.0.0.1", 50051)
    assert s.metrics_port == 9464
    assert s.max_message_bytes == 4 * 1024 * 1024
    assert s.grace_seconds == 10


def test_every_variable_is_read() -> None:
    s = Settings.from_env(
        {
            "FIREKEEPER_STORE_URL": "postgresql+psycopg://fk@db/fk",
            "FIREKEEPER_GRPC_ADDRESS": "[::]:0",
            "FIREKEEPER_METRICS_PORT": "0",
            "FIREKEEPER_METRICS_HOST": "0.0.0.0",
            "FIREKEEPER_RULESETS_DIR": "/etc/firekeeper/rulesets",
            "FIREKEEPER_LOG_FORMAT": "JSON",
            "FIREKEEPER_LOG_LEVEL": "debug",
            "FIREKEEPER_MAX_MESSAGE_BYTES": "1048576",
            "FIREKEEPER_GRACE_SECONDS": "2.5",
            "FIREKEEPER_WORKERS": "16",
            "UNRELATED": "x",
        }
    )
    assert s == Settings(
        store_url="postgresql+psycopg://fk@db/fk",
        grpc_address="[::]:0",
        metrics_port=0,
        metrics_host="0.0.0.0",
        rulesets_dir="/etc/firekeeper/rulesets",
        log_format="json",
        log_level="debug",
        max_message_bytes=1048576,
        grace_seconds=2.5,
        workers=16,
    )
    assert (s.grpc_host, s.grpc_port) == ("[::]", 0)


@pytest.mark.parametrize("value", ["off", "-1", "OFF"])
def test_metrics_can_be_disabled(value: str) -> None:
    assert Settings.from_env({"FIREKEEPER_METRICS_PORT": value}).metrics_port is None


def test_empty_values_keep_defaults() -> None:
    assert Settings.from_env({"FIREKEEPER_WORKERS": " ", "FIREKEEPER_LOG_FORMAT": ""}) == Settings()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FIREKEEPER_GRPC_ADDRESS", "localhost"),
        ("FIREKEEPER_GRPC_ADDRESS", "localhost:99999"),
        ("FIREKEEPER_METRICS_PORT", "http"),
        ("FIREKEEPER_METRICS_PORT", "70000"),
        ("FIREKEEPER_LOG_FORMAT", "xml"),
        ("FIREKEEPER_LOG_LEVEL", "loud"),
        ("FIREKEEPER_MAX_MESSAGE_BYTES", "4MiB"),
        ("FIREKEEPER_MAX_MESSAGE_BYTES", "10"),
        ("FIREKEEPER_GRACE_SECONDS", "-1"),
        ("FIREKEEPER_GRACE_SECONDS", "nan"),
        ("FIREKEEPER_WORKERS", "0"),
        ("FIREKEEPER_WORKERS", "two"),
        ("FIREKEEPER_DECISION_RETENTION_DAYS", "-1"),
        ("FIREKEEPER_DECISION_RETENTION_DAYS", "30d"),
        ("FIREKEEPER_DECISION_RETENTION_DAYS", "100000"),
    ],
)
def test_bad_values_name_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({name: value})
    assert str(info.value).startswith(f"{name}=")


def test_decision_retention_defaults_to_30_days_and_0_keeps_forever() -> None:
    assert Settings().decision_retention_days == 30
    env = {"FIREKEEPER_DECISION_RETENTION_DAYS": "0"}
    assert Settings.from_env(env).decision_retention_days == 0
    env = {"FIREKEEPER_DECISION_RETENTION_DAYS": "400"}
    assert Settings.from_env(env).decision_retention_days == 400


def test_overrides_are_validated_too() -> None:
    s = Settings().replace(grpc_address="127.0.0.1:0", workers=3)
    assert (s.grpc_port, s.workers) == (0, 3)
    with pytest.raises(ConfigError, match="FIREKEEPER_WORKERS"):
        s.replace(workers=-5)
    with pytest.raises(ConfigError, match="FIREKEEPER_WORKERS"):
        Settings(workers=-5)
    with pytest.raises(ValidationError):  # frozen: a value read once stays as read
        s.workers = 4  # type: ignore[misc]


def test_split_address() -> None:
    assert split_address("[::1]:8080") == ("[::1]", 8080)
    with pytest.raises(ValueError):
        split_address(":80")


# ------------------------------------------------------------------ every setting: env,
# flag, documented; layering and --print-config


def _serve_flags() -> dict[str, argparse.Action]:
    serve = next(
        a
        for a in parser()._subparsers._group_actions  # type: ignore[union-attr]
        if isinstance(a, argparse._SubParsersAction)
    ).choices["serve"]
    return {opt: action for action in serve._actions for opt in action.option_strings}


def test_every_setting_has_a_flag_an_env_var_and_a_row_in_the_operations_doc() -> None:
    flags = _serve_flags()
    doc = (REPO / "docs" / "operations.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(" `"): line for line in doc.splitlines() if line.startswith("| `")
    }
    assert len(Settings.model_fields) >= 32
    envs = set()
    for name, field in Settings.model_fields.items():
        env, flag = env_name(name), flag_name(name)
        assert env.startswith("FIREKEEPER_") and env not in envs, name
        envs.add(env)
        assert flag in flags and flags[flag].dest == f"setting_{name}", name
        assert field.description, name  # the flag's help and the doc's meaning
        assert field.description in (flags[flag].help or ""), name
        assert name in rows, f"docs/operations.md has no row for {name}"
        assert f"`{env}`" in rows[name] and f"`{flag}`" in rows[name], rows[name]
    # and the doc's table is the model's, whole (regenerate: python -m firekeeper.config)
    assert markdown_table() in doc, "docs/operations.md's settings table is stale:\n" + (
        markdown_table()
    )


def test_each_setting_is_read_from_its_variable_and_its_flag() -> None:
    """Every field, through both doors, with a value other than its default."""
    samples = {
        str: "x",
        int: "7",
        float: "7.5",
        bool: "off",
    }
    special = {
        "grpc_address": "127.0.0.1:7",
        "health_address": "127.0.0.1:8",
        "metrics_port": "7",
        "log_format": "json",
        "log_level": "warning",
        "library_log_level": "error",
        "store_url": "sqlite:///elsewhere.db",
        "max_message_bytes": "4096",
        "workers": "7",
        "reload_memory_mb": "64",
        "tls_cert": "",
        "tls_key": "",
        "tls_client_ca": "",
        "rate_burst": "7",
        "insecure": "on",
    }
    for name, field in Settings.model_fields.items():
        raw = special.get(name, samples.get(field.annotation, "7"))  # type: ignore[call-overload]
        if not raw:
            continue  # the TLS trio needs one another: below
        by_env = load({env_name(name): raw})
        by_flag = load({}, {name: raw})
        assert by_env.settings == by_flag.settings, name
        assert getattr(by_env.settings, name) != field.default, name
        assert (by_env.sources[name], by_flag.sources[name]) == ("env", "flag"), name
    tls = {
        "FIREKEEPER_TLS_CERT": "c.pem",
        "FIREKEEPER_TLS_KEY": "k.pem",
        "FIREKEEPER_TLS_CLIENT_CA": "ca.pem",
    }
    assert load(tls).settings.tls_client_ca == "ca.pem"


def test_flags_override_variables_which_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "firekeeper.yaml"
    path.write_text("workers: 3\ngrace_seconds: 2\nscheduler: false\nlog_level: warning\n")
    env = {"FIREKEEPER_CONFIG": str(path), "FIREKEEPER_GRACE_SECONDS": "4"}
    loaded = load(env, {"log_level": "debug", "workers": None})
    s = loaded.settings
    assert (s.workers, s.grace_seconds, s.scheduler, s.log_level) == (3, 4.0, False, "debug")
    assert loaded.sources["workers"] == "file" and loaded.sources["grace_seconds"] == "env"
    assert loaded.sources["log_level"] == "flag" and loaded.sources["tick_seconds"] == "default"
    assert loaded.config_file == str(path)
    # the file by flag wins over FIREKEEPER_CONFIG
    other = tmp_path / "other.yaml"
    other.write_text("workers: 5\n")
    assert load(env, config_file=str(other)).settings.workers == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("workerz: 3\n", "unknown settings workerz"),
        ("- workers\n", "not a YAML mapping"),
        ("workers: [1\n", "not a YAML mapping"),
        ("workers: 0\n", ": workers=0: must be from 1 to 256"),
    ],
)
def test_a_bad_file_is_refused_naming_it(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load({}, config_file=str(path))
    assert message in str(info.value) and str(path) in str(info.value)
    if "workers=0" not in message:  # a problem of the file itself names how it was given
        assert str(info.value).startswith(f"--config='{path}'")
    with pytest.raises(ConfigError, match="no such file"):
        load({"FIREKEEPER_CONFIG": str(tmp_path / "absent.yaml")})


def test_a_bad_flag_is_named_as_the_flag() -> None:
    with pytest.raises(ConfigError) as info:
        load({"FIREKEEPER_WORKERS": "3"}, {"workers": "0"})
    assert str(info.value).startswith("--workers='0': must be")


def test_print_config_shows_every_setting_its_value_and_source_with_secrets_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "firekeeper.yaml"
    path.write_text("tick_seconds: 600\n")
    for name in [n for n in os.environ if n.startswith("FIREKEEPER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("FIREKEEPER_STORE_URL", "postgresql+psycopg://fk:hunter2@db:5432/fk")
    monkeypatch.setenv("FIREKEEPER_WORKERS", "3")
    code = main(
        [
            "serve",
            "--print-config",
            "--config",
            str(path),
            "--no-scheduler",
            "--address",
            "127.0.0.1:6000",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "hunter2" not in out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines()[2:]}
    assert set(rows) == set(Settings.model_fields)
    assert rows["store_url"] == [
        "postgresql+psycopg://fk:***@db:5432/fk",
        "env",
        "FIREKEEPER_STORE_URL",
    ]
    assert rows["workers"] == ["3", "env", "FIREKEEPER_WORKERS"]
    assert rows["scheduler"] == ["off", "flag", "--no-scheduler"]
    assert rows["grpc_address"] == ["127.0.0.1:6000", "flag", "--address"]
    assert rows["tick_seconds"] == ["600", "file", str(path)]
    assert rows["metrics_port"] == ["9464", "default"]
    assert out.splitlines()[0] == f"config file: {path} (flag --config)"

    monkeypatch.setenv("FIREKEEPER_WORKERS", "0")
    assert main(["serve", "--print-config"]) == 2
    assert "FIREKEEPER_WORKERS='0'" in capsys.readouterr().err


def test_a_secret_in_a_bad_value_is_masked_too() -> None:
    with pytest.raises(ConfigError) as info:
        Settings(store_url="postgresql://fk:hunter2@db/fk", workers=0)
    assert "hunter2" not in str(info.value)
    assert mask("store_url", "postgresql://fk:hunter2@db/fk") == "postgresql://fk:***@db/fk"
    assert mask("store_url", "sqlite:///./x.db") == "sqlite:///./x.db"


def test_evaluation_threads_follow_the_store_unless_set() -> None:
    assert Settings().evaluation_thread_count == 1  # SQLite: one writer
    assert Settings(store_url="postgresql+psycopg://db/fk").evaluation_thread_count == 4
    assert (
        Settings(store_url="postgresql://db/fk", evaluation_threads=2).evaluation_thread_count == 2
    )
