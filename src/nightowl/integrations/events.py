"""The in-process event bus: checks and alerts publish, webhook subscriptions (and anything else) listen.

`publish` calls every subscriber synchronously in order; a failing subscriber is logged and the others
still run, so a broken integration never breaks the check runner or the alert dispatcher.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nightowl.core.clock import Clock
from nightowl.core.ids import new_id
from nightowl.health.events import CheckEvent
from nightowl.routing.alert import Alert

log = logging.getLogger(__name__)

EVENT_TYPES = (
    "alert.firing",
    "alert.resolved",
    "alert.acknowledged",
    "check.down",
    "check.recovered",
    "check.degraded",
    "report.generated",
    "integration.test",
)


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    at: float
    payload: dict[str, Any]

    def envelope(self) -> dict[str, Any]:
        """The JSON body a webhook receives."""
        return {"id": self.id, "type": self.type, "at": self.at, "data": self.payload}


Subscriber = Callable[[Event], None]


@dataclass
class EventBus:
    clock: Clock
    subscribers: list[Subscriber] = field(default_factory=list)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.append(subscriber)

    def publish(self, event_type: str, payload: dict[str, Any]) -> Event:
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")
        event = Event(new_id(), event_type, self.clock.now(), payload)
        for subscriber in list(self.subscribers):
            try:
                subscriber(event)
            except Exception:
                log.exception("event subscriber failed", extra={"event": event_type})
        return event


def check_event_type(event: CheckEvent) -> str | None:
    """The bus event of a check state change; suppressed ones (maintenance, parent down) publish nothing."""
    return None if event.suppressed else event.kind


def check_payload(event: CheckEvent) -> dict[str, Any]:
    return {
        "check_id": event.check_id,
        "check_name": event.check_name,
        "check_type": event.check_type,
        "service": event.service,
        "previous": event.previous,
        "state": event.state,
        "reason": event.reason,
        "at": event.at,
        "labels": dict(event.labels),
    }


def alert_payload(alert: Alert, status: str) -> dict[str, Any]:
    return {
        "fingerprint": alert.fingerprint,
        "status": status,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "starts_at": alert.starts_at,
        "ends_at": alert.ends_at,
        "generator_url": alert.generator_url,
    }
