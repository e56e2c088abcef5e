"""`scrape_configs:` and `global:` as a `prometheus.yml` writes them (a documented subset), validated once.

Keys are Prometheus's own, so a team can paste its scrape jobs; a key outside the subset is a config
error naming it and listing the allowed ones, rather than something silently ignored.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from nightowl.core import regex as label_regex

_DURATION_PART = re.compile(r"(\d+)(ms|y|w|d|h|m|s)")
_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")

RelabelAction = Literal[
    "replace",
    "keep",
    "drop",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
    "keepequal",
    "dropequal",
]


def parse_duration(text: str | int | float) -> float:
    """Prometheus duration (`15s`, `1m30s`, `500ms`, `2h`) -> seconds; a bare number is seconds."""
    if isinstance(text, int | float):
        if text <= 0:
            raise ValueError(f"duration must be positive, got {text}")
        return float(text)
    value = text.strip()
    pos = 0
    total = 0.0
    for match in _DURATION_PART.finditer(value):
        if match.start() != pos:
            break
        total += int(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if pos != len(value) or not value:
        raise ValueError(
            f"invalid duration {text!r}: use a number and a unit (ms, s, m, h, d, w, y), e.g. 15s or 1m30s"
        )
    if total <= 0:
        raise ValueError(f"duration must be positive, got {text!r}")
    return total


Seconds = Annotated[float, BeforeValidator(parse_duration)]
"""A duration written the Prometheus way (`15s`, `1m`) or as a number of seconds, stored as seconds."""


def format_duration(seconds: float) -> str:
    """Seconds -> the shortest Prometheus duration text (`1m30s`, `500ms`)."""
    ms = round(seconds * 1000)
    if ms % 1000:
        return f"{ms}ms"
    out = ""
    rest = ms // 1000
    for unit, size in (("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"


class _Strict(BaseModel):
    """Unknown keys are an error that names the key and the section, and lists what is allowed."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    section: ClassVar[str] = "section"

    @model_validator(mode="before")
    @classmethod
    def _known_keys(cls, data: Any) -> Any:
        if isinstance(data, dict):
            allowed = {f.alias or name for name, f in cls.model_fields.items()}
            allowed |= set(cls.model_fields)
            unknown = sorted(str(k) for k in data if k not in allowed)
            if unknown:
                names = sorted(f.alias or name for name, f in cls.model_fields.items())
                where = f"{cls.section} {data['job_name']!r}" if "job_name" in data else cls.section
                raise ValueError(f"unknown key {unknown[0]!r} in {where}; allowed: {', '.join(names)}")
        return data


class BasicAuth(_Strict):
    section: ClassVar[str] = "basic_auth"
    username: str = ""
    password: str = ""
    password_file: str | None = None


class Authorization(_Strict):
    section: ClassVar[str] = "authorization"
    type: str = "Bearer"
    credentials: str = ""
    credentials_file: str | None = None


class TLSConfig(_Strict):
    section: ClassVar[str] = "tls_config"
    ca_file: str | None = None
    ca: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    insecure_skip_verify: bool = False


class StaticConfig(_Strict):
    section: ClassVar[str] = "static_configs"
    targets: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels")
    @classmethod
    def _label_names(cls, labels: dict[str, str]) -> dict[str, str]:
        for name in labels:
            if not LABEL_NAME.match(name):
                raise ValueError(f"label name {name!r} is invalid: must match [a-zA-Z_][a-zA-Z0-9_]*")
        return labels


class FileSDConfig(_Strict):
    section: ClassVar[str] = "file_sd_configs"
    files: list[str]
    refresh_interval: Seconds = 300.0


class HTTPSDConfig(_Strict):
    section: ClassVar[str] = "http_sd_configs"
    url: str
    refresh_interval: Seconds = 60.0
    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    tls_config: TLSConfig | None = None

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"http_sd_configs url must be http:// or https://, got {value!r}")
        return value


