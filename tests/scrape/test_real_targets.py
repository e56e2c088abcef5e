"""Scraping real exporters: Debian's prometheus-node-exporter and an app instrumented with prometheus-client."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from nightowl.core.clock import SystemClock
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import Matcher
from nightowl.scrape.config import GlobalConfig, ScrapeConfig
from nightowl.scrape.scraper import Scraper
from tests.conftest import requires

NODE_EXPORTER = shutil.which("prometheus-node-exporter") or "/usr/bin/prometheus-node-exporter"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_serving(url: str, deadline_s: float = 10.0) -> None:
    """Waits for an external process to start listening (not for Nightowl logic)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"{url} did not come up within {deadline_s}s")


@pytest.fixture
def node_exporter() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            NODE_EXPORTER,
            f"--web.listen-address=127.0.0.1:{port}",
            "--collector.disable-defaults",
            "--collector.cpu",
            "--collector.meminfo",
            "--collector.loadavg",
            "--collector.filesystem",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_serving(f"http://127.0.0.1:{port}/metrics")
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def scraper_for(address: str, storage: MemoryStorage, **config: object) -> Scraper:
    job = ScrapeConfig.model_validate(
        {"job_name": "node", "scrape_interval": "15s", "static_configs": [{"targets": [address]}], **config}
    )
    return Scraper([job], GlobalConfig(), SystemClock(), storage.append)


def values(storage: MemoryStorage, name: str) -> list[float]:
    return [float(s.values[-1]) for s in storage.select([Matcher("__name__", "=", name)], 0, 2**62)]


def needs_node_exporter(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    if os.path.exists(NODE_EXPORTER):
        return test
    return requires("node-exporter", "apt-get install prometheus-node-exporter")(test)


@needs_node_exporter
async def test_scrapes_a_real_node_exporter(node_exporter: str) -> None:
    storage = MemoryStorage()
    scraper = scraper_for(
        node_exporter,
        storage,
        metric_relabel_configs=[{"source_labels": ["__name__"], "regex": "go_.*", "action": "drop"}],
    )
    (pool,) = scraper.pools.values()
    (key,) = pool.targets
    state = await scraper.scrape_once("node", key)
    await scraper.close()
    assert state.health == "up", state.last_error
    assert values(storage, "up") == [1.0]
    load = storage.select([Matcher("__name__", "=", "node_load1")], 0, 2**62)
    assert dict(load[0].labels) == {"__name__": "node_load1", "instance": node_exporter, "job": "node"}
    assert storage.select([Matcher("__name__", "=~", "node_cpu_seconds_total")], 0, 2**62)
    assert not storage.select([Matcher("__name__", "=~", "go_.*")], 0, 2**62)
    scraped, kept = (
        values(storage, "scrape_samples_scraped")[0],
        values(storage, "scrape_samples_post_metric_relabeling")[0],
    )
    assert scraped > kept > 20
    assert values(storage, "scrape_series_added") == [kept]
    assert 0 < values(storage, "scrape_duration_seconds")[0] < 5


@needs_node_exporter
async def test_a_node_exporter_going_away_marks_its_series_stale(node_exporter: str) -> None:
    storage = MemoryStorage()
    scraper = scraper_for(node_exporter, storage)
    (key,) = scraper.pools["node"].targets
    await scraper.scrape_once("node", key)
    scraper.pools["node"].config.static_configs[0].targets.clear()
    scraper.sync(scraper.pools["node"])
    await scraper.close()
    (load,) = storage.select([Matcher("__name__", "=", "node_load1")], 0, 2**62)
    (up,) = storage.select([Matcher("__name__", "=", "up")], 0, 2**62)
    assert [v != v for v in load.values] == [False, True]
    assert [v != v for v in up.values] == [False, True]


@pytest.fixture
def instrumented_app() -> Iterator[tuple[str, Counter, Gauge]]:
    registry = CollectorRegistry()
    requests = Counter("app_requests", "Requests served.", ["path"], registry=registry)
    queue = Gauge("app_queue_size", "Items waiting.", registry=registry)
    requests.labels("/checkout").inc(3)
    queue.set(7)
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    try:
        yield f"127.0.0.1:{port}", requests, queue
    finally:
        server.shutdown()
        thread.join(timeout=5)


async def test_scrapes_a_prometheus_client_app_over_openmetrics_and_tracks_staleness(
    instrumented_app: tuple[str, Counter, Gauge],
) -> None:
    address, requests, _ = instrumented_app
    storage = MemoryStorage()
    scraper = scraper_for(address, storage)
    (key,) = scraper.pools["node"].targets
    await scraper.scrape_once("node", key)
    assert values(storage, "app_requests_total") == [3.0]
    assert not storage.select([Matcher("__name__", "=", "app_requests_created")], 0, 2**62)
    assert storage.metadata("app_requests")["app_requests"][0].type == "counter"
    assert values(storage, "app_queue_size") == [7.0]

    requests.remove("/checkout")
    await scraper.scrape_once("node", key)
    await scraper.close()
    (series,) = storage.select([Matcher("__name__", "=", "app_requests_total")], 0, 2**62)
    assert series.values[-1] != series.values[-1]


async def test_a_target_that_refuses_connections_is_down_with_the_error() -> None:
    storage = MemoryStorage()
    scraper = scraper_for(f"127.0.0.1:{free_port()}", storage)
    (key,) = scraper.pools["node"].targets
    state = await scraper.scrape_once("node", key)
    await scraper.close()
    assert state.health == "down"
    assert "ConnectError" in state.last_error
    assert values(storage, "up") == [0.0]


@needs_node_exporter
async def test_configured_job_is_scraped_by_the_scheduler_job(node_exporter: str, make_settings: Any) -> None:
    from nightowl.app import create_app
    from nightowl.core.clock import ManualClock

    clock = ManualClock(1_700_000_000.0)
    settings = make_settings(
        scrape_configs=[
            {"job_name": "node", "scrape_interval": "10s", "static_configs": [{"targets": [node_exporter]}]}
        ]
    )
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        nightowl = application.state.nightowl
        clock.advance(10)
        await nightowl.scheduler.run_now("scrape")
        await nightowl.scraper.wait_idle()
        (up,) = nightowl.storage.select([Matcher("__name__", "=", "up")], 0, 2**62)
        assert dict(up.labels) == {"__name__": "up", "instance": node_exporter, "job": "node"}
        assert up.values.tolist() == [1.0]
        assert 1_700_000_000_000 <= int(up.timestamps[0]) <= 1_700_000_010_000
