"""The message a channel sends: one notification, channel-neutral, stored in the outbox as JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from nightowl.routing.alert import Alert
from nightowl.routing.grouping import Notification

SEVERITY_RANK = {"info": 1, "warning": 2, "error": 3, "critical": 4}


def iso(timestamp: float | None) -> str:
    """RFC 3339 as Alertmanager writes it; the zero time for an open end."""
    if timestamp is None:
        return "0001-01-01T00:00:00Z"
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class AlertView:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: float
    ends_at: float | None
    generator_url: str
    fingerprint: str

    @classmethod
    def of(cls, alert: Alert, status: str) -> AlertView:
        return cls(
            status,
            dict(alert.labels),
            dict(alert.annotations),
            alert.starts_at,
            alert.ends_at if status == "resolved" else None,
            alert.generator_url,
            alert.fingerprint,
        )


@dataclass(frozen=True)
class Message:
    id: str
    kind: str  # alert | test | escalation
    receiver: str
    status: str  # firing | resolved
    group_key: str
    group_labels: dict[str, str]
    alerts: tuple[AlertView, ...]
    external_url: str = ""
    note: str = ""

    @property
    def firing(self) -> list[AlertView]:
        return [a for a in self.alerts if a.status == "firing"]

    @property
    def resolved(self) -> list[AlertView]:
        return [a for a in self.alerts if a.status == "resolved"]

    @property
    def common_labels(self) -> dict[str, str]:
        return _common([a.labels for a in self.alerts])

    @property
    def common_annotations(self) -> dict[str, str]:
        return _common([a.annotations for a in self.alerts])

    @property
    def severity(self) -> str:
        ranked = [a.labels.get("severity", "") for a in self.alerts]
        return max(ranked, key=lambda s: SEVERITY_RANK.get(s, 0), default="")

    @property
    def title(self) -> str:
        name = self.common_labels.get("alertname") or " ".join(self.group_labels.values()) or self.receiver
        count = f":{len(self.firing)}" if self.status == "firing" else ""
        return f"[{self.status.upper()}{count}] {name}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        alerts = tuple(AlertView(**a) for a in data.pop("alerts"))
        return cls(alerts=alerts, **data)


def _common(maps: list[dict[str, str]]) -> dict[str, str]:
    if not maps:
        return {}
    common = dict(maps[0])
    for other in maps[1:]:
        common = {k: v for k, v in common.items() if other.get(k) == v}
    return common


def from_notification(message_id: str, notification: Notification, external_url: str) -> Message:
    alerts = tuple(AlertView.of(a, "firing") for a in notification.firing) + tuple(
        AlertView.of(a, "resolved") for a in notification.resolved
    )
    return Message(
        id=message_id,
        kind="alert",
        receiver=notification.receiver,
        status=notification.status,
        group_key=notification.group_key,
        group_labels=dict(notification.group_labels),
        alerts=alerts,
        external_url=external_url,
    )


def meets_severity(message: Message, minimum: str | None) -> bool:
    """Resolved notices pass whenever their firing notice did; unknown severities rank lowest."""
    if not minimum:
        return True
    return SEVERITY_RANK.get(message.severity, 0) >= SEVERITY_RANK.get(minimum, 0)
