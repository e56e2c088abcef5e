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
from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from nightowl.core.errors import ConfigError
from nightowl.scrape.config import GlobalConfig, ScrapeConfig, check_scrape_configs

ENV_PREFIX = "NIGHTOWL_"
_yaml_values: ContextVar[dict[str, Any] | None] = ContextVar("nightowl_yaml_values", default=None)


class _YamlValues(PydanticBaseSettingsSource):
    """Values from the YAML config file, already read by `load_settings`."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (_yaml_values.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_yaml_values.get() or {})


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

    ingest_max_samples_per_request: int = Field(
        5_000_000, ge=1, description="Most samples one ingest request may carry; more refuses it whole with 413."
    )
    ingest_max_series_per_request: int = Field(
        1_000_000, ge=1, description="Most distinct series one ingest request may carry; more refuses it with 413."
    )
    ingest_max_labels_per_series: int = Field(
        64, ge=1, description="Most labels (`__name__` included) a series may have; more refuses the request (400)."
    )
    ingest_max_label_name_length: int = Field(1024, ge=1, description="Longest label name accepted, in characters.")
    ingest_max_label_value_length: int = Field(4096, ge=1, description="Longest label value accepted, in characters.")
    ingest_metric_names: Literal["utf8", "legacy"] = Field(
        "utf8",
        description="`utf8`: any non-empty UTF-8 metric and label name, as Prometheus 3 accepts by default; "
        "`legacy`: names must match Prometheus's classic charset (`[a-zA-Z_:][a-zA-Z0-9_:]*`).",
    )
    ingest_non_finite: Literal["accept", "drop", "reject"] = Field(
        "accept",
        description="NaN and ±Inf sample values: `accept` (as Prometheus), `drop` them (counted as rejected), "
        "or `reject` the request (400). Staleness markers are always accepted.",
    )
    ingest_max_decompressed_bytes: int = Field(
        64 * 1024**2,
        ge=1024,
        description="Largest ingest body once decompressed (gzip, snappy); larger gets 413.",
    )
    ingest_max_in_flight: int = Field(
        16, ge=1, description="Ingest requests handled at once; more get 429 with Retry-After so senders back off."
    )
    global_config: GlobalConfig = Field(
        GlobalConfig(),
        alias="global",
        description="Prometheus's `global:` block: default `scrape_interval` (1m), `scrape_timeout` (10s) "
        "and `external_labels` for the scrape configs (see docs/scraping.md).",
    )
    scrape_configs: list[ScrapeConfig] = Field(
        [],
        description="Scrape jobs written exactly as in a `prometheus.yml` (the subset in docs/scraping.md). "
        "Targets can also be added at run time through `/api/v1/targets`.",
    )
    demo: bool = Field(
        False,
        description="Start the simulated demo platform (about 20 services under `/demo/`) and scrape it "
        "(`nightowl serve --demo`; see docs/demo.md).",
    )

    otlp_translation_strategy: Literal[
        "UnderscoreEscapingWithSuffixes",
        "UnderscoreEscapingWithoutSuffixes",
        "NoUTF8EscapingWithSuffixes",
        "NoTranslation",
    ] = Field(
        "UnderscoreEscapingWithSuffixes",
        description="How OTLP metric and attribute names become Prometheus names (Prometheus's "
        "`otlp.translation_strategy`): escape to `_` and add unit/`_total` suffixes by default.",
    )
    otlp_promote_resource_attributes: list[str] = Field(
        [],
        description="OTLP resource attributes copied as labels onto every series of the resource "
        "(all resource attributes also land on `target_info`).",
    )
    otlp_promote_scope_metadata: bool = Field(
        False,
        description="Label OTLP series with their instrumentation scope: `otel_scope_name`, `otel_scope_version` "
        "and `otel_scope_<attribute>` (Prometheus's `otlp.promote_scope_metadata`).",
    )

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

    @field_validator("scrape_configs")
    @classmethod
    def _scrape_jobs(cls, configs: list[ScrapeConfig], info: ValidationInfo) -> list[ScrapeConfig]:
        return check_scrape_configs(configs, info.data.get("global_config") or GlobalConfig())

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
    message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    if isinstance(value, dict | list):
        return f"invalid configuration: {key}{source}: {message}"
    return f"invalid configuration: {key}={value!r}{source}: {message}"


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

# Scrape Prometheus exporters: paste the global: and scrape_configs: of a prometheus.yml
# (the supported keys are listed in docs/scraping.md).
# global:
#   scrape_interval: 15s
# scrape_configs:
#   - job_name: node
#     static_configs:
#       - targets: ['localhost:9100']

# The simulated demo platform under /demo/, scraped automatically (docs/demo.md).
# demo: true
"""


def settings_markdown_table() -> str:
    """The settings table of docs/configuration.md; a test keeps the two in step."""
    rows = ["| key | environment variable | default | description |", "|---|---|---|---|"]
    for field_name, info in Settings.model_fields.items():
        name = info.alias or field_name
        default = "unset" if info.default is None else f"`{info.default}`"
        rows.append(f"| `{name}` | `{ENV_PREFIX}{name.upper()}` | {default} | {info.description or ''} |")
    return "\n".join(rows)
