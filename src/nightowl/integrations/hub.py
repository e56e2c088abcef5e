"""The integration hub of one instance: the event bus wired to checks and alerts, webhooks, forwarders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import httpx
from sqlalchemy import Engine

from nightowl.auth.secrets import SecretBox
from nightowl.core.clock import Clock
from nightowl.core.scheduler import Job
from nightowl.core.telemetry import Telemetry
from nightowl.health.events import CheckEvent
from nightowl.integrations.events import EventBus, alert_payload, check_event_type, check_payload
from nightowl.integrations.webhooks import Webhooks
from nightowl.notify.outbox import OutboxSettings
from nightowl.routing.alert import Alert
from nightowl.routing.escalation import Escalation


@dataclass
class Hub:
    bus: EventBus
    webhooks: Webhooks

    def on_check_event(self, event: CheckEvent) -> None:
        kind = check_event_type(event)
        if kind is not None:
            self.bus.publish(kind, check_payload(event))

    def on_alert(self, status: str, alert: Alert) -> None:
        self.bus.publish(f"alert.{status}", alert_payload(alert, status))

    def on_acknowledged(self, escalation: Escalation) -> None:
        payload = alert_payload(escalation.alert, "acknowledged")
        payload["acknowledged_by"] = escalation.acknowledged_by
        self.bus.publish("alert.acknowledged", payload)

    def jobs(self) -> list[Job]:
        return [
            Job(
                "integration-webhooks",
                self.webhooks.run,
                interval=1,
                timeout=30,
                description="Send due event webhook deliveries, signed, with retries and backoff.",
            )
        ]


def build_hub(
    engine: Engine,
    clock: Clock,
    box: SecretBox,
    http: Callable[[], httpx.AsyncClient],
    telemetry: Telemetry,
    timeout: float,
) -> Hub:
    bus = EventBus(clock)
    webhooks = Webhooks(engine, clock, box, http, settings=OutboxSettings(timeout=timeout), registry=telemetry.registry)
    bus.subscribe(webhooks.on_event)
    telemetry.add_callback_gauges(
        "nightowl_integration_webhook_deliveries",
        "Event webhook deliveries in the queue, by status.",
        "status",
        webhooks.counts,
    )
    return Hub(bus, webhooks)
