"""PromQL engine latency on a tsbench-like workload (10k series x 2 h @ 15 s), without HTTP.

The tsbench query set runs as instant queries at the last sample and as range queries over the
whole window at step 60 s, against an in-memory array Querier (what a TSDB head serves), so the
figures measure the engine: selection + evaluation, not storage decoding.

    .venv/bin/python bench/promql_bench.py [--series 10000] [--hours 2] [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence

import numpy as np

from nightowl.metrics.api import SelectHints
from nightowl.metrics.model import METRIC_NAME, Labels, Matcher, Series
from nightowl.promql.engine import PromQLEngine

QUERIES = [
    ("rate", "rate(http_requests_total[5m])"),
    ("sum_rate_by_job", "sum by (job) (rate(http_requests_total[5m]))"),
    ("hist_p99", "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"),
    ("topk_mem", "topk(10, node_memory_free_bytes)"),
    ("avg_over_time_1h", "avg_over_time(app_queue_depth[1h])"),
    ("regex_5xx", 'sum by (instance) (rate(http_requests_total{status=~"5..",method=~"GET|POST"}[5m]))'),
    ("cpu_busy_by_instance", 'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))'),
    ("count_by_name", 'count by (__name__) ({__name__=~".+"})'),
]
APP_JOBS = ["api", "web", "auth", "billing", "search"]
MODES = ["idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice"]
LE = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"]


def host_series(host: int) -> list[tuple[dict[str, str], str]]:
    """The 100 series of one host (45 node exporter + 55 application), with their kind of values."""
    ip = f"10.0.{host // 256}.{host % 256}"
    node = {"job": "node", "instance": f"{ip}:9100"}
    app = {"job": APP_JOBS[host % len(APP_JOBS)], "instance": f"{ip}:8080"}
    out: list[tuple[dict[str, str], str]] = []
    for cpu in range(4):
        for mode in MODES:
            out.append(({"__name__": "node_cpu_seconds_total", "cpu": str(cpu), "mode": mode, **node}, "counter"))
    for name in ("node_memory_free_bytes", "node_load1"):
        out.append(({"__name__": name, **node}, "gauge"))
    for name in ("node_memory_MemTotal_bytes", "node_boot_time_seconds", "up"):
        out.append(({"__name__": name, **node}, "const"))
    for mount in ("/", "/var", "/home"):
        out.append(({"__name__": "node_filesystem_avail_bytes", "mountpoint": mount, **node}, "gauge"))
    for name in ("node_network_receive_bytes_total", "node_network_transmit_bytes_total"):
        for device in ("eth0", "lo"):
            out.append(({"__name__": name, "device": device, **node}, "counter"))
    out.append(({"__name__": "node_context_switches_total", **node}, "counter"))
    for method in ("GET", "POST", "PUT", "DELETE"):
        for status in ("200", "201", "404", "500", "503"):
            out.append(({"__name__": "http_requests_total", "method": method, "status": status, **app}, "counter"))
    for method in ("GET", "POST"):
        for le in LE:
            labels = {"__name__": "http_request_duration_seconds_bucket", "method": method, "le": le, **app}
            out.append((labels, "bucket:" + le))
        out.append(({"__name__": "http_request_duration_seconds_sum", "method": method, **app}, "counter"))
        out.append(({"__name__": "http_request_duration_seconds_count", "method": method, **app}, "counter"))
    for queue in ("a", "b", "c"):
        out.append(({"__name__": "app_queue_depth", "queue": queue, **app}, "gauge"))
    for name in ("process_resident_memory_bytes", "go_goroutines"):
        out.append(({"__name__": name, **app}, "gauge"))
    out.append(({"__name__": "process_cpu_seconds_total", **app}, "counter"))
    out.append(({"__name__": "up", **app}, "const"))
    return out


class ArrayQuerier:
    """Series held as aligned numpy rows, with a name index: the shape a TSDB head answers from."""

    def __init__(self, labels: list[Labels], timestamps: np.ndarray, values: np.ndarray) -> None:
        self.labels = labels
        self.timestamps = timestamps
        self.values = values
        self.select_seconds = 0.0
        self.by_name: dict[str, list[int]] = {}
        for i, series in enumerate(labels):
            self.by_name.setdefault(dict(series)[METRIC_NAME], []).append(i)

    def select(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, hints: SelectHints | None = None
    ) -> list[Series]:
        started = time.perf_counter()
        rows: list[int] | range = range(len(self.labels))
        for m in matchers:
            if m.name == METRIC_NAME and m.op == "=":
                rows = self.by_name.get(m.value, [])
        rest = [m for m in matchers if not (m.name == METRIC_NAME and m.op == "=")]
        out = []
        for i in rows:
            present = dict(self.labels[i])
            if all(m.matches(present.get(m.name, "")) for m in rest):
                ts = self.timestamps[i]
                a, b = np.searchsorted(ts, [start_ms, end_ms + 1])
                out.append(Series(self.labels[i], ts[a:b], self.values[i, a:b]))
        self.select_seconds += time.perf_counter() - started
        return out

    def series(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[Labels]:
        return []

    def label_names(
        self, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        return []

    def label_values(
        self, name: str, matcher_sets: Sequence[Sequence[Matcher]], start_ms: int, end_ms: int, limit: int = 0
    ) -> list[str]:
        return []


def build(series: int, hours: float, interval_s: int, seed: int = 1) -> tuple[ArrayQuerier, int, int]:
    rng = np.random.default_rng(seed)
    specs: list[tuple[dict[str, str], str, int]] = []
    host = 0
    while len(specs) < series:
        specs.extend((labels, kind, host) for labels, kind in host_series(host))
        host += 1
    specs = specs[:series]
    steps = int(hours * 3600 / interval_s)
    end_ms = 1_700_000_000_000
    start_ms = end_ms - (steps - 1) * interval_s * 1000
    phase = rng.integers(0, interval_s * 1000, size=host)
    grid = start_ms + np.arange(steps, dtype=np.int64) * interval_s * 1000
    hosts = np.array([h for _, _, h in specs])
    timestamps = grid[None, :] + phase[hosts][:, None] - interval_s * 1000
    values = np.empty((len(specs), steps))
    for i, (_, kind, _) in enumerate(specs):
        if kind == "counter":
            values[i] = np.cumsum(rng.poisson(rng.uniform(1, 50), steps)).astype(np.float64)
        elif kind == "gauge":
            values[i] = 1e6 + np.cumsum(rng.normal(0, 100, steps))
        elif kind == "const":
            values[i] = 1.0
        else:
            share = min(1.0, (LE.index(kind[7:]) + 1) / len(LE))
            values[i] = np.cumsum(rng.poisson(40 * share, steps)).astype(np.float64)
    labels = [tuple(sorted(labels.items())) for labels, _, _ in specs]
    return ArrayQuerier(labels, timestamps, values), int(timestamps[:, -1].max()), start_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--interval", type=int, default=15)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    querier, end_ms, start_ms = build(args.series, args.hours, args.interval)
    engine = PromQLEngine(querier)
    end_s = -(-end_ms // 1000) * 1000
    window_start = end_s - int(args.hours * 3600 * 1000)
    print("| query | instant ms | (of which select) | range ms | (of which select) | result series |")
    print("|---|---|---|---|---|---|")
    for name, query in QUERIES:
        row = []
        result_series = 0
        for ranged in (False, True):
            times = []
            selects = []
            for _ in range(args.runs + 1):
                querier.select_seconds = 0.0
                t0 = time.perf_counter()
                if ranged:
                    result = engine.range(query, window_start, end_s, 60_000)
                else:
                    result = engine.instant(query, end_s)
                times.append((time.perf_counter() - t0) * 1000)
                selects.append(querier.select_seconds * 1000)
                result_series = len(result.series)
            row.extend([statistics.median(times[1:]), statistics.median(selects[1:])])
        print(f"| {name} | {row[0]:.1f} | {row[1]:.1f} | {row[2]:.1f} | {row[3]:.1f} | {result_series} |")


if __name__ == "__main__":
    main()
