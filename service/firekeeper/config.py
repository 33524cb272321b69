"""Settings: one typed, validated value, read once at start-up and passed down.

``Settings`` is a pydantic-settings model. Every field is a setting; each has an
environment variable (``FIREKEEPER_`` and the name in capitals, unless the field says
otherwise), a flag of ``firekeeper serve`` (``--`` and the name with dashes, unless the
field says otherwise) and a one-line description: ``docs/operations.md`` has the table,
and ``tests/api/test_api_config.py`` checks it against this model.

No module reads ``os.environ`` on its own: ``firekeeper serve`` calls ``load(os.environ,
flags, config_file)``, which layers, lowest first,

    default   the field's default
    file      a YAML mapping of setting names to values (``--config`` / FIREKEEPER_CONFIG)
    env       FIREKEEPER_* variables (empty ones are ignored)
    flag      the flags of ``firekeeper serve``

and remembers where each value came from (``firekeeper serve --print-config``).
``Settings(...)`` itself reads nothing but its arguments (tests build it directly), and
``settings.replace(threads=4)`` is a validated copy. Every construction is validated; a
bad value raises ``ConfigError`` naming where it came from (``FIREKEEPER_WORKERS='0': ...``,
``--workers='0': ...``, ``firekeeper.yaml: workers=0: ...``).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

from firekeeper.logs import FORMATS, parse_level

ENV_PREFIX = "FIREKEEPER_"
# where each value of the construction under way came from, set by load(), for ConfigError
_WHERE: ContextVar[Mapping[str, str] | None] = ContextVar("firekeeper_where", default=None)
CONFIG_ENV = "FIREKEEPER_CONFIG"  # the settings file; `firekeeper serve --config FILE`
Source = Literal["default", "file", "env", "flag"]


def _setting(
    default: Any,
    description: str,
    *,
    env: str = "",
    flag: str = "",
    secret: Literal["", "url", "value"] = "",
    **constraints: Any,
) -> Any:
    """A field with its description and, when they differ from the rule, its variable and
    flag; ``secret``: how ``--print-config`` masks it (``url``: the password of a URL)."""
    extra: dict[str, Any] = {
        k: v for k, v in (("env", env), ("flag", flag), ("secret", secret)) if v
    }
    return Field(default, description=description, json_schema_extra=extra, **constraints)


def split_address(address: str) -> tuple[str, int]:
    """``"127.0.0.1:50051"`` / ``"[::]:0"`` -> (host, port); ``ValueError`` when malformed."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError("expected host:port, port 0-65535, e.g. 127.0.0.1:50051 or [::]:50051")
    return host, int(port)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        frozen=True, extra="forbid", allow_inf_nan=False, validate_default=True
    )

    store_url: str = _setting(
        "sqlite:///./firekeeper-data/firekeeper.db",
        "SQLAlchemy URL of the state store (PostgreSQL in production)",
        flag="--store",
        secret="url",
        min_length=1,
    )
    grpc_address: str = _setting(
        "127.0.0.1:50051",
        "gRPC listen address, host:port (port 0: any free port)",
        flag="--address",
    )
    metrics_port: int | None = _setting(
        9464, "Prometheus port (0: any free port; off or -1: no metrics endpoint)", ge=0, le=65535
    )
    metrics_host: str = _setting(
        "127.0.0.1",
        "address the metrics endpoint listens on (0.0.0.0: scraped from outside)",
        min_length=1,
    )
    rulesets_dir: str = _setting(
        "",
        "rulesets directory (empty: ./rulesets if it exists, else the shipped rulesets)",
        flag="--rulesets",
    )
    log_format: str = _setting("text", "log format: text or json")
    log_level: str = _setting(
        "info",
        "log level of Firekeeper's own loggers: debug, info, warning, error (people's words"
        " and SQL parameters are never logged, at any level)",
    )
    max_message_bytes: int = _setting(
        4 * 1024 * 1024, "largest gRPC message, each way, in bytes", ge=1024
    )
    grace_seconds: float = _setting(10.0, "how long shutdown waits for calls in flight", ge=0)
    workers: int = _setting(
        1,
        "server processes sharing the gRPC port, each with its own evaluation thread; more"
        " than 1 needs a PostgreSQL store (refused on SQLite, whose one writer they would"
        " queue on); until 0.1 this counted threads: see threads",
        ge=1,
        le=256,
    )
    threads: int = _setting(
        4,
        "each process's threads for the calls that are not evaluations (chat registration"
        " and reads, admin, screening, corrections, outbox)",
        ge=1,
        le=1024,
    )
    evaluation_threads: int = _setting(
        0,
        "each process's evaluation threads, each running whole batches from the one queue;"
        " 0: 1 on SQLite (one writer), 4 on PostgreSQL (their round trips overlap)",
        ge=0,
        le=64,
    )
    batch_max: int = _setting(
        100,
        "most events in one evaluation batch (unary calls and EvaluateBatch chunks share it);"
        " a unary call waits for at most the batch running and its own",
        ge=1,
        le=1000,
    )
    batch_wait_ms: float = _setting(
        0.0,
        "after a batch, how long the evaluation thread waits for more events when fewer than"
        " batch_max wait, in ms (a call arriving while it is idle goes at once)",
        ge=0,
        le=100,
    )
    reload_seconds: float = _setting(
        5.0, "how often the rulesets directory is checked for changes (0: no hot reload)", ge=0
    )
    reload_memory_mb: int = _setting(
        512,
        "a changed ruleset set is first compiled in a child process limited to this much"
        " address space, in MiB (0: in the server only)",
    )
    reload_timeout_seconds: float = _setting(60.0, "the reload child's time limit", gt=0)
    phishing_domains: str = _setting(
        "", "file of phishing domains, one a line (message.phishing_links), read at start"
    )
    tick_seconds: int = _setting(3600, "the scheduler's chat.tick period", ge=1, le=7 * 86_400)
    scheduler: bool = _setting(
        True, "this replica may run the scheduler (the one holding the database lock runs it)"
    )
    outbox_lease_seconds: float = _setting(
        30.0,
        "an unacknowledged outbox item whose stream died is sent again after this long",
        ge=0.01,
        le=3600,
    )
    outbox_poll_seconds: float = _setting(
        1.0,
        "how often an idle outbox stream looks for items another replica made",
        ge=0.01,
        le=3600,
    )
    credentials_file: str = _setting(
        "",
        "credentials file (firekeeper.auth), re-read when it changes; empty: no authentication"
        " (loopback only)",
        env="FIREKEEPER_CREDENTIALS",
        flag="--credentials",
    )
    tls_cert: str = _setting(
        "", "server certificate chain, PEM, re-read when it changes (empty: plaintext)"
    )
    tls_key: str = _setting("", "server private key, PEM, re-read when it changes")
    tls_client_ca: str = _setting(
        "", "CA of client certificates: set, clients must present one it signed (mutual TLS)"
    )
    insecure: bool = _setting(
        False, "serve a non-loopback address without TLS and credentials (else refused)"
    )
    rate_limit: float = _setting(
        200.0,
        "each credential's token bucket refill, units/second (a call 1, a batch 1 an event)",
        gt=0,
    )
    rate_burst: float = _setting(1000.0, "each credential's token bucket size", ge=1)
    max_concurrent: int = _setting(
        4,
        "each credential's unary calls in flight, so one caller cannot fill the evaluation"
        " queue or hold every thread",
        ge=1,
        le=10_000,
    )
    credentials_check_seconds: float = _setting(
        1.0, "how often the credentials file is checked for changes", ge=0
    )
    health_address: str = _setting(
        "", "a second, plaintext host:port serving only grpc.health (for probes without TLS)"
    )
    drain_seconds: float = _setting(
        5.0,
        "on SIGTERM, how long health reads NOT_SERVING while calls are still accepted (0: no"
        " drain)",
        ge=0,
        le=3600,
    )
    decision_retention_days: int = _setting(
        30,
        "days decisions are kept (replays, export); older events are refused; 0: forever",
        ge=0,
        le=36_500,
    )
    evaluation_budget_seconds: float = _setting(
        0.25,
        "how long one event's feature stages may take before the rest skip their text checks",
        ge=0.001,
        le=60,
    )
    library_log_level: str = _setting(
        "",
        "log level of other libraries' loggers (alembic, sqlalchemy, grpc, ...); empty:"
        " warning, or debug when log_level is debug",
    )

    spam_model: str = _setting(
        "",
        "the spam model behind message.spam_score: empty: the shipped one; off: none;"
        " else a model file (firekeeper train --out FILE)",
    )
    console_port: int | None = _setting(
        None,
        "port of the read-only web console (firekeeper.console; 0: any free port; off: none)",
        ge=0,
        le=65535,
    )
    console_host: str = _setting(
        "127.0.0.1",
        "address the web console listens on; off loopback it needs TLS and credentials",
        min_length=1,
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise _config_error(exc, values, _WHERE.get() or {}) from None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Settings(...) is what it is given; load() layers the file, env and flags.
        return (init_settings,)

    @field_validator("metrics_host", "console_host", mode="before")
    @classmethod
    def _host(cls, value: Any) -> Any:
        return value.strip() if isinstance(value, str) else value  # blank: refused as empty

    @field_validator("metrics_port", "console_port", mode="before")
    @classmethod
    def _metrics_off(cls, value: Any) -> Any:
        if isinstance(value, str) and value.strip().lower() in ("off", "-1", "none", "disabled"):
            return None
        return None if value == -1 else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format(cls, value: Any) -> Any:
        value = value.strip().lower() if isinstance(value, str) else value
        if value not in FORMATS:
            raise PydanticCustomError("choice", f"must be one of {', '.join(FORMATS)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        parse_level(value)  # ValueError names the levels
        return value

    @field_validator("library_log_level")
    @classmethod
    def _library_level(cls, value: str) -> str:
        if value.strip():
            parse_level(value)
        return value

    @field_validator("grpc_address")
    @classmethod
    def _address(cls, value: str) -> str:
        split_address(value)
        return value

    @field_validator("health_address")
    @classmethod
    def _health_address(cls, value: str) -> str:
        if value:
            split_address(value)
        return value

    @field_validator("reload_memory_mb")
    @classmethod
    def _reload_memory(cls, value: int) -> int:
        if not (value == 0 or 64 <= value <= 1 << 20):
            raise PydanticCustomError("range", "must be 0 or 64 to 1048576")
        return value

    @model_validator(mode="after")
    def _together(self) -> Settings:
        if bool(self.tls_cert) != bool(self.tls_key):
            name = "tls_key" if self.tls_cert else "tls_cert"
            raise PydanticCustomError(
                "together",
                "TLS needs both FIREKEEPER_TLS_CERT and FIREKEEPER_TLS_KEY",
                {"setting": name},
            )
        if self.tls_client_ca and not self.tls_cert:
            raise PydanticCustomError(
                "together", "mutual TLS needs a server cert", {"setting": "tls_client_ca"}
            )
        return self

    @property
    def evaluation_thread_count(self) -> int:
        """``evaluation_threads``, with 0 resolved for the store."""
        if self.evaluation_threads:
            return self.evaluation_threads
        return 1 if self.store_url.startswith("sqlite") else 4

    @property
    def grpc_host(self) -> str:
        return split_address(self.grpc_address)[0]

    @property
    def grpc_port(self) -> int:
        return split_address(self.grpc_address)[1]

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes``, validated like any construction."""
        return type(self)(**{**self.model_dump(), **changes})

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read ``FIREKEEPER_*`` variables; unset or empty ones keep their defaults."""
        return load(env).settings


# ------------------------------------------------------------------ names


def env_name(name: str) -> str:
    """The environment variable of setting ``name``."""
    extra = _extra(Settings.model_fields[name])
    return str(extra.get("env") or ENV_PREFIX + name.upper())


def flag_name(name: str) -> str:
    """The ``firekeeper serve`` flag of setting ``name``."""
    extra = _extra(Settings.model_fields[name])
    return str(extra.get("flag") or "--" + name.replace("_", "-"))


def _extra(field: FieldInfo) -> dict[str, Any]:
    extra = field.json_schema_extra
    return dict(extra) if isinstance(extra, dict) else {}


ENV = {name: env_name(name) for name in Settings.model_fields}


class ConfigError(ValueError):
    """A setting has a value that cannot be used; the message names where it came from."""

    def __init__(self, name: str, value: object, reason: str, *, where: str = "") -> None:
        self.name = name
        shown = mask(name, value) if name in Settings.model_fields else value
        super().__init__(f"{where or ENV.get(name, name)}={shown!r}: {reason}")


# ------------------------------------------------------------------ loading


class _EnvSource(PydanticBaseSettingsSource):
    """The settings' variables in ``env`` (a mapping, so tests need not touch os.environ);
    a value that is empty or only spaces counts as unset."""

    def __init__(self, settings_cls: type[BaseSettings], env: Mapping[str, str]) -> None:
        super().__init__(settings_cls)
        self._env = env

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        raw = self._env.get(env_name(field_name), "")
        return (raw.strip() or None), field_name, False

    def __call__(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                out[key] = value
        return out


@dataclass(frozen=True, slots=True)
class Loaded:
    settings: Settings
    sources: Mapping[str, Source]  # setting name -> where its value came from
    config_file: str = ""  # the settings file read, if any
    config_file_source: Source = "default"


def load(
    env: Mapping[str, str],
    flags: Mapping[str, Any] | None = None,
    config_file: str | None = None,
) -> Loaded:
    """The settings from defaults < ``config_file`` (else FIREKEEPER_CONFIG) < ``env`` <
    ``flags`` (setting name -> value; None: not given), and where each came from."""
    file_source: Source = "flag" if config_file else "env"
    path = config_file or env.get(CONFIG_ENV, "").strip()
    layers: list[tuple[Source, dict[str, Any]]] = []
    if path:
        layers.append(("file", _read_file(path, "--config" if config_file else CONFIG_ENV)))
    layers.append(("env", _EnvSource(Settings, env)()))
    layers.append(("flag", {k: v for k, v in (flags or {}).items() if v is not None}))
    values: dict[str, Any] = {}
    sources: dict[str, Source] = {}
    for source, layer in layers:
        for name, value in layer.items():
            values[name] = value
            sources[name] = source
    where = {name: _where(name, source, path) for name, source in sources.items()}
    token = _WHERE.set(where)
    try:
        settings = Settings(**values)
    finally:
        _WHERE.reset(token)
    every: dict[str, Source] = {
        name: sources.get(name, "default") for name in Settings.model_fields
    }
    return Loaded(settings, every, path, file_source if path else "default")


def origin(loaded: Loaded, name: str) -> str:
    """Where setting ``name``'s value came from, as a person sets it: its environment
    variable, its flag, ``<file>: <name>``, or ``default``."""
    source = loaded.sources.get(name, "default")
    return "default" if source == "default" else _where(name, source, loaded.config_file)


def _where(name: str, source: Source, path: str) -> str:
    if source == "env":
        return env_name(name)
    if source == "flag":
        return flag_name(name)
    if source == "file":
        return f"{path}: {name}"
    return ENV.get(name, name)


def _read_file(path: str, given: str) -> dict[str, Any]:
    if not Path(path).is_file():
        raise ConfigError("config", path, "no such file", where=given)
    try:
        data = YamlConfigSettingsSource(Settings, yaml_file=path)()
    except Exception as exc:  # yaml.YAMLError, a top level that is not a mapping, ...
        reason = " ".join(str(exc).split())
        raise ConfigError(
            "config", path, f"not a YAML mapping of settings: {reason}", where=given
        ) from None
    unknown = sorted(set(data) - set(Settings.model_fields))
    if unknown:
        raise ConfigError(
            "config",
            path,
            f"unknown settings {', '.join(map(str, unknown))}; see `firekeeper serve --help`",
            where=given,
        )
    return {k: v for k, v in data.items() if v is not None}


def _config_error(
    exc: ValidationError, values: Mapping[str, Any], where: Mapping[str, str]
) -> ConfigError:
    error = exc.errors()[0]
    loc = error.get("loc") or ()
    ctx = error.get("ctx") or {}
    name = str(loc[0]) if loc else str(ctx.get("setting", ""))
    if name not in Settings.model_fields:
        return ConfigError(name or "settings", values.get(name, ""), _reason(error, None))
    value = values.get(name, getattr(Settings.model_fields[name], "default", ""))
    return ConfigError(
        name, value, _reason(error, Settings.model_fields[name]), where=where.get(name, "")
    )


def _reason(error: Any, field: FieldInfo | None) -> str:
    kind = error.get("type", "")
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return "must be a whole number" + _bounds(field)
    if kind in ("float_parsing", "float_type"):
        return "must be a number" + _bounds(field)
    if kind == "finite_number":
        return "must be a finite number" + _bounds(field)
    if kind in ("bool_parsing", "bool_type"):
        return "must be on or off"
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        return "must be" + (_bounds(field) or " in range")
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "extra_forbidden":
        return "is not a setting"
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ")


def _bounds(field: FieldInfo | None) -> str:
    low = high = None
    strict_low = False
    for item in field.metadata if field is not None else ():
        low = getattr(item, "ge", None) if getattr(item, "ge", None) is not None else low
        if getattr(item, "gt", None) is not None:
            low, strict_low = item.gt, True
        high = getattr(item, "le", None) if getattr(item, "le", None) is not None else high
    if low is not None and high is not None:
        return f" from {low:g} to {high:g}"
    if low is not None:
        return f" {'>' if strict_low else '>='} {low:g}"
    if high is not None:
        return f" <= {high:g}"
    return ""


# ------------------------------------------------------------------ showing


_URL_PASSWORD = re.compile(r"(?P<head>://[^/:@]*:)[^/@]*@")


def mask(name: str, value: object) -> object:
    """``value`` of setting ``name`` as it may be shown: secrets masked."""
    secret = _extra(Settings.model_fields[name]).get("secret")
    if secret == "url" and isinstance(value, str):
        return _URL_PASSWORD.sub(lambda m: m.group("head") + "***@", value)
    if secret and value:
        return "***"
    return value


def shown(name: str, value: object) -> str:
    value = mask(name, value)
    if name in ("metrics_port", "console_port") and value is None:
        return "off"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(value)
    return "" if value is None else str(value)


def render(loaded: Loaded) -> str:
    """The effective settings, one a line: name, value (secrets masked), and source."""
    rows = [("setting", "value", "source")]
    for name in Settings.model_fields:
        source = loaded.sources[name]
        origin = {
            "default": "default",
            "env": f"env {env_name(name)}",
            "flag": f"flag {_given_flag(name, getattr(loaded.settings, name))}",
            "file": f"file {loaded.config_file}",
        }[source]
        value = shown(name, getattr(loaded.settings, name))
        rows.append((name, value if value else '""', origin))
    width = [max(len(row[i]) for row in rows) for i in range(2)]
    given = "flag --config" if loaded.config_file_source == "flag" else f"env {CONFIG_ENV}"
    head = (
        f"config file: {loaded.config_file} ({given})"
        if loaded.config_file
        else f"config file: none (--config FILE or {CONFIG_ENV})"
    )
    lines = [head]
    lines += [f"{a:<{width[0]}}  {b:<{width[1]}}  {c}".rstrip() for a, b, c in rows]
    return "\n".join(lines)


def _given_flag(name: str, value: object) -> str:
    flag = flag_name(name)
    return f"--no-{flag[2:]}" if value is False else flag


def markdown_table() -> str:
    """The settings table of docs/operations.md."""
    lines = [
        "| setting | environment variable | flag | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = shown(name, field.default)
        lines.append(
            f"| `{name}` | `{env_name(name)}` | `{flag_name(name)}` |"
            f" {f'`{default}`' if default else 'empty'} | {field.description} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":  # python -m firekeeper.config: the table for docs/operations.md
    sys.stdout.write(markdown_table() + "\n")
