"""Nightowl's own metrics, on a registry per instance so several apps in one process never collide."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class _CallbackGauges(Collector):
    """Gauges computed at scrape time (pool sizes, disk space) from a callback returning name -> value."""

    def __init__(self, name: str, documentation: str, label: str, read: Callable[[], dict[str, float]]) -> None:
        self._name, self._doc, self._label, self._read = name, documentation, label, read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self._name, self._doc, labels=[self._label])
        for key, value in self._read().items():
            family.add_metric([key], value)
        yield family


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.http_requests = Counter(
            "nightowl_http_requests_total",
            "HTTP requests answered, by method, route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.http_duration = Histogram(
            "nightowl_http_request_duration_seconds",
            "Time to answer HTTP requests, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.job_runs = Counter(
            "nightowl_job_runs_total",
            "Scheduler job runs, by job and result (success or failure).",
            ["job", "result"],
            registry=self.registry,
        )
        self.job_duration = Histogram(
            "nightowl_job_duration_seconds",
            "Duration of scheduler job runs.",
            ["job"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.job_last_run = Gauge(
            "nightowl_job_last_run_timestamp_seconds",
            "Unix time of the last run of each scheduler job.",
            ["job"],
            registry=self.registry,
        )
        self.component_status = Gauge(
            "nightowl_component_status",
            "Health of each component of Nightowl: 0 ok, 1 degraded, 2 down.",
            ["component"],
            registry=self.registry,
        )
        self.build_info = Gauge(
            "nightowl_build_info", "Always 1; labels carry the version.", ["version"], registry=self.registry
        )

    def add_callback_gauges(
        self, name: str, documentation: str, label: str, read: Callable[[], dict[str, float]]
    ) -> None:
        self.registry.register(_CallbackGauges(name, documentation, label, read))
