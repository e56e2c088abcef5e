"""What a check is, as a user writes it (YAML `checks:` or `POST /api/v1/checks`): one validated model.

The model is flat on purpose: the type-specific fields sit beside the common ones, so a YAML entry reads
like the form a person fills in. Validation names the field and says what is allowed.
"""

from __future__ import annotations

import re
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from croniter import croniter  # type: ignore[import-untyped,unused-ignore]
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from nightowl.health.jsonpath import parse_json_path

CheckType = Literal["http", "tls", "tcp", "dns", "postgres", "redis", "heartbeat"]
CHECK_TYPES: tuple[str, ...] = ("http", "tls", "tcp", "dns", "postgres", "redis", "heartbeat")
HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
_STATUS_PATTERN = re.compile(r"^[1-5]xx$|^[1-5][0-9][0-9]$")
_NAME_PATTERN = re.compile(r"^[^\x00-\x1f]{1,200}$")
_LABEL_PATTERN = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
RESERVED_LABELS = frozenset({"check", "type", "service"})


class Assertion(BaseModel):
    """A condition on an HTTP response body. A failing hard assertion is down, a soft one degraded."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["keyword", "not_keyword", "json_path"]
    value: str = Field("", description="Text to find (`keyword`) or to be absent (`not_keyword`).")
    path: str = Field("", description="JSON path such as `$.status` or `$.items[0].name` (`json_path`).")
    equals: str | int | float | bool | None = Field(
        None, description="Expected value at `path`; unset means the path must exist."
    )
    soft: bool = Field(False, description="A failing soft assertion makes the check degraded, not down.")

    @model_validator(mode="after")
    def _complete(self) -> Assertion:
        if self.type in ("keyword", "not_keyword") and not self.value:
            raise ValueError(f"a {self.type} assertion needs a non-empty `value`")
        if self.type == "json_path":
            parse_json_path(self.path)
        return self


class CheckSpec(BaseModel):
    """One check definition. `target` is a URL (http), `host:port` (tcp, tls), a host name (dns),
    a `postgresql://` DSN (postgres) or a `redis://` URL (redis); heartbeats have no target."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., description="Unique name, shown in alerts and status pages.")
    type: CheckType
    target: str = ""
    interval: float = Field(60.0, ge=1, le=86400, description="Seconds between runs.")
    timeout: float = Field(10.0, gt=0, le=300, description="Seconds one run may take before it counts as down.")
    service: str | None = Field(None, description="Service the check belongs to (dependencies, status pages).")
    enabled: bool = True
    labels: dict[str, str] = Field(default_factory=dict, description="Extra labels on the check's metrics.")
    degraded_latency: float | None = Field(
        None, gt=0, description="Seconds of latency above which a passing run is degraded."
    )
    failures_to_down: int = Field(1, ge=1, le=100, description="Consecutive failures before the state is down.")
    successes_to_recover: int = Field(1, ge=1, le=100, description="Consecutive successes before a down recovers.")
    # http
    method: HttpMethod = "GET"
    headers: dict[str, str] = Field(default_factory=dict)
    body: str | None = None
    expected_status: list[str] = Field(default_factory=lambda: ["2xx", "3xx"])
    follow_redirects: bool = True
    verify_tls: bool = Field(True, description="Verify the server certificate (http); tls checks never verify.")
    ca_file: str | None = Field(None, description="PEM file of extra CA certificates to trust (http).")
    assertions: list[Assertion] = Field(default_factory=list)
    # tls
    server_name: str | None = Field(None, description="SNI host name (tls); defaults to the target host.")
    tls_warn_days: float = Field(14.0, ge=0, description="Fewer days left than this: degraded.")
    tls_critical_days: float = Field(0.0, ge=0, description="Fewer days left than this (or expired): down.")
    # dns
    record_type: Literal["A", "AAAA", "ANY"] = "ANY"
    expected_addresses: list[str] = Field(default_factory=list)
    # heartbeat
    period: float | None = Field(None, ge=1, description="Seconds between expected pings (heartbeat).")
    cron: str | None = Field(None, description="Cron expression of expected pings (heartbeat).")
    tz: str = Field("UTC", description="Time zone of `cron`.")
    grace: float = Field(60.0, ge=0, description="Seconds a heartbeat may be late before it is down.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not _NAME_PATTERN.match(value):
            raise ValueError("must be 1 to 200 printable characters")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _LABEL_PATTERN.match(name) or name.startswith("__"):
                raise ValueError(f"label name {name!r} is invalid: must match [a-zA-Z_][a-zA-Z0-9_]*, no __ prefix")
            if name in RESERVED_LABELS:
                raise ValueError(f"label name {name!r} is set by Nightowl (check, type, service); choose another")
        return value

    @field_validator("expected_status", mode="before")
    @classmethod
    def _statuses(cls, value: object) -> object:
        if isinstance(value, list):
            return [str(v) for v in value]
        return value

    @model_validator(mode="after")
    def _type_fields(self) -> CheckSpec:
        for status in self.expected_status:
            if not _STATUS_PATTERN.match(status):
                raise ValueError(
                    f"expected_status {status!r} is invalid: use a code such as 200 or a class such as 2xx"
                )
        if self.type == "heartbeat":
            self._heartbeat_fields()
            return self
        if not self.target:
            raise ValueError(f"a {self.type} check needs a `target`")
        if self.type == "http" and not re.match(r"^https?://[^/\s]+", self.target):
            raise ValueError(f"target {self.target!r} must be an http:// or https:// URL")
        if self.type == "http":
            try:  # what the HTTP client will refuse (e.g. an octal IPv4 host) is refused here, not at run time
                httpx.URL(self.target)
            except httpx.InvalidURL as exc:
                raise ValueError(f"target {self.target!r} is not a URL the checker can use: {exc}") from None
        if self.type in ("tcp", "tls"):
            split_host_port(self.target)
        if self.type == "postgres" and not self.target.startswith(("postgresql://", "postgres://")):
            raise ValueError("target must be a postgresql:// DSN")
        if self.type == "redis" and not self.target.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("target must be a redis://, rediss:// or unix:// URL")
        if self.timeout > self.interval:
            raise ValueError(f"timeout ({self.timeout:g}s) must not exceed interval ({self.interval:g}s)")
        return self

    def _heartbeat_fields(self) -> None:
        if (self.period is None) == (self.cron is None):
            raise ValueError("a heartbeat needs exactly one of `period` (seconds) and `cron`")
        if self.cron is not None and not croniter.is_valid(self.cron):
            raise ValueError(f"cron {self.cron!r} is not a valid cron expression")
        try:
            ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"tz {self.tz!r} is not a known time zone (e.g. UTC, Europe/Paris)") from None


def split_host_port(target: str) -> tuple[str, int]:
    """`host:port` or `[v6]:port` -> (host, port); raises ValueError naming what is wrong."""
    host, sep, port_text = target.rpartition(":")
    if not sep or not host or not port_text.isdigit():
        raise ValueError(f"target {target!r} must be host:port")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"target {target!r}: port must be 1-65535")
    return host.strip("[]"), port


def status_matches(code: int, expected: list[str]) -> bool:
    text = str(code)
    return any(text == e or (e.endswith("xx") and text[0] == e[0]) for e in expected)
