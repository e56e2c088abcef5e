"""Long-range queries served from downsampled tiers vs raw samples, on the embedded TSDB directly.

Builds `--series` series (half gauges, half counters with a restart every few days) x `--days` (+1) days at
one sample per `--interval` seconds into a TSDB in `--dir` (reused when already built), written out
and downsampled as the maintenance jobs do. Then each query runs over the whole span at step 1 h,
`--runs` times after a warm-up, once reading tiers where the step and range allow (the default) and
once raw only (`max_source_resolution=raw`): median latency, samples read, and the largest
difference between the two answers, relative to the raw answer.

    .venv/bin/python bench/tier_query.py --dir /tmp/tierbench [--series 1000 --days 14 --interval 60]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from nightowl.core.clock import ManualClock
from nightowl.metrics.api import QueryResult
from nightowl.metrics.model import SampleBatch, labels_from_dict
from nightowl.promql.engine import EngineLimits, PromQLEngine
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.maintenance import compact, flush_head
from nightowl.tsdb.options import DAY_MS, HOUR_MS, TSDBOptions
from nightowl.tsdb.tier_reads import at_most_resolution

END_MS = 1_760_000_000_000 // DAY_MS * DAY_MS
QUERIES = [
    "avg_over_time(bench_gauge[1h])",
    "max_over_time(bench_gauge[1h])",
    "bench_gauge",
    "rate(bench_requests_total[1h])",
    "sum(increase(bench_requests_total[1h]))",
    "increase(bench_requests_total[1d])",
]


def build(db: TSDB, series: int, days: int, interval_s: int) -> None:
    """Gauges with a daily cycle and noise; counters at varying rates, each restarting every ~3 days."""
    rng = np.random.default_rng(1)
    gauges, counters = series // 2, series - series // 2
    labels = [labels_from_dict({"__name__": "bench_gauge", "instance": f"i{i}"}) for i in range(gauges)]
    labels += [labels_from_dict({"__name__": "bench_requests_total", "instance": f"i{i}"}) for i in range(counters)]
    phase = rng.uniform(0, 2 * np.pi, series)
    jitter = rng.integers(0, interval_s * 1000, series)  # each target scraped at its own offset
    base = rng.uniform(1, 100, series)
    restart = rng.uniform(2 * DAY_MS, 4 * DAY_MS, series)
    start = END_MS - days * DAY_MS
    step = interval_s * 1000
    per_chunk = HOUR_MS // step
    level = np.zeros(series)
    index = np.repeat(np.arange(series, dtype=np.int32), per_chunk)
    for hour in range(days * 24):
        t = start + hour * HOUR_MS + np.arange(per_chunk, dtype=np.int64) * step
        ts = t[None, :] + jitter[:, None]
        day = 2 * np.pi * (ts - start) / DAY_MS
        gauge = base[:, None] * (1 + 0.3 * np.sin(day + phase[:, None])) + rng.normal(0, 1, ts.shape)
        speed = base[:, None] * (1 + 0.5 * np.sin(day + phase[:, None])) * interval_s
        counter = level[:, None] + np.cumsum(speed * rng.uniform(0.5, 1.5, ts.shape), axis=1)
        since = (ts - start) % restart[:, None].astype(np.int64)
        restarted = (since < step).any(axis=1)
        for i in np.flatnonzero(restarted[gauges:]) + gauges:
            at = int(np.argmax(since[i] < step))
            counter[i, at:] -= counter[i, at]
        level = counter[:, -1]
        values = np.where(np.arange(series)[:, None] < gauges, gauge, counter)
        db.append(SampleBatch(labels, index, ts.reshape(-1), values.reshape(-1)))
        if hour % 2 == 1:
            flush_head(db)
            compact(db)
    db.flush()


def measure(
    engine: PromQLEngine, query: str, start: int, end: int, cap: int | None, runs: int
) -> tuple[float, QueryResult]:
    run = at_most_resolution(cap, engine.range)
    result = run(query, start, end, HOUR_MS)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        run(query, start, end, HOUR_MS)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def differences(tiered: QueryResult, raw: QueryResult) -> tuple[float, float]:
    """|tiered - raw| / |raw| over every series and step both answered: the 99th percentile and the largest."""
    found = [np.zeros(1)]
    by_labels = {s.labels: s for s in raw.series}
    for series in tiered.series:
        other = by_labels[series.labels]
        _, a, b = np.intersect1d(series.timestamps, other.timestamps, return_indices=True)
        x, y = np.asarray(series.values)[a], np.asarray(other.values)[b]
        found.append(np.abs(x - y) / np.maximum(np.abs(y), 1e-12))
    every = np.concatenate(found)
    return float(np.percentile(every, 99)), float(every.max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default="/tmp/nightowl-tierbench")
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--interval", type=int, default=60, help="seconds between samples")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    directory = Path(args.dir)
    shape = {"series": args.series, "days": args.days, "interval": args.interval}
    clock = ManualClock(END_MS / 1000)
    options = TSDBOptions(head_max_samples=10**9)
    built = directory / "workload.json"
    if not built.exists() or json.loads(built.read_text()) != shape:
        if directory.exists():
            import shutil

            shutil.rmtree(directory)
        t0 = time.perf_counter()
        db = TSDB(directory, options, clock)
        build(db, args.series, args.days + 1, args.interval)
        db.close()
        built.write_text(json.dumps(shape))
        print(f"built {args.series} series x {args.days + 1} d @ {args.interval} s in {time.perf_counter() - t0:.0f} s")
    db = TSDB(directory, options, clock)
    engine = PromQLEngine(db, EngineLimits(max_samples=500_000_000, timeout_s=600))
    start, end = END_MS - args.days * DAY_MS, END_MS - HOUR_MS  # full windows; the last hours still raw
    print(f"{args.series} series x {args.days} d @ {args.interval} s; range query over {(end - start) / DAY_MS:.1f} d")
    print(f"at step 1 h; median of {args.runs}; load average before: {os.getloadavg()}")
    print("| query | tiers ms | raw ms | speed-up | samples read, tiers | samples read, raw | rel. diff p99 | max |")
    print("|---|---|---|---|---|---|---|---|")
    for query in QUERIES:
        tier_ms, tiered = measure(engine, query, start, end, None, args.runs)
        raw_ms, raw = measure(engine, query, start, end, 0, args.runs)
        p99, worst = differences(tiered, raw)
        print(
            f"| `{query}` | {tier_ms:.0f} | {raw_ms:.0f} | {raw_ms / tier_ms:.1f}x | {tiered.samples_loaded:,} "
            f"| {raw.samples_loaded:,} | {p99:.2%} | {worst:.2%} |"
        )
    print(f"load average after: {os.getloadavg()}")
    db.close()


if __name__ == "__main__":
    main()
