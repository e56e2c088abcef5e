"""Settings: one table of typed fields fed by CLI flags, NIGHTOWL_* environment variables and a YAML file.

Precedence, highest first: CLI flags, environment, YAML file, defaults. Every value is validated once,
at start; a bad one becomes a one-line `ConfigError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from nightowl.core.errors import ConfigError

ENV_PREFIX = "NIGHTOWL_"
_yaml_values: ContextVar[dict[str, Any] | None] = ContextVar("nightowl_yaml_values", default=None)


class _YamlValues(PydanticBaseSettingsSource):
    """Values from the YAML config file, already read by `load_settings`."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (_yaml_values.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_yaml_values.get() or {})


def _duration(value: str) -> str:
    from nightowl.tsdb.options import parse_duration_ms

    parse_duration_ms(value)
    return value


class RetentionOverrideConfig(BaseModel):
    """Per-metric retention: series matching the selector keep raw (and downsampled) data this long."""

    model_config = ConfigDict(extra="forbid")
    match: str = Field(description='Series selector, e.g. `debug_requests_total` or `{job="batch"}`.')
    retention: str = Field(description="Raw samples kept this long (e.g. `7d`).")
    tier_retention: str | None = Field(None, description="Downsampled tiers kept this long; unset: the default.")

    @field_validator("match")
    @classmethod
    def _selector(cls, value: str) -> str:
        from nightowl.tsdb.options import parse_selector

        parse_selector(value)
        return value

    @field_validator("retention", "tier_retention")
    @classmethod
    def _durations(cls, value: str | None) -> str | None:
        return None if value is None else _duration(value)


