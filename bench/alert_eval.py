"""Can a Nightowl instance evaluate 10,000 alerting rules every 15 s on the embedded TSDB? (issue #7)

    .venv/bin/python bench/alert_eval.py [--jobs 100] [--rules-per-job 100] [--intervals 6] [--profile FILE]

A real runtime (`Nightowl.prepare()` + `start()`: embedded TSDB, SQLite state database, scheduler, the
RuleManager loading the rule files) with a platform of `--jobs` services x 10 instances: 10 gauges and
`up` per instance, `http_requests_total` by method and code, a latency histogram (290 series per
service, 29,000 for 100). Five minutes of history are written first, then one sample per series every
15 s while the rules run, as a scrape would.

One rule group per service, `interval: 15s`, each of `--rules-per-job` rules (100 by default): 61 simple
(`metric{job=...} > threshold`, some per instance, `up == 0`) and 39 aggregating (error ratio of rates,
histogram_quantile, avg/max_over_time/count by job, absent), with `for`, labels and templated annotations.

Each group is due at its own point of the interval (as in Prometheus) and groups run one at a time on
the rule thread. For every interval it prints the group evaluations that ended in it, the longest time
from due to done (queue wait + evaluation), the process CPU (everything: rules, the scrape feed, other
jobs), and the iterations missed: evaluations skipped because the
previous one was still running (the scheduler's overlap count, Prometheus's
`rule_group_iterations_missed_total`) plus evaluations longer than the interval.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nightowl.config import Settings
from nightowl.core import process
from nightowl.metrics.model import Labels, SampleBatch, labels_from_dict
from nightowl.runtime import Nightowl

INTERVAL = 15.0
INSTANCES = 10
GAUGES = (
    "node_load1",
    "node_memory_used_ratio",
    "node_filesystem_used_ratio",
    "process_open_fds",
    "queue_depth",
    "db_connections_in_use",
    "cache_miss_ratio",
    "jvm_heap_used_ratio",
    "disk_io_utilisation",
    "network_receive_errors",
)
BUCKETS = ("0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "+Inf")
CODES = ("200", "404", "500")
METHODS = ("GET", "POST")
ANNOTATION = "'{{ $labels.job }} {{ $labels.instance }}: {{ $value | humanize }} (threshold %s)'"


@dataclass
class Platform:
    """The series of the simulated services and their current values (gauges walk, counters grow)."""

    jobs: int
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    labels: list[Labels] = field(default_factory=list)
    counter: list[bool] = field(default_factory=list)
    rate: list[float] = field(default_factory=list)
    initial: list[float] = field(default_factory=list)
    values: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def __post_init__(self) -> None:
        for j in range(self.jobs):
            job = f"svc{j}"
            for i in range(INSTANCES):
                base = {"job": job, "instance": f"{job}-{i}:9100"}
                self._add({**base, "__name__": "up"}, False, 1.0, 0.0)
                for g in GAUGES:
                    self._add({**base, "__name__": g}, False, self.rng.uniform(0, 100), 0.0)
                for m in METHODS:
                    for c in CODES:
                        rps = self.rng.uniform(1, 50) * (0.02 if c == "500" else 0.1 if c == "404" else 1.0)
                        self._add({**base, "__name__": "http_requests_total", "method": m, "code": c}, True, 0.0, rps)
                total = self.rng.uniform(10, 100)
                for n, le in enumerate(BUCKETS):
                    share = min(1.0, (n + 1) / (len(BUCKETS) - 1))
                    name = "http_request_duration_seconds_bucket"
                    self._add({**base, "__name__": name, "le": le}, True, 0.0, total * share)
                self._add({**base, "__name__": "http_request_duration_seconds_count"}, True, 0.0, total)
                self._add({**base, "__name__": "http_request_duration_seconds_sum"}, True, 0.0, total * 0.12)
        self.values = np.array(self.initial)

    def _add(self, labels: dict[str, str], counter: bool, initial: float, rate: float) -> None:
        self.labels.append(labels_from_dict(labels))
        self.counter.append(counter)
        self.rate.append(rate)
        self.initial.append(initial)

    def step(self, ts_ms: int) -> SampleBatch:
        """One scrape of every series at `ts_ms`."""
        for n, is_counter in enumerate(self.counter):
            if is_counter:
                self.values[n] += self.rate[n] * INTERVAL
            elif self.labels[n][0][1] != "up":
                self.values[n] = min(100.0, max(0.0, self.values[n] + self.rng.gauss(0, 2)))
        return SampleBatch.from_rows([(lab, ts_ms, float(v)) for lab, v in zip(self.labels, self.values, strict=True)])


def group_yaml(j: int, per_job: int) -> str:
    """One service's rule group: 61 % simple rules, 39 % aggregating, as `per_job` rules."""
    job = f"svc{j}"
    sel = f'job="{job}"'
    rules: list[tuple[str, str, str]] = []  # (alert, expr, for)
    for g in GAUGES:
        for sev, thr in (("info", 90), ("warning", 95), ("error", 98), ("critical", 99.5)):
            rules.append((f"{g}_{sev}", f"{g}{{{sel}}} > {thr}", "1m" if sev != "critical" else "0s"))
        for i in (0, 1):
            rules.append((f"{g}_instance{i}", f'{g}{{{sel},instance="{job}-{i}:9100"}} > 97', "2m"))
    rules.append(("InstanceDown", f"up{{{sel}}} == 0", "1m"))
    errors = f'sum by (job) (rate(http_requests_total{{{sel},code="500"}}[5m]))'
    requests = f"sum by (job) (rate(http_requests_total{{{sel}}}[5m]))"
    for thr in (0.01, 0.05, 0.1, 0.2):
        rules.append((f"ErrorRatio{thr}", f"{errors} / {requests} > {thr}", "5m"))
    for q in (0.5, 0.9, 0.99, 0.999):
        hist = f"sum by (job, le) (rate(http_request_duration_seconds_bucket{{{sel}}}[5m]))"
        rules.append((f"Latency{q}", f"histogram_quantile({q}, {hist}) > 1", "5m"))
    for g in GAUGES:
        rules.append((f"{g}_avg", f"avg by (job) ({g}{{{sel}}}) > 80", "5m"))
        rules.append((f"{g}_max5m", f"max by (job) (max_over_time({g}{{{sel}}}[5m])) > 99", "1m"))
        rules.append((f"{g}_count", f"count by (job) ({g}{{{sel}}} > 90) > 3", "1m"))
    rules.append(("ServiceAbsent", f"absent(up{{{sel}}})", "5m"))
    lines = [f"  - name: {job}", "    interval: 15s", "    rules:"]
    for n in range(per_job):
        alert, expr, for_ = rules[n % len(rules)]
        lines += [
            f"      - alert: {alert}" + (f"_{n // len(rules)}" if n >= len(rules) else ""),
            f"        expr: {expr}",
            f"        for: {for_}",
            "        labels:",
            f"          severity: {'critical' if n % 7 == 0 else 'warning'}",
            "          team: platform",
            "        annotations:",
            f"          summary: {ANNOTATION % (expr.rsplit(' ', 1)[-1],)}",
        ]
    return "\n".join(lines) + "\n"


