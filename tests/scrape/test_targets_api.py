"""/api/v1/targets manages targets at run time; /prometheus/api/v1/targets shows them as Prometheus does."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from nightowl.metrics.model import Matcher
from tests.support.apps import admin_client


class Page:
    def __call__(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="demo_value 42\n")


async def test_target_crud_and_the_prometheus_view(client: httpx.AsyncClient, app: FastAPI) -> None:
    nightowl = app.state.nightowl
    nightowl.scraper.transport = httpx.MockTransport(Page())
    created = await client.post(
        "/api/v1/targets",
        json={"job": "payments", "address": "10.0.0.5:9100", "labels": {"env": "prod"}, "scrape_interval": "15s"},
    )
    assert created.status_code == 201, created.text
    target = created.json()
    assert target["scrape_interval"] == "15s"
    assert target["status"]["scrape_url"] == "http://10.0.0.5:9100/metrics"

    (key,) = nightowl.scraper.pools["payments"].targets
    await nightowl.scraper.scrape_once("payments", key)
    (series,) = nightowl.storage.select([Matcher("__name__", "=", "demo_value")], 0, 2**62)
    assert dict(series.labels) == {
        "__name__": "demo_value",
        "env": "prod",
        "instance": "10.0.0.5:9100",
        "job": "payments",
    }

    view = (await client.get("/prometheus/api/v1/targets")).json()
    assert view["status"] == "success"
    (active,) = view["data"]["activeTargets"]
    assert active["health"] == "up"
    assert active["scrapePool"] == "payments"
    assert active["labels"] == {"env": "prod", "instance": "10.0.0.5:9100", "job": "payments"}
    assert active["scrapeInterval"] == "15s"
    assert active["discoveredLabels"]["__address__"] == "10.0.0.5:9100"

    assert 'nightowl_scrape_targets{health="up"} 1.0' in (await client.get("/metrics")).text
    pools = (await client.get("/prometheus/api/v1/scrape_pools")).json()
    assert pools == {"status": "success", "data": {"scrapePools": ["payments"]}}
    listed = (await client.get("/api/v1/targets")).json()["targets"]
    assert [t["id"] for t in listed] == [target["id"]]
    assert listed[0]["status"]["health"] == "up"

    # Stale markers are written when the target goes away, after its last scrape (a sample at the same
    # millisecond would be a conflicting duplicate); 1 ms later, before any background scrape is due.
    nightowl.clock.advance(0.001)
    replaced = await client.put(f"/api/v1/targets/{target['id']}", json={"job": "payments", "address": "10.0.0.6:9100"})
    assert replaced.status_code == 200
    assert replaced.json()["created_at"] == target["created_at"]
    assert [s.target.instance for s in nightowl.scraper.pools["payments"].targets.values()] == ["10.0.0.6:9100"]
    (series,) = nightowl.storage.select([Matcher("__name__", "=", "demo_value")], 0, 2**62)
    assert series.values[-1] != series.values[-1], "the replaced target's series are marked stale"

    assert (await client.delete(f"/api/v1/targets/{target['id']}")).status_code == 204
    assert (await client.get(f"/api/v1/targets/{target['id']}")).status_code == 404
    assert (await client.get("/prometheus/api/v1/targets?state=active")).json()["data"] == {"activeTargets": []}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"job": "a", "address": "no-port"}, "address"),
        ({"job": "a", "address": "h:1", "labels": {"__x": "1"}}, "labels.__x"),
        ({"job": "a", "address": "h:1", "labels": {"1bad": "1"}}, "labels.1bad"),
        ({"job": "a", "address": "h:1", "scrape_interval": "soon"}, "scrape_interval"),
        ({"job": "a", "address": "h:1", "metrics_path": "metrics"}, "metrics_path"),
    ],
)
async def test_invalid_targets_are_refused_naming_the_field(
    client: httpx.AsyncClient, body: dict[str, Any], field: str
) -> None:
    response = await client.post("/api/v1/targets", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field


async def test_unknown_target_is_404_and_bad_state_is_422(client: httpx.AsyncClient) -> None:
    assert (await client.delete("/api/v1/targets/nope")).status_code == 404
    assert (await client.get("/prometheus/api/v1/targets?state=sleeping")).status_code == 422


async def test_targets_survive_a_restart(make_settings: Any, clock: ManualClock) -> None:
    settings = make_settings()
    first = create_app(settings, clock=clock)
    async with first.router.lifespan_context(first):
        async with admin_client(first, "http://t") as c:
            assert (await c.post("/api/v1/targets", json={"job": "j", "address": "h:9100"})).status_code == 201
    second = create_app(settings, clock=clock)
    async with second.router.lifespan_context(second):
        (state,) = second.state.nightowl.scraper.pools["j"].targets.values()
        assert state.target.url == "http://h:9100/metrics"
