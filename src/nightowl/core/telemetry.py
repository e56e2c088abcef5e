"""Nightowl's own metrics, on a registry per instance so several apps in one process never collide."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from nightowl.core.scheduler import JobStatus

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


class _SchedulerCollector(Collector):
    """How late the scheduler's jobs start and how many runs they missed, read from its statuses at scrape time.

    Rule groups (jobs named `<rule_prefix><group>`) are also exported under the names Prometheus uses for its
    own rule groups, so a "rule evaluation is falling behind" alert reads the same on both.
    """

    def __init__(self, statuses: Callable[[], list[JobStatus]], rule_prefix: str) -> None:
        self._statuses, self._prefix = statuses, rule_prefix

    def collect(self) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "nightowl_job_last_lag_seconds",
            "Seconds between the time a job's last run was due and its start.",
            labels=["job"],
        )
        missed = CounterMetricFamily(
            "nightowl_job_missed_runs",
            "Runs of a job that never happened: slots passed while it was late, or skipped because it still ran.",
            labels=["job"],
        )
        group_lag = GaugeMetricFamily(
            "nightowl_rule_group_last_evaluation_lag_seconds",
            "Seconds between the slot of a rule group's last evaluation and its start.",
            labels=["rule_group"],
        )
        group_missed = CounterMetricFamily(
            "nightowl_rule_group_iterations_missed",
            "Rule group evaluations missed because the previous one was still running or ran late.",
            labels=["rule_group"],
        )
        group_duration = GaugeMetricFamily(
            "nightowl_rule_group_last_duration_seconds",
            "Duration of the last evaluation of a rule group.",
            labels=["rule_group"],
        )
        for status in self._statuses():
            lost = float(status.missed_slots + status.skipped_overlaps)
            missed.add_metric([status.name], lost)
            if status.last_lag is not None:
                lag.add_metric([status.name], status.last_lag)
            if not status.name.startswith(self._prefix):
                continue
            group = status.name[len(self._prefix) :]
            group_missed.add_metric([group], lost)
            if status.last_lag is not None:
                group_lag.add_metric([group], status.last_lag)
            if status.last_duration is not None:
                group_duration.add_metric([group], status.last_duration)
        yield from (lag, missed, group_lag, group_missed, group_duration)


class Telemetry:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        # The standard process_* and python_* series every Prometheus client exports, so the usual
        # dashboards and alerts for memory, CPU, file descriptors and GC work on Nightowl too.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)  # registers nothing where the interpreter has no gc.get_stats
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

    def add_scheduler(self, statuses: Callable[[], list[JobStatus]], rule_prefix: str) -> None:
        """Export the scheduler's lag and missed runs (and those of rule groups) at scrape time."""
        self.registry.register(_SchedulerCollector(statuses, rule_prefix))

    def add_callback_gauge(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        """One gauge without labels, read at scrape time."""
        Gauge(name, documentation, registry=self.registry).set_function(read)

    def add_callback_gauges(
        self, name: str, documentation: str, label: str, read: Callable[[], dict[str, float]]
    ) -> None:
        self.registry.register(_CallbackGauges(name, documentation, label, read))