@dataclass
class Run:
    name: str
    ended: float
    duration: float
    error: str | None


async def feed(nightowl: Nightowl, platform: Platform, stop: asyncio.Event) -> None:
    """One scrape of every series per interval, through the ingest path, as scrape jobs would."""
    while not stop.is_set():
        batch = platform.step(int(time.time() * 1000))
        await asyncio.to_thread(nightowl.ingestor.append, batch, "scrape")
        try:
            await asyncio.wait_for(stop.wait(), INTERVAL)
        except TimeoutError:
            pass


async def measure(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "rules").mkdir()
        groups = [group_yaml(j, args.rules_per_job) for j in range(args.jobs)]
        for start in range(0, args.jobs, 20):
            text = "groups:\n" + "".join(groups[start : start + 20])
            (root / "rules" / f"services{start // 20:03d}.yml").write_text(text)
        settings = Settings(data_dir=root / "data", rule_files=[str(root / "rules" / "*.yml")])
        nightowl = Nightowl(settings)
        platform = Platform(args.jobs)
        started = time.perf_counter()
        loaded = time.process_time()
        nightowl.prepare()  # loads the rule files: the RuleManager as `nightowl serve` runs it
        rules = sum(len(g.rules) for g in nightowl.rules.evaluator.groups.values())
        print(
            f"loaded {rules} rules in {len(nightowl.rules.evaluator.groups)} groups: "
            f"{time.perf_counter() - started:.1f} s wall, {time.process_time() - loaded:.1f} s CPU"
        )
        now_ms = int(time.time() * 1000)
        for k in range(20, 0, -1):
            nightowl.storage.append(platform.step(now_ms - k * int(INTERVAL * 1000)))
        print(f"{len(platform.labels)} series, 20 x 15 s of history written")
        runs: list[Run] = []
        nightowl.scheduler.listeners.append(
            lambda name, duration, error: runs.append(Run(name, time.monotonic(), duration, error))
        )
        if args.profile or args.passes:
            for _ in range(max(1, args.passes)):
                one_pass(nightowl, args.profile)
            nightowl.storage.close()
            return
        stop = asyncio.Event()
        t0 = time.monotonic()
        cpu = [time.process_time()]
        await nightowl.start()
        feeder = asyncio.create_task(feed(nightowl, platform, stop))
        for k in range(args.intervals):
            await asyncio.sleep(t0 + (k + 1) * INTERVAL - time.monotonic())
            cpu.append(time.process_time())
        stop.set()
        await feeder
        statuses = {s.name: s for s in nightowl.scheduler.statuses() if s.name.startswith("rules:")}
        await nightowl.stop()
        report(args, runs, statuses, t0, cpu, rules)


