"""Memory of a running `nightowl serve`: RSS before ingest, peak after a remote-write ingest, peak after queries.

Starts the server as a subprocess on a fresh data dir, pushes `--series` series x `--hours` hours at 15 s
through remote write 1.0 (payloads built beforehand with Nightowl's own encoder, requests of `--batch`
series x 1 sample, `--senders` threads, as a Prometheus queue sends them), then runs a few PromQL queries,
reading VmRSS / VmHWM (peak) from /proc/<pid>/status at each stage.

    .venv/bin/python bench/memory.py --series 10000 --hours 2
    .venv/bin/python bench/memory.py --series 100000 --hours 0.5
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from nightowl.metrics.model import Labels, SampleBatch, labels_from_dict
from nightowl.metrics.remote.writeproto import HEADERS, compress, encode_write_request

INTERVAL_MS = 15_000
SERIES_PER_HOST = 100
CPU_MODES = ("idle", "user", "system", "iowait", "irq", "softirq", "steal", "nice")
STATUSES = ("200", "201", "204", "301", "400", "404", "500", "503")
METHODS = ("GET", "POST", "PUT", "DELETE")
BUCKETS = ("0.005", "0.01", "0.05", "0.1", "0.5", "1", "5", "+Inf")

QUERIES = (
    "rate(http_requests_total[5m])",
    "sum by (job) (rate(http_requests_total[5m]))",
    "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
    "topk(10, node_memory_free_bytes)",
    'sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m]))',
    'count by (__name__) ({__name__=~".+"})',
)


def host_series(host: int) -> list[tuple[Labels, bool]]:
    """The 100 series of one host: (labels, is_counter); node-exporter and application metrics."""
    ip = f"10.{(host >> 16) & 255}.{(host >> 8) & 255}.{host & 255}"
    node = {"job": "node", "instance": f"{ip}:9100"}
    app = {"job": f"app-{host % 7}", "instance": f"{ip}:8080"}
    cpu = "node_cpu_seconds_total"
    requests = "http_requests_total"
    buckets = "http_request_duration_seconds_bucket"
    out: list[tuple[dict[str, str], bool]] = []
    out += [({"__name__": cpu, "cpu": str(c), "mode": m, **node}, True) for c in range(4) for m in CPU_MODES]
    out += [({"__name__": requests, "method": m, "status": s, **app}, True) for m in METHODS for s in STATUSES]
    out += [({"__name__": buckets, "le": b, "method": m, **app}, True) for m in METHODS[:3] for b in BUCKETS]
    out += [({"__name__": "node_memory_free_bytes", **node}, False), ({"__name__": "node_load1", **node}, False)]
    queues = range(SERIES_PER_HOST - len(out))
    out += [({"__name__": "app_queue_depth", "queue": f"q{q}", **app}, False) for q in queues]
    return [(labels_from_dict(labels), counter) for labels, counter in out]


def workload(n_series: int) -> tuple[list[Labels], np.ndarray]:
    """Label sets and a counter flag per series, host after host."""
    series: list[tuple[Labels, bool]] = []
    host = 0
    while len(series) < n_series:
        series += host_series(host)
        host += 1
    del series[n_series:]
    return [labels for labels, _ in series], np.array([counter for _, counter in series])


def payloads(n_series: int, hours: float, batch: int, end_ms: int, seed: int = 1) -> Iterator[tuple[bytes, int]]:
    """Snappy remote-write bodies in time order: for each timestamp, the series in slices of `batch`."""
    labels, counters = workload(n_series)
    rng = np.random.default_rng(seed)
    steps = round(hours * 3600_000 / INTERVAL_MS)
    offsets = (np.arange(n_series) // SERIES_PER_HOST * 997) % INTERVAL_MS  # per-host scrape offsets
    values = rng.uniform(0, 1000, n_series).round(2)
    for step in range(steps):
        ts = end_ms - (steps - step) * INTERVAL_MS + offsets
        walk = rng.normal(0, 5, n_series).round(2)
        values = np.where(counters, values + np.abs(walk).round(0), values + walk)
        for lo in range(0, n_series, batch):
            hi = min(lo + batch, n_series)
            piece = SampleBatch(labels[lo:hi], np.arange(hi - lo, dtype=np.int32), ts[lo:hi], values[lo:hi])
            yield compress(encode_write_request([piece])), hi - lo


def load_or_encode(n_series: int, hours: float, batch: int, reuse: bool) -> tuple[int, list[tuple[bytes, int]]]:
    """The request bodies, encoded now or (`reuse`) read back from a previous run's file in the temp dir."""
    cache = Path(tempfile.gettempdir()) / f"nightowl-memory-{n_series}-{hours}-{batch}.pickle"
    if reuse and cache.exists():
        with cache.open("rb") as f:
            stored: tuple[int, list[tuple[bytes, int]]] = pickle.load(f)
            return stored
    end_ms = int(time.time() * 1000) // INTERVAL_MS * INTERVAL_MS
    bodies = list(payloads(n_series, hours, batch, end_ms))
    if reuse:
        with cache.open("wb") as f:
            pickle.dump((end_ms, bodies), f)
    return end_ms, bodies


