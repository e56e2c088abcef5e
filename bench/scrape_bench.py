"""CPU cost of scraping, per million scraped samples: Nightowl's scraper and, side by side, Prometheus.

    .venv/bin/python bench/scrape_bench.py [--targets 4] [--series 10000] [--interval 2] [--seconds 40] [--prometheus]

Four local HTTP servers (separate processes, so their CPU is not counted) serve a fixed 10k-series
exposition; the scraper scrapes them every 2 s (fetch, gzip, parse, relabel, staleness, validation and
append through the ingest path into the embedded TSDB: series index, WAL, head; `--storage memory`
for the in-memory reference storage instead). After a warm-up round, process CPU time
(all threads) is divided by the samples scraped. With `--prometheus`, /usr/bin/prometheus scrapes
the same servers at the same interval and its CPU (from /proc) is divided by its appended samples.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from prometheus_client import CollectorRegistry

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nightowl.core.clock import SystemClock
from nightowl.ingest.exposition import parse_exposition
from nightowl.ingest.limits import IngestLimits
from nightowl.ingest.pipeline import Ingestor
from nightowl.metrics.api import Storage
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import AppendResult, SampleBatch
from nightowl.scrape.config import GlobalConfig, ScrapeConfig
from nightowl.scrape.process import REPORT_NAMES, ProcessOptions, Report, SeriesCache, process_scrape, with_report
from nightowl.scrape.reshape import learn, reuse
from nightowl.scrape.scraper import Scraper
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.options import TSDBOptions

WARMUP_SECONDS = 5.0


def exposition(series: int) -> str:
    lines = []
    per_family = 100
    for family in range(max(1, series // per_family)):
        name = f"app_family_{family}_total"
        lines += [f"# HELP {name} Synthetic counter {family}.", f"# TYPE {name} counter"]
        for i in range(per_family):
            lines.append(f'{name}{{cpu="{i % 16}",device="sd{i % 7}",mode="m{i}",path="/api/v{i % 3}"}} {i * 1.25 + 1}')
    return "\n".join(lines) + "\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_up(url: str) -> None:
    for _ in range(200):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up")


def start_servers(directory: Path, count: int) -> tuple[list[subprocess.Popen[bytes]], list[str]]:
    processes, addresses = [], []
    for _ in range(count):
        port = free_port()
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(directory)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        addresses.append(f"127.0.0.1:{port}")
    for address in addresses:
        wait_up(f"http://{address}/metrics")
    return processes, addresses


def open_storage(kind: str, workdir: Path) -> Storage:
    """The embedded TSDB with the defaults a Nightowl server runs with (WAL fsync every second), or memory."""
    if kind == "memory":
        return MemoryStorage()
    return TSDB(Path(tempfile.mkdtemp(prefix="tsdb-", dir=workdir)), TSDBOptions(), SystemClock())


async def bench_nightowl(
    addresses: list[str], interval: float, seconds: float, storage: Storage, tick: float = 1.0
) -> tuple[float, int]:
    ingestor = Ingestor(lambda: storage, IngestLimits(), CollectorRegistry())
    counted = {"samples": 0, "on": False}

    def append(batch: SampleBatch) -> AppendResult:
        result = ingestor.append(batch, "scrape")
        if counted["on"]:
            counted["samples"] += len(batch) - len(REPORT_NAMES)
        return result

    job = ScrapeConfig.model_validate(
        {
            "job_name": "bench",
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "static_configs": [{"targets": addresses}],
        }
    )
    scraper = Scraper([job], GlobalConfig(), SystemClock(), append)
    end_warmup = time.monotonic() + WARMUP_SECONDS
    while time.monotonic() < end_warmup:
        await scraper.tick()
        await asyncio.sleep(tick)
    await scraper.wait_idle()
    counted["on"] = True
    cpu0 = time.process_time()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        await scraper.tick()
        await asyncio.sleep(tick)
    await scraper.wait_idle()
    cpu = time.process_time() - cpu0
    await scraper.close()
    return cpu, counted["samples"]


def stage_costs(series: int, storage: Storage, rounds: int = 10) -> dict[str, float]:
    """CPU-s per million samples of each in-process stage of a steady-state scrape (no HTTP)."""
    text = exposition(series)
    ingestor = Ingestor(lambda: storage, IngestLimits(), CollectorRegistry())
    target = (("instance", "bench:1"), ("job", "bench"))
    cache = SeriesCache()
    body = text.encode()
    costs = {
        "full parse (first scrape, or a changed shape)": 0.0,
        "read values of a same-shape body": 0.0,
        "relabel + staleness": 0.0,
        "validate + append": 0.0,
    }
    shape = learn(body, parse_exposition(text, 0), 0, False)
    assert shape is not None
    start_ms = int(time.time() * 1000)
    for i in range(rounds + 1):
        ts = start_ms + i * 2000
        t = time.process_time()
        parse_exposition(text, ts)
        full = time.process_time() - t
        t0 = time.process_time()
        parsed = reuse(body, shape, ts)
        assert parsed is not None
        t1 = time.process_time()
        batch, kept, added = process_scrape(parsed, target, ProcessOptions(), cache, ts)
        t2 = time.process_time()
        ingestor.append(with_report(batch, cache, target, Report(True, 0.0, kept, kept, added), ts), "scrape")
        t3 = time.process_time()
        if i:
            for name, spent in zip(costs, (full, t1 - t0, t2 - t1, t3 - t2), strict=True):
                costs[name] += spent / rounds / series * 1e6
    return costs


def proc_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prometheus_scraped(port: int, window: float) -> float:
    """Samples Prometheus scraped in the last `window` seconds, by its own PromQL."""
    query = f'sum(sum_over_time(scrape_samples_scraped{{job="bench"}}[{int(window * 1000)}ms]))'
    answer = httpx.get(f"http://127.0.0.1:{port}/api/v1/query", params={"query": query}, timeout=10).json()
    return float(answer["data"]["result"][0]["value"][1])


def bench_prometheus(addresses: list[str], interval: float, seconds: float, workdir: Path) -> tuple[float, float]:
    port = free_port()
    config = workdir / "prometheus.yml"
    targets = ", ".join(f"'{a}'" for a in addresses)
    config.write_text(
        f"global: {{scrape_interval: {interval:g}s, scrape_timeout: {interval:g}s}}\n"
        f"scrape_configs:\n  - job_name: bench\n    static_configs:\n      - targets: [{targets}]\n"
    )
    process = subprocess.Popen(
        [
            "/usr/bin/prometheus",
            f"--config.file={config}",
            f"--storage.tsdb.path={workdir / 'prom-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/-/ready")
        time.sleep(WARMUP_SECONDS)
        cpu0 = proc_cpu(process.pid)
        time.sleep(seconds)
        cpu1 = proc_cpu(process.pid)
        scraped = prometheus_scraped(port, seconds)
    finally:
        process.terminate()
        process.wait(timeout=30)
    return cpu1 - cpu0, scraped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--targets", type=int, default=4)
    parser.add_argument("--series", type=int, default=10_000)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--storage", choices=("tsdb", "memory"), default="tsdb")
    parser.add_argument(
        "--tick", type=float, default=1.0, help="seconds between starts of due scrapes (the runtime's scrape job: 1)"
    )
    parser.add_argument("--prometheus", action="store_true", help="also measure /usr/bin/prometheus side by side")
    parser.add_argument("--stages", action="store_true", help="also show the in-process cost of each stage")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="nightowl-scrape-bench-"))
    if args.stages:
        storage = open_storage(args.storage, workdir)
        for name, cost in stage_costs(args.series, storage).items():
            print(f"stage {name}: {cost:.2f} CPU-s per million")
        storage.close()
    (workdir / "metrics").write_text(exposition(args.series))
    servers, addresses = start_servers(workdir, args.targets)
    try:
        storage = open_storage(args.storage, workdir)
        cpu, samples = asyncio.run(bench_nightowl(addresses, args.interval, args.seconds, storage, args.tick))
        storage.close()
        per_million = cpu / samples * 1e6
        print(
            f"nightowl:   {samples:>10,} samples scraped, {cpu:6.2f} CPU-s, {per_million:5.2f} CPU-s per million "
            f"({args.storage} storage)"
        )
        if args.prometheus:
            prom_cpu, prom_samples = bench_prometheus(addresses, args.interval, args.seconds, workdir)
            print(
                f"prometheus: {prom_samples:>10,.0f} samples scraped, {prom_cpu:6.2f} CPU-s, "
                f"{prom_cpu / prom_samples * 1e6:5.2f} CPU-s per million"
            )
        print("load average (1, 5, 15 min): " + ", ".join(f"{load:.2f}" for load in os.getloadavg()))
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
