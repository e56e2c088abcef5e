"""Ingest + storage benchmark of the embedded TSDB, on the tsbench workload, without HTTP.

Builds the same samples as tsbench (its workload generator is loaded from `--tsbench`), appends
them the way remote write arrives (chunks of ~1,667 series x 1 timestamp, with label tuples made
afresh per request, as a decoder would), then reports: append CPU-s per million samples, WAL
replay time, flush time, bytes per sample on disk, select latency and peak RSS.

    .venv/bin/python bench/tsdb_ingest.py --series 10000 --hours 2
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import numpy as np

from nightowl.core.clock import SystemClock
from nightowl.metrics.model import Matcher, SampleBatch
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.options import TSDBOptions

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TSBENCH = ROOT.parent / "shared" / "bench" / "tsbench" / "bench.py"


def load_tsbench(path: Path) -> Any:
    """tsbench's module, for its workload generator (its snappy import is not needed here)."""
    sys.modules.setdefault("cramjam", types.ModuleType("cramjam"))
    spec = importlib.util.spec_from_file_location("tsbench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["tsbench"] = module
    spec.loader.exec_module(module)
    return module


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phase_peak_mib() -> float:
    """VmHWM since the last call (writing 5 to clear_refs resets it), so each phase gets its own peak."""
    peak = 0.0
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return peak


def dir_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def chunks_of(series: int, chunk_count: int) -> list[np.ndarray]:
    return [c for c in np.array_split(np.arange(series), chunk_count) if len(c)]


def run(args: argparse.Namespace) -> dict[str, Any]:
    tsbench = load_tsbench(Path(args.tsbench))
    end_ms = int(time.time() * 1000)
    w = tsbench.build_workload(args.series, args.hours, args.interval, seed=1, end_ms=end_ms)
    samples = w.series * w.steps
    label_json = [json.dumps(labels) for labels in w.labels]
    groups = chunks_of(w.series, args.chunks)
    group_json = ["[" + ",".join(label_json[i] for i in g) + "]" for g in groups]
    data_dir = Path(args.dir or tempfile.mkdtemp(prefix="tsdb-bench-"))
    shutil.rmtree(data_dir, ignore_errors=True)
    options = TSDBOptions(
        fsync=args.fsync,
        head_max_samples=args.head_max_samples,
        tiers_ms=() if args.no_tiers else TSDBOptions().tiers_ms,
    )
    db = TSDB(data_dir, options, SystemClock())
    rss_before = rss_mib()
    peaks = {"setup": phase_peak_mib()}

    gen_cpu = 0.0
    reused = [[tuple(map(tuple, pairs)) for pairs in json.loads(text)] for text in group_json]
    append_cpu = 0.0
    latencies: list[float] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for step in range(w.steps):
        for g, members in enumerate(groups):
            g0 = time.thread_time()
            if args.reuse_labels:
                fresh = reused[g]
            else:
                fresh = [tuple(map(tuple, pairs)) for pairs in json.loads(group_json[g])]
            batch = SampleBatch(
                fresh,
                np.arange(len(members), dtype=np.int32),
                w.ts[members, step].copy(),
                w.values[members, step].copy(),
            )
            gen_cpu += time.thread_time() - g0
            t0, c0 = time.perf_counter(), time.thread_time()
            result = db.append(batch)
            append_cpu += time.thread_time() - c0
            latencies.append(time.perf_counter() - t0)
            if result.rejected_total:
                raise SystemExit(f"samples rejected: {result.rejected}")
    ingest_wall = time.perf_counter() - wall0
    ingest_cpu = time.process_time() - cpu0 - gen_cpu
    rss_after_ingest = rss_mib()
    peaks["ingest"] = phase_peak_mib()
    head_samples = db.head.samples

    db.close()
    del db, batch, result
    gc.collect()
    t0 = time.perf_counter()
    db = TSDB(data_dir, options, SystemClock())
    replay_s = time.perf_counter() - t0
    peaks["replay"] = phase_peak_mib()

    c0, t0 = time.process_time(), time.perf_counter()
    db.flush()
    flush_wall, flush_cpu = time.perf_counter() - t0, time.process_time() - c0
    disk = dir_bytes(data_dir)
    tier_bytes = sum(dir_bytes(p) for p in (data_dir / "blocks").iterdir() if p.name.startswith("t"))
    blocks = dir_bytes(data_dir / "blocks")
    peaks["flush"] = phase_peak_mib()

    def timed_select(matchers: list[Matcher], start: int, end: int) -> tuple[float, float, int, int]:
        walls, cpus = [], []
        for _ in range(args.query_runs + 1):
            t, c = time.perf_counter(), time.thread_time()
            found = db.select(matchers, start, end)
            walls.append(time.perf_counter() - t)
            cpus.append(time.thread_time() - c)
        samples = sum(len(s.timestamps) for s in found)
        return statistics.median(walls[1:]) * 1000, statistics.median(cpus[1:]) * 1000, len(found), samples

    queries = {
        "http_requests_total 2h": timed_select([Matcher("__name__", "=", "http_requests_total")], w.start_ms, end_ms),
        "http_requests_total 5m": timed_select(
            [Matcher("__name__", "=", "http_requests_total")], end_ms - 300_000, end_ms
        ),
        'status=~"5.." 2h': timed_select(
            [Matcher("__name__", "=", "http_requests_total"), Matcher("status", "=~", "5..")], w.start_ms, end_ms
        ),
        "one series 2h": timed_select(
            [Matcher("__name__", "=", "node_load1"), Matcher("instance", "=", "10.0.0.7:9100")], w.start_ms, end_ms
        ),
    }
    peaks["select"] = phase_peak_mib()
    db.close()
    if not args.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    return {
        "series": w.series,
        "samples": samples,
        "requests": len(latencies),
        "cpu_s_per_M_samples_total": ingest_cpu / samples * 1e6,
        "cpu_s_per_M_samples_in_append_calls": append_cpu / samples * 1e6,
        "cpu_s_per_M_samples_background": (ingest_cpu - append_cpu) / samples * 1e6,
        "ingest_samples_per_s": samples / (ingest_wall - gen_cpu),
        "append_p50_ms": statistics.median(latencies) * 1000,
        "append_p99_ms": float(np.percentile(latencies, 99)) * 1000,
        "head_samples_at_end": head_samples,
        "wal_replay_s": replay_s,
        "flush_wall_s": flush_wall,
        "flush_cpu_s": flush_cpu,
        "disk_bytes_per_sample": disk / samples,
        "block_bytes_per_sample": blocks / samples,
        "tier_bytes_per_sample": tier_bytes / samples,
        "raw_block_bytes_per_sample": (blocks - tier_bytes) / samples,
        "rss_before_ingest_mib": rss_before,
        "rss_after_ingest_mib": rss_after_ingest,
        "peak_rss_mib": peak_rss_mib(),
        "peak_rss_by_phase_mib": peaks,
        "workload_arrays_mib": (w.ts.nbytes + w.values.nbytes) / 2**20,
        "select": {
            name: {"wall_ms": round(ms, 2), "cpu_ms": round(cpu, 2), "series": n, "samples": k}
            for name, (ms, cpu, n, k) in queries.items()
        },
        "load_average": os.getloadavg()[0],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--interval", type=int, default=15)
    parser.add_argument("--chunks", type=int, default=6, help="series chunks, one request each per timestamp")
    parser.add_argument("--fsync", choices=["always", "interval", "never"], default="interval")
    parser.add_argument("--no-tiers", action="store_true", help="no downsampled tiers (raw blocks only)")
    parser.add_argument("--head-max-samples", type=int, default=TSDBOptions().head_max_samples)
    parser.add_argument("--query-runs", type=int, default=5)
    parser.add_argument(
        "--reuse-labels",
        action="store_true",
        help="hand the same Labels objects every request (a decoder caching label sets by their raw bytes)",
    )
    parser.add_argument("--tsbench", default=str(DEFAULT_TSBENCH))
    parser.add_argument("--dir", default="")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(json.dumps(run(args), indent=2))


if __name__ == "__main__":
    main()
