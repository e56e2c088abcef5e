"""Settings: one table of typed fields fed by CLI flags, NIGHTOWL_* environment variables and a YAML file.

Precedence, highest first: CLI flags, environment, YAML file, defaults. Every value is validated once,
at start; a bad one becomes a one-line `ConfigError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from contextvars import ContextVar
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

from nightowl.core.errors import ConfigError
from nightowl.health.spec import CheckSpec
from nightowl.health.topology import GroupSpec, ServiceSpec
from nightowl.scrape.config import GlobalConfig, ScrapeConfig, check_scrape_configs

ENV_PREFIX = "NIGHTOWL_"
_HOST_NAME = re.compile(
    r"(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?"
)
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
    access_log: bool = Field(
        False,
        description="Log one line per HTTP request (method, path, status, duration, client IP) on the "
        "`nightowl.access` logger; the query string and credentials are never logged.",
    )
    self_scrape_interval: float = Field(
        15.0,
        ge=0,
        le=86400,
        description='Seconds between scrapes of Nightowl\'s own metrics into its storage as `job="nightowl"` '
        '(as Prometheus scrapes itself), so `up{job="nightowl"}` and `process_resident_memory_bytes` are '
        "queryable; 0: off.",
    )
    cors_allowed_origins: Annotated[list[str], NoDecode] = Field(
        [],
        description="Origins (`https://grafana.example.com`, comma-separated; `*` for any) whose browser pages "
        "may call the API (CORS). Empty: no CORS headers, browsers allow only same-origin calls.",
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
    admin_user: str = Field("admin", description="Name of the first admin created from `admin_password`.")
    admin_password: SecretStr | None = Field(
        None,
        description="On a start with no users, create the first admin with this password "
        "(better: `nightowl users create-admin`). Never a default.",
    )
    public_health: bool = Field(True, description="Serve /health, /ready and /status without authentication.")
    metrics_public: bool = Field(False, description="Serve /metrics without authentication.")
    metrics_allow: Annotated[list[str], NoDecode] = Field(
        [],
        description="IPs or networks that may read /metrics without a key, comma-separated (`10.0.0.1,10.0.0.0/24`).",
    )
    access_token_ttl: int = Field(900, ge=30, le=86400, description="Lifetime of a login access token (JWT), seconds.")
    refresh_token_ttl: int = Field(
        30 * 86400, ge=300, description="A login session ends after this many seconds without a refresh."
    )
    rate_limit_per_ip: int = Field(
        36000,
        ge=0,
        description="Requests per hour per client IP for requests not made with an API key (token bucket); 0: off.",
    )
    anonymous_permissions: Annotated[list[Literal["read", "write", "ingest"]], NoDecode] = Field(
        [],
        description="Permissions granted to requests without credentials, comma-separated (`read,ingest`), like "
        "Grafana's anonymous access: only behind a trusted network. Empty: every request needs credentials.",
    )
    rate_limit_per_key: int = Field(
        0, ge=0, description="Requests per hour for API keys created without their own `rate_limit`; 0: unlimited."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed logins per user within `login_failure_window` before the user is locked."
    )
    login_max_failures_per_ip: int = Field(
        20, ge=1, description="Failed logins per client IP within `login_failure_window` before the IP is locked."
    )
    login_failure_window: int = Field(
        900, ge=1, description="Window (seconds) for counting failed logins; a lock lasts until failures age out."
    )

    audit_retention_days: int = Field(
        365, ge=0, description="Audit log entries older than this many days are deleted; 0: keep forever."
    )

    @field_validator("anonymous_permissions", mode="before")
    @classmethod
    def _split_permissions(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("cors_allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for origin in value:
                text = str(origin)
                scheme, _, host = text.partition("://")
                if text != "*" and (scheme not in ("http", "https") or not host or "/" in host):
                    raise ValueError(
                        f"{text!r} is not an origin: write scheme://host[:port] without a path "
                        "(e.g. https://grafana.example.com), or * for any"
                    )
        return value

    @field_validator("metrics_allow", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for entry in value:
                try:
                    ipaddress.ip_network(str(entry).strip(), strict=False)
                except ValueError:
                    raise ValueError(f"{entry!r} is not an IP address or network (e.g. 10.0.0.0/24)") from None
            return [str(entry).strip() for entry in value]
        return value

    tsdb_retention: str = Field("30d", description="How long the TSDB keeps raw samples (e.g. `30d`, `12h`).")
    tsdb_tier_retention: str = Field(
        "1y", description="How long the TSDB keeps downsampled tiers (5 m / 1 h aggregates), usually > raw."
    )
    tsdb_tiers: list[str] = Field(
        ["5m", "1h"], description="Resolutions of the downsampled tiers; empty list: no downsampling."
    )
    tsdb_auto_downsampling: bool = Field(
        True,
        description="Queries whose step and range windows only need a tier's buckets (e.g. a 30-day graph at "
        "step 1h) read the tier even where raw samples exist; `false`: tiers serve only data older than raw. "
        "Per query: `max_source_resolution=raw` (or `5m`, `1h`, `auto`) on /prometheus/api/v1/query(_range).",
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
        500_000,
        ge=10_000,
        description="Samples held in memory before the head is written out as blocks (~24 bytes each; "
        "twice that while a flush runs during a fast backfill). Larger: fewer, bigger flushes, less CPU.",
    )
    tsdb_block_duration: str = Field("2h", description="Time window of one TSDB block (compaction unit).")
    metrics_storage: Literal["tsdb", "memory"] = Field(
        "tsdb", description="`tsdb`: the embedded TSDB in `data_dir/tsdb`; `memory`: nothing persisted (tests)."
    )

    @field_validator(
        "tsdb_retention",
        "tsdb_tier_retention",
        "tsdb_out_of_order_window",
        "tsdb_block_duration",
        "ingest_future_tolerance",
    )
    @classmethod
    def _tsdb_duration(cls, value: str) -> str:
        return _duration(value)

    @field_validator("tsdb_tiers")
    @classmethod
    def _tsdb_tiers(cls, value: list[str]) -> list[str]:
        return [_duration(v) for v in value]

    lookback_delta: float = Field(
        300.0,
        gt=0,
        le=86400 * 7,
        description="PromQL lookback delta in seconds: how far back an instant selector looks.",
    )
    query_max_samples: int = Field(
        50_000_000,
        ge=0,
        description="Most samples one PromQL query may read, and most series x steps cells it may hold "
        "(0: no limit); beyond it 422.",
    )
    query_max_series: int = Field(
        0, ge=0, description="Most series one PromQL query may select (0: no limit); beyond it 422."
    )
    query_timeout: float = Field(120.0, gt=0, le=3600, description="PromQL query timeout in seconds; beyond it 503.")
    query_max_length: int = Field(
        16_384, ge=256, le=1_048_576, description="Longest PromQL query accepted, in characters."
    )
    remote_read_max_queries: int = Field(
        100, ge=1, description="Most queries one remote read request (`/prometheus/api/v1/read`) may carry; more: 413."
    )
    remote_read_max_series: int = Field(
        100_000, ge=1, description="Most series one remote read answer may hold, over all its queries; more: 413."
    )
    remote_read_max_samples: int = Field(
        10_000_000,
        ge=1,
        description="Most samples one remote read answer may hold, over all its queries (~16 bytes each in "
        "memory while it is built); more: 413.",
    )
    remote_read_max_bytes_in_frame: int = Field(
        1_048_576,
        ge=1024,
        description="Size a frame of a streamed remote read answer (STREAMED_XOR_CHUNKS) aims at; a series with "
        "more chunks continues in the next frame (Prometheus's `--storage.remote.read-max-bytes-in-frame`).",
    )
    query_max_depth: int = Field(
        128,
        ge=16,
        le=200,
        description="Deepest PromQL expression accepted: each bracket, call, aggregation and chained operator "
        "adds a level; deeper is refused with 400 before parsing.",
    )
    query_max_operators: int = Field(
        1000, ge=16, le=100_000, description="Most operators (+, and, or...) one PromQL query may have; more is 400."
    )
    query_max_concurrency: int = Field(
        0,
        ge=0,
        le=256,
        description="PromQL queries of the query API evaluated at once, each in a worker thread (0: the number of "
        "CPUs, at least 2); others wait their turn within their timeout.",
    )
    query_max_queued: int = Field(
        100, ge=0, description="Queries that may wait for a turn; more are refused at once with 503 (unavailable)."
    )
    query_page_cache_bytes: int = Field(
        128 * 2**20,
        ge=0,
        description="Memory for decoded TSDB block pages kept between queries (per process; 0: none). "
        "Repeated dashboard and rule queries then skip decompression; 128 MiB holds ~8 M samples.",
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
    ingest_future_tolerance: str = Field(
        "10m",
        description="Samples stamped further ahead of the server's clock than this are refused (counted as "
        "`too_far_in_future`; 400 naming this setting, the rest of the request is stored). One far-future "
        "sample would otherwise make every later sample of its series out of order.",
    )
    ingest_max_metadata_length: int = Field(
        1024,
        ge=16,
        description="Longest HELP text and unit kept per metric, in characters; longer ones are truncated "
        "to this length (the samples are stored as usual).",
    )
    ingest_max_in_flight: int = Field(
        16, ge=1, description="Ingest requests handled at once; more get 429 with Retry-After so senders back off."
    )
    metrics_url: str | None = Field(
        None,
        description="Base URL of a Prometheus-compatible metrics store (e.g. `http://vm:8428`, `http://prom:9090`). "
        "Set: samples go out by remote write and PromQL runs there. Unset: the embedded TSDB.",
    )
    metrics_write_url: str | None = Field(
        None, description="Remote write endpoint. Unset: `<metrics_url>/api/v1/write`."
    )
    metrics_username: str | None = Field(None, description="Basic-auth user for the remote metrics store.")
    metrics_password: SecretStr | None = Field(None, description="Basic-auth password for the remote metrics store.")
    metrics_bearer_token: SecretStr | None = Field(
        None, description="Bearer token for the remote metrics store (instead of basic auth)."
    )
    metrics_timeout: float = Field(
        30.0, gt=0, le=3600, description="Seconds to wait for the remote metrics store per request."
    )
    metrics_tls_insecure: bool = Field(
        False, description="Skip TLS certificate verification of the remote metrics store (testing only)."
    )
    metrics_queue_max_samples: int = Field(
        1_000_000,
        ge=1,
        description="Samples waiting for remote write, at most; when full, ingest answers 503 with Retry-After.",
    )
    metrics_batch_max_samples: int = Field(
        5000, ge=1, le=1_000_000, description="Samples per remote write request, at most."
    )
    metrics_retry_min_backoff: float = Field(
        0.05, gt=0, le=60, description="Seconds before the first retry of a failed remote write; doubles per retry."
    )
    metrics_retry_max_backoff: float = Field(
        10.0, gt=0, le=600, description="Longest wait between remote write retries, in seconds."
    )
    metrics_flush_timeout: float = Field(
        30.0, gt=0, le=3600, description="Seconds a flush (and shutdown) waits for the remote write queue to drain."
    )
    checks: list[CheckSpec] = Field(
        [],
        description="Health checks defined in the config file (see docs/checks.md); read-only through the API.",
    )
    services: list[ServiceSpec] = Field(
        [], description="Services that checks belong to, with `group`, `parents` and `critical` (docs/checks.md)."
    )
    groups: list[GroupSpec] = Field([], description="Groups of services, with an optional `parent` group.")
    health_unhealthy_ratio: float = Field(
        0.5,
        gt=0,
        le=1,
        description="Overall health is unhealthy when this fraction of services is down (or any critical one).",
    )
    health_max_concurrency: int = Field(200, ge=1, le=10000, description="Most health checks running at the same time.")
    outbound_allow_loopback: bool = Field(
        False,
        description="Let checks, channels, webhooks, forwarders and API-added scrape targets connect to loopback "
        "addresses (127.0.0.0/8, ::1); `--demo` allows its own address (docs/security.md).",
    )
    outbound_allow_private: bool = Field(
        False,
        description="Let them connect to private addresses (10/8, 172.16/12, 192.168/16, 100.64/10 CGNAT, "
        "fc00::/7): turn on to monitor an internal network. Link-local and cloud metadata are never allowed.",
    )
    outbound_allow_cidrs: Annotated[list[str], NoDecode] = Field(
        [],
        description="Networks and host names they may connect to although loopback, private or special-purpose, "
        "comma-separated (`10.1.0.0/16,192.0.2.7,db.internal`); never link-local or cloud metadata.",
    )
    alertmanager_config: Path | None = Field(
        None,
        description="An existing alertmanager.yml (route, receivers, inhibit_rules, time_intervals) that Nightowl "
        "routes alerts with; what it cannot do is logged at start. Unset: one `default` receiver.",
    )
    rule_files: list[str] = Field(
        [],
        description="Prometheus rule files (globs, as `rule_files` in prometheus.yml); reloaded when they change "
        "or on SIGHUP (docs/alerting.md).",
    )
    rules_evaluation_interval: float = Field(
        60.0, gt=0, le=86400, description="Evaluation interval of rule groups that set no `interval`, in seconds."
    )
    alert_history_retention: float = Field(
        90 * 86400.0,
        gt=0,
        description="How long alert state transitions are kept (GET /api/v1/alerts/history), in seconds.",
    )
    notify_external_url: str = Field(
        "",
        description=(
            "Public URL of this Nightowl, used for links in notifications (Alertmanager's externalURL). "
            "Empty: http://<host>:<port>, with the machine's hostname when listening on every address."
        ),
    )
    notify_timeout: float = Field(10.0, gt=0, le=300, description="Timeout of one notification send, in seconds.")
    notify_max_age: float = Field(
        86400.0,
        gt=0,
        description="A notification still undelivered after this many seconds of retries goes to the dead letters.",
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
    demo_seed: int | None = Field(
        None,
        description="Seed of the demo platform's random traffic and incidents: the same seed on a manual "
        "clock replays the same demo (tests, recorded walkthroughs). Unset: different every start.",
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
    otlp_max_histogram_buckets: int = Field(
        512,
        ge=1,
        description="Most buckets (each one a `_bucket` series) an OTLP histogram or exponential histogram data "
        "point may have, the zero and +Inf buckets included; more refuses the request with 413.",
    )
    otlp_max_series_per_request: int = Field(
        100_000,
        ge=1,
        description="Most series one OTLP request may translate into (histogram buckets multiply them); "
        "more refuses the request with 413 as soon as translation reaches it.",
    )
    otlp_promote_scope_metadata: bool = Field(
        False,
        description="Label OTLP series with their instrumentation scope: `otel_scope_name`, `otel_scope_version` "
        "and `otel_scope_<attribute>` (Prometheus's `otlp.promote_scope_metadata`).",
    )

    @property
    def external_url(self) -> str:
        """The base of links sent out (no trailing slash); like Prometheus, a guess from host and port if unset."""
        if self.notify_external_url:
            return self.notify_external_url.rstrip("/")
        host = socket.gethostname() if self.host in ("", "0.0.0.0", "::") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

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

    @field_validator("outbound_allow_cidrs", mode="before")
    @classmethod
    def _outbound_allow_cidrs(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [part for part in value.split(",") if part.strip()]
        if not isinstance(value, list):
            return value
        entries = [str(entry).strip() for entry in value]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                if not _HOST_NAME.fullmatch(entry):
                    raise ValueError(f"{entry!r} is neither a network (10.1.0.0/16) nor a host name") from None
        return entries

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
        return f"unknown configuration key {key!r}{where}; known keys: {allowed}"
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

# Security (docs/security.md). Every route needs credentials except these health endpoints
# (when public_health is true), the API docs and login. /metrics needs a key with `read`
# unless metrics_public is true or the client IP is in metrics_allow.
public_health: true
metrics_public: false
# metrics_allow: [10.0.0.1, 10.0.0.0/24]

# Requests per hour per client IP (requests without an API key) and the default per API key (0: unlimited).
rate_limit_per_ip: 36000
rate_limit_per_key: 0

# Where checks, channels, webhooks and API-added scrape targets may connect (docs/security.md,
# "Outbound requests"). Link-local and cloud metadata addresses never; loopback and private
# networks only when allowed here. Monitoring an internal network: allow it.
outbound_allow_loopback: false
outbound_allow_private: false
# outbound_allow_cidrs: [10.20.0.0/16, db.internal]

# Metrics in a Prometheus-compatible store (VictoriaMetrics, Prometheus, Mimir...) instead of the
# embedded TSDB: remote write out, PromQL through its HTTP API. See docs/remote-backend.md.
# metrics_url: http://victoria-metrics:8428
# metrics_bearer_token: ...

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
