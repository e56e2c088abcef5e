"""The routing configuration: Nightowl's default tree, or an existing alertmanager.yml taken as is.

Everything alertmanager.yml can say that Nightowl does not do is listed in `unsupported` and logged at
start-up, never silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from nightowl.core.errors import ConfigError, InvalidInput
from nightowl.routing.durations import parse_duration
from nightowl.routing.inhibit import InhibitRule, parse_inhibit_rules
from nightowl.routing.route import Route, parse_route
from nightowl.routing.timeintervals import TimeInterval, parse_time_intervals

DEFAULT_RECEIVER = "default"
DEFAULT_RESOLVE_TIMEOUT = 300.0


@dataclass(frozen=True)
class ChannelSpec:
    """A channel a receiver of alertmanager.yml declares, translated to Nightowl's channel fields."""

    receiver: str
    kind: str
    index: int
    config: dict[str, Any]
    send_resolved: bool

    @property
    def id(self) -> str:
        return f"am-{self.receiver}-{self.kind}-{self.index}"


@dataclass
class RoutingConfig:
    route: Route
    inhibit_rules: list[InhibitRule] = field(default_factory=list)
    time_intervals: dict[str, list[TimeInterval]] = field(default_factory=dict)
    receivers: list[str] = field(default_factory=list)
    channels: list[ChannelSpec] = field(default_factory=list)
    resolve_timeout: float = DEFAULT_RESOLVE_TIMEOUT
    unsupported: list[str] = field(default_factory=list)
    original: str = ""
    source: str = "default"


DEFAULT_ALERTMANAGER_YML = f"""\
# Nightowl's routing without an alertmanager_config file: one route to the receiver
# {DEFAULT_RECEIVER!r}; channels added through /api/v1/channels join that receiver.
global:
  resolve_timeout: 5m
route:
  receiver: {DEFAULT_RECEIVER}
  group_by: [alertname]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: {DEFAULT_RECEIVER}
"""


def default_config() -> RoutingConfig:
    """Without alertmanager.yml: one root route to the `default` receiver, grouped by alertname.

    Built from its alertmanager.yml text, so `/api/v2/status` shows it and `amtool config routes` reads it.
    """
    return parse_alertmanager_config(DEFAULT_ALERTMANAGER_YML, source="default")


_GLOBAL_KEYS = {
    "resolve_timeout",
    "smtp_from",
    "smtp_smarthost",
    "smtp_auth_username",
    "smtp_auth_password",
    "smtp_require_tls",
    "smtp_hello",
    "slack_api_url",
    "pagerduty_url",
    "telegram_api_url",
    "webex_api_url",
}
_TOP_KEYS = {"global", "route", "receivers", "inhibit_rules", "time_intervals", "mute_time_intervals", "templates"}


def _split_host(smarthost: str, where: str) -> tuple[str, int]:
    host, _, port = smarthost.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInput(f"{where}: smarthost {smarthost!r} must be host:port", field=where)
    return host, int(port)


def _translate(
    kind: str, spec: Mapping[str, Any], glob: Mapping[str, Any], where: str, notes: list[str]
) -> dict[str, Any]:
    """One *_configs entry -> Nightowl channel config; notes collect what is not supported."""
    handled: set[str] = {"send_resolved"}
    config: dict[str, Any] = {}

    def take(key: str, target: str | None = None, default: Any = None) -> None:
        handled.add(key)
        value = spec.get(key, default)
        if value is not None:
            config[target or key] = value

    if kind == "webhook":
        take("url")
        take("max_alerts")
        if "url" not in config:
            raise InvalidInput(f"{where}: url is required", field=where)
        config["format"] = "alertmanager"
    elif kind == "email":
        take("to")
        take("from", "from", glob.get("smtp_from"))
        smarthost = spec.get("smarthost", glob.get("smtp_smarthost"))
        handled.add("smarthost")
        if not smarthost or not config.get("to") or not config.get("from"):
            raise InvalidInput(f"{where}: to, from and smarthost are required", field=where)
        config["host"], config["port"] = _split_host(str(smarthost), where)
        take("auth_username", "username", glob.get("smtp_auth_username"))
        take("auth_password", "password", glob.get("smtp_auth_password"))
        require_tls = spec.get("require_tls", glob.get("smtp_require_tls", True))
        handled.add("require_tls")
        config["tls"] = "tls" if config["port"] == 465 else ("starttls" if require_tls else "none")
    elif kind == "slack":
        take("api_url", "webhook_url", glob.get("slack_api_url"))
        take("channel")
        take("username")
        if "webhook_url" not in config:
            raise InvalidInput(f"{where}: api_url (the incoming webhook URL) is required", field=where)
    elif kind == "pagerduty":
        take("routing_key")
        take("url", "api_url", glob.get("pagerduty_url"))
        take("client")
        take("client_url")
        take("severity")
        if "routing_key" not in config:
            problem = "service_key (Events API v1) is not supported" if "service_key" in spec else "required"
            raise InvalidInput(f"{where}: routing_key (Events API v2) is {problem}", field=where)
    elif kind == "msteams":
        take("webhook_url", "url")
    elif kind == "discord":
        take("webhook_url")
    elif kind == "telegram":
        take("bot_token")
        take("chat_id")
        take("api_url", "api_url", glob.get("telegram_api_url"))
    for key in sorted(set(spec) - handled):
        notes.append(f"{where}.{key} is not supported and is ignored (Nightowl's templates and HTTP settings apply)")
    return config


