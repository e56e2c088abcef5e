"""The integration hub of one instance: the event bus wired to checks and alerts, webhooks, forwarders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine

from nightowl.auth.secrets import SecretBox
from nightowl.core.clock import Clock
from nightowl.core.scheduler import Job, Scheduler
from nightowl.core.telemetry import Telemetry
from nightowl.health.events import CheckEvent
from nightowl.integrations.events import EventBus, alert_payload, check_event_type, check_payload
from nightowl.integrations.forward import manage
from nightowl.integrations.forward.buffer import DiskBuffer
from nightowl.integrations.forward.forwarder import Forwarder, ForwardMetrics
from nightowl.integrations.webhooks import Webhooks
from nightowl.metrics.model import SampleBatch
from nightowl.notify.outbox import OutboxSettings
from nightowl.routing.alert import Alert
from nightowl.routing.escalation import Escalation


@dataclass
class Hub:
    bus: EventBus
    webhooks: Webhooks
    engine: Engine
    clock: Clock
    box: SecretBox
    http: Callable[[], httpx.AsyncClient]
    scheduler: Scheduler
    data_dir: Path
    timeout: float
    forward_metrics: ForwardMetrics
    forwarders: dict[str, Forwarder] = field(default_factory=dict)

    # --- events ---

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

    # --- forwarders ---

    def on_samples(self, batch: SampleBatch) -> None:
        """The ingest listener: every stored, validated batch is offered to each forwarder."""
        for forwarder in list(self.forwarders.values()):
            forwarder.offer(batch)

    def load_forwarders(self) -> None:
        for stored in manage.load(self.engine):
            self._install(stored)

    def _install(self, stored: manage.StoredForwarder) -> None:
        job_name = f"forward-{stored.type}"
        self.scheduler.remove(job_name)
        self.forwarders.pop(stored.type, None)
        if not stored.enabled:
            return
        config = stored.runtime_config(self.box, self.timeout)
        segment = max(1024, min(1 << 20, config.max_buffer_bytes // 4))  # the cap always spans a few segments
        buffer = DiskBuffer(manage.buffer_dir(self.data_dir, stored.type), config.max_buffer_bytes, segment)
        forwarder = Forwarder(config, buffer, self.clock, self.http, self.forward_metrics)
        self.forwarders[stored.type] = forwarder
        self.forward_metrics.buffer.labels(stored.type).set(buffer.bytes)
        self.scheduler.add(
            Job(
                job_name,
                forwarder.drain,
                interval=1,
                timeout=60,
                description=f"Send buffered samples to the {stored.type} forwarder, in batches, with retries.",
            )
        )

    def store(self, kind: str, body: dict[str, Any]) -> manage.StoredForwarder:
        """Validate and save a forwarder's configuration (database work: call it off the event loop)."""
        previous = next((f for f in manage.load(self.engine) if f.type == kind), None)
        settings = manage.prepare(kind, body, self.box, previous)
        stored = manage.StoredForwarder(kind, settings, bool(body.get("enabled", True)), self.clock.now())
        manage.save(self.engine, stored)
        return stored

    def install(self, stored: manage.StoredForwarder) -> dict[str, Any]:
        """(Re)start the forwarder of a stored configuration; on the event loop, as it touches the scheduler."""
        self._install(stored)
        return self.describe(stored)

    def uninstall(self, kind: str) -> None:
        self.scheduler.remove(f"forward-{kind}")
        self.forwarders.pop(kind, None)

    def describe(self, stored: manage.StoredForwarder) -> dict[str, Any]:
        forwarder = self.forwarders.get(stored.type)
        return stored.public() | {"status": forwarder.status() if forwarder else None}

    def _prune(self) -> None:
        self.webhooks.prune()

    def jobs(self) -> list[Job]:
        return [
            Job(
                "integration-webhooks",
                self.webhooks.run,
                interval=1,
                timeout=30,
                description="Send due event webhook deliveries, signed, with retries and backoff.",
            ),
            Job(
                "integration-webhooks-prune",
                self._prune,
                interval=3600,
                timeout=300,
                jitter=60,
                description="Forget event webhook deliveries delivered or dead more than 7 days ago.",
            ),
        ]


def build_hub(
    engine: Engine,
    clock: Clock,
    box: SecretBox,
    http: Callable[[], httpx.AsyncClient],
    telemetry: Telemetry,
    scheduler: Scheduler,
    data_dir: Path,
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
    hub = Hub(
        bus, webhooks, engine, clock, box, http, scheduler, data_dir, timeout, ForwardMetrics.on(telemetry.registry)
    )
    hub.load_forwarders()
    return hub
