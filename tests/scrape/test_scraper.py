"""The scrape loop on a manual clock: each target at its interval and offset, failures, gzip, limits."""

from __future__ import annotations

import gzip

import httpx
import pytest

from nightowl.core.clock import ManualClock
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import Matcher
from nightowl.scrape.config import GlobalConfig, ScrapeConfig
from nightowl.scrape.scraper import Scraper, next_due
from nightowl.scrape.targets import TargetGroup


class Exporters:
    """Fake targets behind httpx.MockTransport: per-host exposition text (None answers 500)."""

    def __init__(self) -> None:
        self.pages: dict[str, str | None] = {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        page = self.pages.get(request.url.netloc.decode())
        if page is None:
            return httpx.Response(500)
        body = gzip.compress(page.encode())
        return httpx.Response(200, content=body, headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"})


def make(clock: ManualClock, exporters: Exporters, storage: MemoryStorage, **config: object) -> Scraper:
    job = ScrapeConfig.model_validate({"job_name": "app", "scrape_interval": "10s", **config})
    return Scraper([job], GlobalConfig(), clock, storage.append, transport=httpx.MockTransport(exporters))


def ups(storage: MemoryStorage) -> dict[str, list[float]]:
    return {
        dict(s.labels)["instance"]: s.values.tolist()
        for s in storage.select([Matcher("__name__", "=", "up")], 0, 2**62)
    }


async def run_for(scraper: Scraper, clock: ManualClock, seconds: int) -> None:
    for _ in range(seconds):
        await scraper.tick()
        await scraper.wait_idle()
        clock.advance(1)


async def test_each_target_is_scraped_once_per_interval_at_its_offset(clock: ManualClock) -> None:
    exporters = Exporters()
    exporters.pages = {f"h{i}:80": "m 1\n" for i in range(5)}
    storage = MemoryStorage()
    scraper = make(clock, exporters, storage, static_configs=[{"targets": list(exporters.pages)}])
    await run_for(scraper, clock, 30)
    for series in storage.select([Matcher("__name__", "=", "up")], 0, 2**62):
        assert len(series.timestamps) in (2, 3)
        assert set(series.timestamps[1:] - series.timestamps[:-1]) == {10_000}
    times = sorted({int(s.timestamps[0]) % 10_000 for s in storage.select([Matcher("__name__", "=", "up")], 0, 2**62)})
    assert len(times) > 1, "scrapes should spread over the interval"
    request = exporters.requests[0]
    assert "application/openmetrics-text" in request.headers["Accept"]
    assert request.headers["X-Prometheus-Scrape-Timeout-Seconds"] == "10"
    await scraper.close()


async def test_next_due_is_on_the_targets_offset(clock: ManualClock) -> None:
    scraper = make(clock, Exporters(), MemoryStorage(), static_configs=[{"targets": ["a:1"]}])
    (state,) = scraper.pools["app"].targets.values()
    due = next_due(state.target, 1000.0)
    assert 1000 <= due < 1010
    assert (due - state.target.offset()) % 10 == pytest.approx(0)


async def test_a_failing_target_is_down_then_up_again(clock: ManualClock) -> None:
    exporters = Exporters()
    exporters.pages = {"a:1": "m 1\n"}
    storage = MemoryStorage()
    scraper = make(clock, exporters, storage, static_configs=[{"targets": ["a:1"]}])
    await run_for(scraper, clock, 10)
    exporters.pages["a:1"] = None
    await run_for(scraper, clock, 10)
    (state,) = scraper.pools["app"].targets.values()
    assert state.health == "down" and "HTTP status 500" in state.last_error
    exporters.pages["a:1"] = "m 2\n"
    await run_for(scraper, clock, 10)
    assert ups(storage)["a:1"] == [1.0, 0.0, 1.0]
    (m,) = storage.select([Matcher("__name__", "=", "m")], 0, 2**62)
    assert [v != v for v in m.values] == [False, True, False]
    await scraper.close()


async def test_sample_limit_fails_the_scrape_and_stores_nothing(clock: ManualClock) -> None:
    exporters = Exporters()
    exporters.pages = {"a:1": "a 1\nb 2\nc 3\n"}
    storage = MemoryStorage()
    scraper = make(clock, exporters, storage, static_configs=[{"targets": ["a:1"]}], sample_limit=2)
    await run_for(scraper, clock, 10)
    (state,) = scraper.pools["app"].targets.values()
    assert "sample_limit exceeded" in state.last_error
    assert ups(storage)["a:1"] == [0.0]
    assert not storage.select([Matcher("__name__", "=", "a")], 0, 2**62)
    await scraper.close()


async def test_removed_targets_go_stale_and_new_ones_are_scheduled(clock: ManualClock) -> None:
    exporters = Exporters()
    exporters.pages = {"a:1": "m 1\n", "b:2": "m 1\n"}
    storage = MemoryStorage()
    scraper = make(clock, exporters, storage)
    scraper.set_extra_groups({"app": [TargetGroup(({"__address__": "a:1"},), {})]})
    await run_for(scraper, clock, 10)
    scraper.set_extra_groups({"app": [TargetGroup(({"__address__": "b:2"},), {})]})
    await run_for(scraper, clock, 10)
    assert [v != v for v in ups(storage)["a:1"]] == [False, True]
    assert ups(storage)["b:2"] == [1.0]
    await scraper.close()


async def test_file_sd_changes_are_picked_up_by_discovery(clock: ManualClock, tmp_path: object) -> None:
    from pathlib import Path

    sd = Path(str(tmp_path)) / "targets.json"
    sd.write_text('[{"targets": ["a:1"], "labels": {"team": "core"}}]')
    exporters = Exporters()
    exporters.pages = {"a:1": "m 1\n"}
    storage = MemoryStorage()
    scraper = make(clock, exporters, storage, file_sd_configs=[{"files": [str(sd)]}])
    await scraper.discover()
    await run_for(scraper, clock, 10)
    (series,) = storage.select([Matcher("__name__", "=", "m")], 0, 2**62)
    assert dict(series.labels)["team"] == "core"
    await scraper.close()


async def test_auth_headers_and_params_are_sent(clock: ManualClock, tmp_path: object) -> None:
    from pathlib import Path

    token = Path(str(tmp_path)) / "token"
    token.write_text("s3cret\n")
    exporters = Exporters()
    exporters.pages = {"a:1": "m 1\n", "b:2": "m 1\n"}
    storage = MemoryStorage()
    bearer = make(
        clock,
        exporters,
        storage,
        static_configs=[{"targets": ["a:1"]}],
        authorization={"credentials_file": str(token)},
        params={"module": ["http_2xx"]},
    )
    basic = Scraper(
        [
            ScrapeConfig.model_validate(
                {
                    "job_name": "b",
                    "static_configs": [{"targets": ["b:2"]}],
                    "basic_auth": {"username": "u", "password": "p"},
                }
            )
        ],
        GlobalConfig(),
        clock,
        storage.append,
        transport=httpx.MockTransport(exporters),
    )
    for scraper, job in ((bearer, "app"), (basic, "b")):
        (key,) = scraper.pools[job].targets
        await scraper.scrape_once(job, key)
        await scraper.close()
    first, second = exporters.requests
    assert first.headers["Authorization"] == "Bearer s3cret"
    assert first.url.params["module"] == "http_2xx"
    assert second.headers["Authorization"] == "Basic dTpw"


async def test_a_slow_target_fails_at_its_timeout() -> None:
    import asyncio

    from nightowl.core.clock import SystemClock

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        return httpx.Response(200, text="m 1\n")

    storage = MemoryStorage()
    job = ScrapeConfig.model_validate(
        {"job_name": "s", "scrape_interval": "1s", "scrape_timeout": "100ms", "static_configs": [{"targets": ["a:1"]}]}
    )
    scraper = Scraper([job], GlobalConfig(), SystemClock(), storage.append, transport=httpx.MockTransport(slow))
    (key,) = scraper.pools["s"].targets
    state = await scraper.scrape_once("s", key)
    await scraper.close()
    assert state.health == "down"
    assert "deadline exceeded" in state.last_error


async def test_changing_a_targets_interval_keeps_its_series_and_reschedules_it(clock: ManualClock) -> None:
    exporters = Exporters()
    exporters.pages = {"a:1": "m 1\n"}
    storage = MemoryStorage()
    scraper = make(clock, exporters, storage)
    group = TargetGroup(({"__address__": "a:1"},), {})
    scraper.set_extra_groups({"app": [group]})
    (key,) = scraper.pools["app"].targets
    slower = TargetGroup(({"__address__": "a:1"},), {"__scrape_interval__": "30s"})
    scraper.set_extra_groups({"app": [slower]})
    (state,) = scraper.pools["app"].targets.values()
    assert list(scraper.pools["app"].targets) == [key]
    assert state.target.interval == 30
    await run_for(scraper, clock, 60)
    assert len(ups(storage)["a:1"]) == 2
    await scraper.close()


async def test_a_connection_closed_under_a_reused_keepalive_is_retried_once() -> None:
    from nightowl.scrape.fetch import fetch
    from nightowl.scrape.process import ScrapeFailure

    failures = [httpx.ReadError("connection reset"), httpx.ReadError("connection reset"), httpx.ReadError("again")]

    def handler(request: httpx.Request) -> httpx.Response:
        if len(failures) == 3:
            raise failures.pop()
        return httpx.Response(200, text="m 1\n")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        fetched = await fetch(client, "http://a:1/metrics", 5, {}, 1024)
        assert fetched.body == b"m 1\n"

    def always_reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset")

    async with httpx.AsyncClient(transport=httpx.MockTransport(always_reset)) as client:
        with pytest.raises(ScrapeFailure, match="ReadError: connection reset"):
            await fetch(client, "http://a:1/metrics", 5, {}, 1024)
