from __future__ import annotations

import httpx
import numpy as np
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from nightowl.ingest.native import aggregate
from nightowl.metrics.model import Matcher

NOW = "2023-11-14T22:13:20.000Z"  # the test clock's 1_700_000_000


async def test_one_metric_is_stored_as_a_series_with_a_source_label(app: FastAPI, client: httpx.AsyncClient) -> None:
    body = {"name": "payment_success_total", "value": 5, "labels": {"region": "eu"}, "source": "checkout"}
    response = await client.post("/api/v1/metrics", json=body)
    assert response.status_code == 201
    assert response.json() == {**body, "value": 5.0, "timestamp": NOW}
    series = app.state.nightowl.storage.select([Matcher("__name__", "=", "payment_success_total")], 0, 2**62)
    assert [dict(s.labels) for s in series] == [
        {"__name__": "payment_success_total", "region": "eu", "source": "checkout"}
    ]


async def test_bulk_then_query_raw_and_aggregated(client: httpx.AsyncClient, clock: ManualClock) -> None:
    base = 1_700_000_000 - 600
    metrics = [
        {"name": "latency_ms", "value": v, "source": "api", "timestamp": base + i * 60}
        for i, v in enumerate([10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
    ]
    metrics.append({"name": "latency_ms", "value": 999, "source": "web", "timestamp": base})
    response = await client.post("/api/v1/metrics/bulk", json={"metrics": metrics})
    assert response.status_code == 201 and response.json() == {"accepted": 11}

    raw = (await client.get("/api/v1/metrics", params={"name": "latency_ms", "source": "api"})).json()
    assert [p["value"] for p in raw["series"][0]["points"]] == [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]

    params = {"name": "latency_ms", "source": "api", "aggregation": "avg", "interval": "5m", "start": base}
    avg = (await client.get("/api/v1/metrics", params=params)).json()
    assert avg["interval_seconds"] == 300
    assert [p["value"] for p in avg["series"][0]["points"]] == [30.0, 80.0]
    p95 = (await client.get("/api/v1/metrics", params={**params, "aggregation": "p95", "interval": "1h"})).json()
    assert p95["series"][0]["points"][0]["value"] == np.percentile(np.arange(10, 101, 10), 95)
    both = (
        await client.get("/api/v1/metrics", params={"name": "latency_ms", "aggregation": "max", "interval": "1h"})
    ).json()
    assert sorted(s["source"] for s in both["series"]) == ["api", "web"]


async def test_latest_names_sources_and_stats(client: httpx.AsyncClient) -> None:
    await client.post(
        "/api/v1/metrics", json={"name": "cpu", "value": 1, "source": "host-a", "timestamp": 1_699_999_000}
    )
    await client.post("/api/v1/metrics", json={"name": "cpu", "value": 2, "source": "host-a"})
    await client.post(
        "/api/v1/metrics", json={"name": "mem", "value": 3, "source": "host-b", "labels": {"kind": "rss"}}
    )
    latest = (await client.get("/api/v1/metrics/latest", params={"name": "cpu"})).json()["metrics"]
    assert latest == [{"name": "cpu", "labels": {}, "source": "host-a", "value": 2.0, "timestamp": NOW}]
    filtered = (await client.get("/api/v1/metrics/latest", params={"label": "kind:rss"})).json()["metrics"]
    assert [m["name"] for m in filtered] == ["mem"]
    assert (await client.get("/api/v1/metrics/names")).json() == {"names": ["cpu", "mem"]}
    assert (await client.get("/api/v1/metrics/sources")).json() == {"sources": ["host-a", "host-b"]}
    stats = (await client.get("/api/v1/metrics/stats")).json()
    assert stats["series"] == 2 and stats["names"] == 2 and stats["sources"] == 2
    assert stats["samples_ingested"]["native_json"] == 3.0


async def test_increment_adds_to_the_latest_value(client: httpx.AsyncClient, clock: ManualClock) -> None:
    first = await client.post("/api/v1/metrics/increment/logins_total", json={"labels": {"app": "web"}})
    assert first.status_code == 200 and first.json()["value"] == 1.0
    clock.advance(10)
    second = await client.post("/api/v1/metrics/increment/logins_total", json={"by": 4, "labels": {"app": "web"}})
    assert second.json()["value"] == 5.0
    other = await client.post("/api/v1/metrics/increment/logins_total")
    assert other.json()["value"] == 1.0


async def test_delete_by_name_and_source(app: FastAPI, client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/metrics", json={"name": "temp", "value": 1, "source": "a"})
    await client.post("/api/v1/metrics", json={"name": "temp", "value": 2, "source": "b"})
    assert (await client.delete("/api/v1/metrics/temp", params={"source": "a"})).status_code == 204
    assert (await client.get("/api/v1/metrics/sources")).json() == {"sources": ["b"]}


async def test_bad_input_is_4xx_naming_the_field(client: httpx.AsyncClient) -> None:
    missing = await client.post("/api/v1/metrics", json={"value": 1})
    assert missing.status_code == 422 and missing.json()["field"] == "name"
    bad_name = await client.post("/api/v1/metrics", json={"name": "", "value": 1})
    assert bad_name.status_code == 422
    bad_interval = await client.get("/api/v1/metrics", params={"name": "x", "aggregation": "avg", "interval": "soon"})
    assert bad_interval.status_code == 422 and bad_interval.json()["field"] == "interval"
    bad_aggregation = await client.get("/api/v1/metrics", params={"name": "x", "aggregation": "median"})
    assert bad_aggregation.status_code == 422
    bad_label = await client.get("/api/v1/metrics/latest", params={"label": "nocolon"})
    assert bad_label.status_code == 422


def test_aggregate_buckets_are_aligned_on_start() -> None:
    stamps = np.array([0, 1000, 59_999, 60_000, 180_000], np.int64)
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert aggregate(stamps, values, 0, 60_000, "sum") == [(0, 6.0), (60_000, 4.0), (180_000, 5.0)]
    assert aggregate(stamps, values, 0, 60_000, "count") == [(0, 3.0), (60_000, 1.0), (180_000, 1.0)]