def _check_channel(kind: str, config: dict[str, Any], where: str) -> None:
    """The checks the stored channel will get at start-up, run here so `check-config` and `serve` agree."""
    from nightowl.notify.channels import channel_class  # routing is loaded before the channels it feeds

    try:
        channel_class(kind).validate(config)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.detail}", field=where) from None


_KINDS = {
    "webhook_configs": ("webhook", True),
    "email_configs": ("email", False),
    "slack_configs": ("slack", False),
    "pagerduty_configs": ("pagerduty", True),
    "msteams_configs": ("teams", True),
    "discord_configs": ("discord", True),
    "telegram_configs": ("telegram", True),
}


def parse_alertmanager_config(text: str, source: str = "alertmanager.yml") -> RoutingConfig:
    """Parse an alertmanager.yml; raises InvalidInput naming the offending key."""
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidInput(f"{source} must be a mapping")
    notes = [f"{key} is not supported and is ignored" for key in sorted(set(raw) - _TOP_KEYS)]
    if raw.get("templates"):
        notes.append("templates (Go templates) are not supported: Nightowl's Jinja2 templates render messages")
    glob = dict(raw.get("global") or {})
    notes += [f"global.{key} is not supported and is ignored" for key in sorted(set(glob) - _GLOBAL_KEYS)]
    intervals = parse_time_intervals(list(raw.get("time_intervals") or []) + list(raw.get("mute_time_intervals") or []))
    if "route" not in raw:
        raise InvalidInput(f"{source}: a route is required", field="route")
    route = parse_route(raw["route"])
    receivers: list[str] = []
    channels: list[ChannelSpec] = []
    for i, receiver in enumerate(raw.get("receivers") or []):
        name = str(receiver.get("name") or "")
        if not name:
            raise InvalidInput(f"receivers[{i}]: name is required", field="receivers")
        if name in receivers:
            raise InvalidInput(f"receivers: duplicate name {name!r}", field="receivers")
        receivers.append(name)
        for key in receiver:
            if key == "name":
                continue
            if key not in _KINDS:
                notes.append(f"receivers[{name}].{key} is not supported: those notifications are not sent")
                continue
            kind, resolved_default = _KINDS[key]
            for j, spec in enumerate(receiver[key] or []):
                where = f"receivers[{name}].{key}[{j}]"
                config = _translate(kind, spec, glob, where, notes)
                _check_channel(kind, config, where)
                channels.append(ChannelSpec(name, kind, j, config, bool(spec.get("send_resolved", resolved_default))))
    for r in route.walk():
        if r.receiver not in receivers:
            raise InvalidInput(f"route: receiver {r.receiver!r} is not defined in receivers", field="route")
        for name in r.mute_time_intervals + r.active_time_intervals:
            if name not in intervals:
                raise InvalidInput(f"route: time interval {name!r} is not defined", field="time_intervals")
    return RoutingConfig(
        route=route,
        inhibit_rules=parse_inhibit_rules(raw.get("inhibit_rules") or []),
        time_intervals=intervals,
        receivers=receivers,
        channels=channels,
        resolve_timeout=parse_duration(glob.get("resolve_timeout", "5m"), "global.resolve_timeout"),
        unsupported=notes,
        original=text,
        source=source,
    )


def load_alertmanager_config(path: Path) -> RoutingConfig:
    """Read the file named by `alertmanager_config`; any problem is a one-line ConfigError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"alertmanager_config: cannot read {path}: {exc.strerror or exc}") from None
    try:
        return parse_alertmanager_config(text, str(path))
    except InvalidInput as exc:
        raise ConfigError(f"alertmanager_config {path}: {exc.detail}") from None
    except (TypeError, AttributeError, ValueError, KeyError) as exc:
        # a section of the wrong shape (a list where a mapping belongs, a number where a list does)
        raise ConfigError(f"alertmanager_config {path}: a section has the wrong shape ({exc})") from None