def proc_memory(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM (peak RSS) of a process, in MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "Threads"):
            out[key] = int(rest.split()[0]) / (1 if key == "Threads" else 1024)
    return out


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(client: httpx.Client, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if client.get("/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server not ready")


def push(base: str, bodies: list[tuple[bytes, int]], senders: int) -> tuple[int, list[float]]:
    """Send every body, `senders` at a time, retrying 429/503 after their Retry-After; samples sent, latencies."""
    lock = threading.Lock()
    queue = iter(bodies)
    sent = [0]
    latencies: list[float] = []

    def sender() -> None:
        with httpx.Client(base_url=base, timeout=120, headers=HEADERS) as client:
            while True:
                with lock:
                    item = next(queue, None)
                if item is None:
                    return
                body, n = item
                while True:
                    started = time.perf_counter()
                    response = client.post("/prometheus/api/v1/write", content=body)
                    if response.status_code in (429, 503):
                        time.sleep(float(response.headers.get("Retry-After", "1")))
                        continue
                    response.raise_for_status()
                    break
                with lock:
                    sent[0] += n
                    latencies.append(time.perf_counter() - started)

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sent[0], latencies


def run_queries(client: httpx.Client, end_s: float, hours: float, runs: int) -> dict[str, float]:
    """Median seconds per query, instant at the end and range over the whole span at step 60 s."""
    out = {}
    for query in QUERIES:
        for kind, params in (
            ("instant", {"query": query, "time": end_s}),
            ("range", {"query": query, "start": end_s - hours * 3600, "end": end_s, "step": 60}),
        ):
            path = "/prometheus/api/v1/query" if kind == "instant" else "/prometheus/api/v1/query_range"
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                response = client.get(path, params=params)
                response.raise_for_status()
                times.append(time.perf_counter() - started)
            out[f"{kind} {query}"] = sorted(times)[len(times) // 2]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--hours", type=float, default=2.0)
    parser.add_argument("--batch", type=int, default=2_000, help="series per remote-write request")
    parser.add_argument("--senders", type=int, default=2)
    parser.add_argument("--query-runs", type=int, default=3)
    parser.add_argument("--nightowl", default=str(Path(sys.executable).with_name("nightowl")))
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the server (repeatable)")
    parser.add_argument("--reuse-payloads", action="store_true", help="keep/reuse the encoded bodies in the temp dir")
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()

    started = time.perf_counter()
    end_ms, bodies = load_or_encode(args.series, args.hours, args.batch, args.reuse_payloads)
    total = sum(n for _, n in bodies)
    print(f"encoded {total:,} samples in {len(bodies):,} requests ({time.perf_counter() - started:.1f} s)", flush=True)

    data_dir = Path(tempfile.mkdtemp(prefix="nightowl-mem-"))
    port = free_port()
    env = {**os.environ, "NIGHTOWL_ANONYMOUS_PERMISSIONS": "read,ingest", "NIGHTOWL_RATE_LIMIT_PER_IP": "0"}
    env.update(item.split("=", 1) for item in args.env)
    argv = [args.nightowl, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=open(data_dir / "server.log", "wb"))
    base = f"http://127.0.0.1:{port}"
    result: dict[str, Any] = {"series": args.series, "hours": args.hours, "samples": total, "env": args.env}
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            wait_ready(client, proc)
            time.sleep(2)  # let start-up jobs run once
            result["before"] = proc_memory(proc.pid)
            cpu0, started = proc_cpu(proc.pid), time.perf_counter()
            sent, latencies = push(base, bodies, args.senders)
            elapsed = time.perf_counter() - started
            del bodies
            result["ingest"] = {
                "seconds": round(elapsed, 1),
                "samples_per_s": round(sent / elapsed),
                "server_cpu_s_per_million": round((proc_cpu(proc.pid) - cpu0) / sent * 1e6, 2),
                "p50_ms": round(float(np.percentile(latencies, 50)) * 1000, 1),
                "p99_ms": round(float(np.percentile(latencies, 99)) * 1000, 1),
            }
            result["after_ingest"] = proc_memory(proc.pid)
            count = client.get(
                "/prometheus/api/v1/query", params={"query": 'count({__name__=~".+"})', "time": end_ms / 1000}
            )
            result["series_found"] = float(count.json()["data"]["result"][0]["value"][1])
            result["queries"] = run_queries(client, end_ms / 1000, args.hours, args.query_runs)
            result["after_queries"] = proc_memory(proc.pid)
    finally:
        proc.terminate()
        proc.wait(60)
        shutil.rmtree(data_dir, ignore_errors=True)
    for stage in ("before", "after_ingest", "after_queries"):
        m = result[stage]
        print(
            f"{stage:14} RSS {m['VmRSS']:6.0f} MiB  peak {m['VmHWM']:6.0f} MiB"
            f"  (anon {m['RssAnon']:.0f}, file {m['RssFile']:.0f}, {m['Threads']:.0f} threads)"
        )
    print("ingest", json.dumps(result["ingest"]), "series found", result["series_found"])
    for query, seconds in result["queries"].items():
        print(f"  {seconds * 1000:8.1f} ms  {query}")
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
