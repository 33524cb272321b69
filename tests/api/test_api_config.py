"""Settings from an environment mapping."""

from __future__ import annotations

import dataclasses

import pytest

from firekeeper.config import ConfigError, Settings, split_address


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
    s = dataclasses.replace(Settings(), grpc_address="127.0.0.1:0", workers=3)
    assert (s.grpc_port, s.workers) == (0, 3)
    with pytest.raises(ConfigError, match="FIREKEEPER_WORKERS"):
        dataclasses.replace(s, workers=-5)


def test_split_address() -> None:
    assert split_address("[::1]:8080") == ("[::1]", 8080)
    with pytest.raises(ValueError):
        split_address(":80")