def one_pass(nightowl: Nightowl, path: str) -> None:
    """Every group once, one after the other in this thread, under cProfile if `path` (threads are not
    profiled)."""
    evaluator = nightowl.rules.evaluator
    profiler = cProfile.Profile() if path else None
    started, cpu = time.perf_counter(), time.process_time()
    if profiler is not None:
        profiler.enable()
    for name in list(evaluator.groups):
        evaluator.evaluate(name)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(path)
    print(f"one pass of every group: {time.perf_counter() - started:.2f} s wall, {time.process_time() - cpu:.2f} s CPU")


def report(
    args: argparse.Namespace, runs: list[Run], statuses: dict[str, object], t0: float, cpu: list[float], rules: int
) -> None:
    too_long = 0
    for k in range(args.intervals):
        lo, hi = t0 + k * INTERVAL, t0 + (k + 1) * INTERVAL
        mine = [r for r in runs if r.name.startswith("rules:") and lo <= r.ended < hi]
        slow = sum(1 for r in mine if r.duration > INTERVAL)
        too_long += slow
        longest = max((r.duration for r in mine), default=0.0)
        errors = sum(1 for r in mine if r.error)
        print(
            f"interval {k}: {len(mine)} group evaluations ended, the longest {longest:.2f} s from due to done "
            f"(queue wait + evaluation), {slow} longer than {INTERVAL:g} s, {errors} failed; "
            f"process CPU {cpu[k + 1] - cpu[k]:.1f} s ({(cpu[k + 1] - cpu[k]) / INTERVAL:.2f} cores)"
        )
    skipped = sum(getattr(s, "skipped_overlaps", 0) for s in statuses.values())
    done = sum(1 for r in runs if r.name.startswith("rules:"))
    expected = len(statuses) * args.intervals
    print(
        f"{rules} rules, {len(statuses)} groups, {args.intervals} intervals: {done} group evaluations "
        f"(expected about {expected}), iterations missed: {skipped} skipped while still running + "
        f"{too_long} longer than the interval; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=100, help="services (one rule group each)")
    parser.add_argument("--rules-per-job", type=int, default=100)
    parser.add_argument("--intervals", type=int, default=6)
    parser.add_argument("--passes", type=int, default=0, help="instead: this many passes of every group in turn")
    parser.add_argument("--profile", default="", help="instead: one pass of every group under cProfile, written here")
    process.tune()  # what `nightowl serve` does at start
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