class Settings(BaseSettings):
    """Every setting of Nightowl. The field description is the documentation (`docs/configuration.md`)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", validate_default=True)

    host: str = Field("127.0.0.1", description="Address the HTTP server listens on.")
    port: int = Field(3017, ge=1, le=65535, description="TCP port of the HTTP server.")
    data_dir: Path = Field(
        Path("./data"), description="Directory for the SQLite state database, the TSDB and the secret key."
    )
    database_url: str | None = Field(
        None,
        description="State database URL. Unset: SQLite in the data dir. "
        "`postgresql://user:pass@host:5432/db` for PostgreSQL (scale-out).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field("info", description="Log verbosity.")
    log_format: Literal["text", "json"] = Field(
        "text", description="`text` for people, `json` for one JSON object per line (log shippers)."
    )
    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, le=1024**3, description="Largest request body accepted; larger gets 413."
    )
    storage_min_free_bytes: int = Field(
        1024**3, ge=0, description="Below this much free space in the data dir, /health reports `degraded`."
    )
    storage_critical_free_bytes: int = Field(
        100 * 1024**2,
        ge=0,
        description="Below this much free space in the data dir, /health reports `unhealthy`.",
    )
    db_pool_size: int = Field(5, ge=1, le=200, description="PostgreSQL connection pool size.")
    secret_key: str | None = Field(
        None,
        description="Fernet key that encrypts stored secrets. Unset: generated once into `data_dir/secret.key` "
        "(mode 0600). Back it up; several instances must share it.",
    )

    tsdb_retention: str = Field("30d", description="How long the TSDB keeps raw samples (e.g. `30d`, `12h`).")
    tsdb_tier_retention: str = Field(
        "1y", description="How long the TSDB keeps downsampled tiers (5 m / 1 h aggregates), usually > raw."
    )
    tsdb_tiers: list[str] = Field(
        ["5m", "1h"], description="Resolutions of the downsampled tiers; empty list: no downsampling."
    )
    tsdb_retention_size_bytes: int = Field(
        0, ge=0, description="Cap on TSDB disk use; the oldest blocks go first beyond it. 0: no cap."
    )
    tsdb_retention_overrides: list[RetentionOverrideConfig] = Field(
        [],
        description="Per-metric retention: a list of `{match: selector, retention: 7d, tier_retention: 30d}`; "
        "the first matching entry wins.",
    )
    tsdb_out_of_order_window: str = Field(
        "10m", description="Samples older than their series' newest sample by up to this much are still accepted."
    )
    tsdb_wal_fsync: Literal["always", "interval", "never"] = Field(
        "interval",
        description="When the WAL is fsynced: `always` (each write request), `interval` (every "
        "`tsdb_wal_fsync_interval` seconds: a power loss may lose that much), `never` (the OS decides). "
        "Acknowledged writes survive a crash of the process in every mode.",
    )
    tsdb_wal_fsync_interval: float = Field(1.0, gt=0, le=300, description="Seconds between WAL fsyncs (`interval`).")
    tsdb_head_max_samples: int = Field(
        1_000_000, ge=10_000, description="Samples held in memory before the head is written out as blocks."
    )
    tsdb_block_duration: str = Field("2h", description="Time window of one TSDB block (compaction unit).")
    metrics_storage: Literal["tsdb", "memory"] = Field(
        "tsdb", description="`tsdb`: the embedded TSDB in `data_dir/tsdb`; `memory`: nothing persisted (tests)."
    )

    @field_validator("tsdb_retention", "tsdb_tier_retention", "tsdb_out_of_order_window", "tsdb_block_duration")
    @classmethod
    def _tsdb_duration(cls, value: str) -> str:
        return _duration(value)

    @field_validator("tsdb_tiers")
    @classmethod
    def _tsdb_tiers(cls, value: list[str]) -> list[str]:
        return [_duration(v) for v in value]

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _YamlValues(settings_cls))

    @property
    def state_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'nightowl.db').resolve()}"


def read_yaml_config(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        values = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"config file {path} is not valid YAML{where}: {problem}") from None
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise ConfigError(f"config file {path} must be a mapping of keys to values, got {type(values).__name__}")
    return values


def _describe_error(error: Any, file_values: dict[str, Any], config_file: Path | None) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    key = ".".join(loc) or "?"
    top = loc[0] if loc else ""
    if error.get("type") == "extra_forbidden":
        where = f" in {config_file}" if config_file is not None and top in file_values else ""
        allowed = ", ".join(sorted(Settings.model_fields))
        return f"unknown configuration key '{key}'{where}; known keys: {allowed}"
    env_name = ENV_PREFIX + top.upper()
    if top in file_values and env_name not in os.environ:
        source = f" (in {config_file})"
    elif env_name in os.environ:
        source = f" (from {env_name})"
    else:
        source = ""
    value = error.get("input")
    return f"invalid configuration: {key}={value!r}{source}: {error.get('msg', 'invalid value')}"


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Settings from flags (`overrides`; None means unset), env and the YAML file, or raise ConfigError."""
    file_values = read_yaml_config(config_file) if config_file is not None else {}
    cli_values = {k: v for k, v in overrides.items() if v is not None}
    token = _yaml_values.set(file_values)
    try:
        return Settings(**cli_values)
    except ValidationError as exc:
        lines = [_describe_error(err, file_values, config_file) for err in exc.errors()]
        raise ConfigError("; ".join(lines)) from None
    finally:
        _yaml_values.reset(token)


SAMPLE_CONFIG = """\
# Nightowl configuration. Every key can also be set as an environment variable:
# NIGHTOWL_<KEY> (for example NIGHTOWL_PORT=3017). Flags on the command line win over
# the environment, which wins over this file. Unknown keys are an error.

# Where the HTTP server listens.
host: 127.0.0.1
port: 3017

# The data directory holds the SQLite state database, the TSDB and the secret key.
data_dir: ./data

# State database. Leave unset for SQLite in the data dir; set a PostgreSQL URL to run
# several Nightowl instances on one database.
# database_url: postgresql://nightowl:secret@db.example.com:5432/nightowl

# Logging: level debug|info|warning|error, format text|json (one JSON object per line).
log_level: info
log_format: text

# Largest request body accepted, in bytes (larger bodies get 413).
max_body_bytes: 10485760

# /health turns degraded below this much free disk space in the data dir (bytes),
# and unhealthy below the critical amount.
storage_min_free_bytes: 1073741824
storage_critical_free_bytes: 104857600
"""


def settings_markdown_table() -> str:
    """The settings table of docs/configuration.md; a test keeps the two in step."""
    rows = ["| key | environment variable | default | description |", "|---|---|---|---|"]
    for name, info in Settings.model_fields.items():
        default = "unset" if info.default is None else f"`{info.default}`"
        rows.append(f"| `{name}` | `{ENV_PREFIX}{name.upper()}` | {default} | {info.description or ''} |")
    return "\n".join(rows)
