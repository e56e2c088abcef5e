"""Test factories for alerts and routes."""

from __future__ import annotations

from typing import Any

from nightowl.routing.alert import Alert
from nightowl.routing.route import Route, parse_route

T0 = 1_700_000_000.0


def alert(name: str = "HighLatency", starts_at: float = T0, ends_at: float | None = None, **labels: str) -> Alert:
    return Alert(labels={"alertname": name, **labels}, starts_at=starts_at, ends_at=ends_at, updated_at=starts_at)


def route(**spec: Any) -> Route:
    values: dict[str, Any] = {
        "receiver": "team",
        "group_by": ["alertname"],
        "group_wait": "30s",
        "group_interval": "5m",
        "repeat_interval": "4h",
    }
    values.update(spec)
    return parse_route(values)
