"""Nightowl scrapes itself into its own storage, as Prometheus does: `up{job="nightowl"}` is a PromQL query away."""

from __future__ import annotations

from typing import Any

import httpx

from nightowl.core.clock import ManualClock
from tests.support.apps import admin_client, running_app


async def query(client: httpx.AsyncClient, promql: str) -> list[dict[str, Any]]:
    answer = await client.get("/prometheus/api/v1/query", params={"query": promql})
    assert answer.status_code == 200, answer.text
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    return result


async def test_own_metrics_are_stored_every_self_scrape_interval(make_settings: Any, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, port=3017) as app, admin_client(app) as client:
        scheduler = app.state.nightowl.scheduler
        await scheduler.stop()  # the clock drives the scheduler by hand below
        assert await query(client, 'up{job="nightowl"}') == []
        clock.advance(15)
        assert "self-scrape" in scheduler.run_due()
        await scheduler.wait_idle()

        [up] = await query(client, 'up{job="nightowl"}')
        assert up["metric"] == {"__name__": "up", "job": "nightowl", "instance": "127.0.0.1:3017"}
        assert up["value"][1] == "1"
        [rss] = await query(client, 'process_resident_memory_bytes{job="nightowl"}')
        assert float(rss["value"][1]) > 10e6
        assert await query(client, 'python_info{job="nightowl"}')
        # a scraped `job` label (the scheduler's job) is kept as exported_job, as Prometheus does
        runs = await query(client, 'nightowl_job_missed_runs_total{job="nightowl", exported_job="self-scrape"}')
        assert runs

        clock.advance(15)
        assert "self-scrape" in scheduler.run_due()
        await scheduler.wait_idle()
        [samples] = await query(client, 'count_over_time(up{job="nightowl"}[1m])')
        assert samples["value"][1] == "2"


async def test_a_self_scrape_interval_of_zero_switches_it_off(make_settings: Any, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, self_scrape_interval=0) as app:
        assert "self-scrape" not in [s.name for s in app.state.nightowl.scheduler.statuses()]
