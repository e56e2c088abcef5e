"""Metrics of alert delivery, on the instance's telemetry registry."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from nightowl.core.telemetry import LATENCY_BUCKETS, Telemetry


class DeliveryMetrics:
    def __init__(self, telemetry: Telemetry) -> None:
        self.attempts = Counter(
            "nightowl_notification_attempts_total",
            "Notification send attempts, by channel kind and result (delivered, retry, dead).",
            ["kind", "result"],
            registry=telemetry.registry,
        )
        self.latency = Histogram(
            "nightowl_notification_send_duration_seconds",
            "Time one notification send took, by channel kind.",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=telemetry.registry,
        )