class RelabelConfig(_Strict):
    section: ClassVar[str] = "relabel_configs"
    source_labels: list[str] = Field(default_factory=list)
    separator: str = ";"
    regex: str = "(.*)"
    modulus: int = 0
    target_label: str = ""
    replacement: str = "$1"
    action: RelabelAction = "replace"

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            label_regex.validate(value)
        except label_regex.RegexError as exc:
            raise ValueError(f"invalid regex {value!r}: {exc}") from None
        return value

    @field_validator("action", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _needs(self) -> RelabelConfig:
        act = self.action
        if act in ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal") and not self.target_label:
            raise ValueError(f"relabel action {act!r} needs target_label")
        if act == "hashmod" and self.modulus <= 0:
            raise ValueError("relabel action 'hashmod' needs a positive modulus")
        if act in ("lowercase", "uppercase", "keepequal", "dropequal", "hashmod") and not LABEL_NAME.match(
            self.target_label
        ):
            raise ValueError(f"target_label {self.target_label!r} is not a valid label name")
        if act in ("labeldrop", "labelkeep") and (self.source_labels or self.target_label):
            raise ValueError(f"relabel action {act!r} takes only regex (no source_labels or target_label)")
        return self


class GlobalConfig(_Strict):
    section: ClassVar[str] = "global"
    scrape_interval: Seconds = 60.0
    scrape_timeout: Seconds = 10.0
    evaluation_interval: Seconds = 60.0
    external_labels: dict[str, str] = Field(default_factory=dict)


class ScrapeConfig(_Strict):
    """One scrape job. Interval and timeout left unset take the `global:` values."""

    section: ClassVar[str] = "scrape config"
    job_name: str = Field(min_length=1)
    scrape_interval: Seconds | None = None
    scrape_timeout: Seconds | None = None
    metrics_path: str = "/metrics"
    scheme: Literal["http", "https"] = "http"
    params: dict[str, list[str]] = Field(default_factory=dict)
    basic_auth: BasicAuth | None = None
    authorization: Authorization | None = None
    tls_config: TLSConfig | None = None
    static_configs: list[StaticConfig] = Field(default_factory=list)
    file_sd_configs: list[FileSDConfig] = Field(default_factory=list)
    http_sd_configs: list[HTTPSDConfig] = Field(default_factory=list)
    relabel_configs: list[RelabelConfig] = Field(default_factory=list)
    metric_relabel_configs: list[RelabelConfig] = Field(default_factory=list)
    honor_labels: bool = False
    honor_timestamps: bool = True
    sample_limit: int = Field(0, ge=0)
    label_limit: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _one_auth(self) -> ScrapeConfig:
        if self.basic_auth is not None and self.authorization is not None:
            raise ValueError(f"job {self.job_name!r}: set at most one of basic_auth and authorization")
        if not self.metrics_path.startswith("/"):
            raise ValueError(f"job {self.job_name!r}: metrics_path must start with '/', got {self.metrics_path!r}")
        return self

    def interval(self, defaults: GlobalConfig) -> float:
        return self.scrape_interval if self.scrape_interval is not None else defaults.scrape_interval

    def timeout(self, defaults: GlobalConfig) -> float:
        """Prometheus caps the default timeout at the interval; an explicit one above it is an error."""
        interval = self.interval(defaults)
        if self.scrape_timeout is not None:
            return self.scrape_timeout
        return min(defaults.scrape_timeout, interval)


def check_scrape_configs(configs: list[ScrapeConfig], defaults: GlobalConfig) -> list[ScrapeConfig]:
    """Job names unique, timeouts within intervals: the rules that span one config and the global block."""
    seen: set[str] = set()
    for config in configs:
        if config.job_name in seen:
            raise ValueError(f"job_name {config.job_name!r} is used by two scrape configs; job names must be unique")
        seen.add(config.job_name)
        if config.timeout(defaults) > config.interval(defaults):
            raise ValueError(
                f"job {config.job_name!r}: scrape_timeout {format_duration(config.timeout(defaults))} is greater "
                f"than scrape_interval {format_duration(config.interval(defaults))}"
            )
    return configs
