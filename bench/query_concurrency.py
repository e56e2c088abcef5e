"""Query throughput and latency under concurrent clients, against a real `nightowl serve`.

Starts `nightowl serve` on a free port with a throw-away data directory, imports `--series` series
(1 h at 15 s, through /prometheus/api/v1/import/prometheus), then for each client count runs that
many httpx clients for `--seconds`, each sending dashboard-like queries back to back (instant and
range, light and heavy, in turn). Reports requests/s, p50 and p99 latency, the errors by status, and
how long `/status` took meanwhile (another client asking every 100 ms).

    .venv/bin/python bench/query_concurrency.py [--series 5000] [--clients 1,5,10,25,50] [--seconds 15]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

QUERIES = [
    ("instant", "sum by (job) (rate(http_requests_total[5m]))"),
    ("instant", 'http_requests_total{instance="i-17"}'),
    ("range", "sum by (job) (rate(http_requests_total[5m]))"),
    ("instant", "topk(5, rate(http_requests_total[5m]))"),
    ("range", "histogram_quantile(0.9, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))"),
    ("instant", 'count(http_requests_total{job=~"api|web"})'),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def exposition(series: int, end_s: int) -> list[str]:
    """Requests' bodies: `series` series (90 % counters, 10 % histogram buckets), 1 h at 15 s."""
    bodies = []
    counters = series * 9 // 10
    buckets = series - counters
    for t in range(end_s - 3600, end_s + 1, 15):
        lines = []
        for i in range(counters):
            job = ("api", "web", "db", "cache")[i % 4]
            lines.append(f'http_requests_total{{job="{job}",instance="i-{i}"}} {i + (t % 100000)} {t * 1000}')
        for i in range(buckets):
            le = ("0.1", "0.5", "1", "5", "+Inf")[i % 5]
            lines.append(
                f'http_request_duration_seconds_bucket{{le="{le}",instance="i-{i // 5}"}} {t % 100000} {t * 1000}'
            )
        bodies.append("\n".join(lines) + "\n")
    return bodies


async def load(base: str, series: int, end_s: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        for body in exposition(series, end_s):
            r = await client.post("/prometheus/api/v1/import/prometheus", content=body)
            r.raise_for_status()


async def client_loop(
    client: httpx.AsyncClient, offset: int, end_s: int, stop: float, lats: list[float], codes: Counter[int]
) -> None:
    i = offset
    while time.monotonic() < stop:
        kind, query = QUERIES[i % len(QUERIES)]
        i += 1
        if kind == "instant":
            params = {"query": query, "time": str(end_s)}
            path = "/prometheus/api/v1/query"
        else:
            params = {"query": query, "start": str(end_s - 3600), "end": str(end_s), "step": "60"}
            path = "/prometheus/api/v1/query_range"
        started = time.monotonic()
        try:
            r = await client.get(path, params=params)
            codes[r.status_code] += 1
        except httpx.HTTPError:
            codes[0] += 1
            continue
        lats.append(time.monotonic() - started)


async def status_loop(base: str, stop: float, lats: list[float]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        while time.monotonic() < stop:
            started = time.monotonic()
            await client.get("/status")
            lats.append(time.monotonic() - started)
            await asyncio.sleep(0.1)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def run(args: argparse.Namespace, base: str, end_s: int) -> None:
    print("| clients | req/s | p50 ms | p99 ms | errors | /status p50 ms | /status max ms |")
    print("|---|---|---|---|---|---|---|")
    for n in [int(x) for x in args.clients.split(",")]:
        lats: list[float] = []
        status: list[float] = []
        codes: Counter[int] = Counter()
        limits = httpx.Limits(max_connections=n + 1, max_keepalive_connections=n + 1)
        async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
            started = time.monotonic()
            stop = started + args.seconds
            await asyncio.gather(
                status_loop(base, stop, status),
                *(client_loop(client, k, end_s, stop, lats, codes) for k in range(n)),
            )
            elapsed = time.monotonic() - started
        errors = {code: count for code, count in codes.items() if code != 200}
        print(
            f"| {n} | {len(lats) / elapsed:.1f} | {pct(lats, 0.5) * 1000:.0f} | {pct(lats, 0.99) * 1000:.0f} "
            f"| {errors or 0} | {statistics.median(status) * 1000 if status else float('nan'):.0f} "
            f"| {max(status, default=float('nan')) * 1000:.0f} |",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=5000)
    parser.add_argument("--clients", default="1,5,10,25,50")
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--nightowl", default=shutil.which("nightowl") or str(Path(sys.executable).parent / "nightowl"))
    parser.add_argument("--env", action="append", default=[], help="extra NAME=VALUE for the server")
    args = parser.parse_args()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    end_s = int(time.time()) // 60 * 60
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "NIGHTOWL_ANONYMOUS_PERMISSIONS": "read,ingest",
            "NIGHTOWL_RATE_LIMIT_PER_IP": "0",
            **dict(item.split("=", 1) for item in args.env),
        }
        command = [args.nightowl, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", tmp]
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)  # waiting for a real server process to listen
            loaded = time.monotonic()
            asyncio.run(load(base, args.series, end_s))
            print(
                f"loaded {args.series} series x 241 samples in {time.monotonic() - loaded:.1f} s; "
                f"load average {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs"
            )
            asyncio.run(run(args, base, end_s))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
