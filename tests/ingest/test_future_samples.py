"""A sample stamped far in the future is refused on every way in, so it cannot block its series:
stored, it would make every later sample of that series "out of order", even after a restart."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from nightowl.core.clock import ManualClock
from nightowl.ingest.limits import IngestLimits
from nightowl.ingest.pipeline import Ingestor
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import Matcher, SampleBatch
from tests.support import wire
from tests.support.apps import admin_client, running_app

NOW_MS = 1_700_000_000_000
FAR = 4611686018427387904
WRITE = "/prometheus/api/v1/write"
IMPORT = "/prometheus/api/v1/import/prometheus"
V1 = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
V2 = {"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request", "Content-Encoding": "snappy"}


def values(app: FastAPI, name: str) -> list[tuple[int, float]]:
    found = app.state.nightowl.storage.select([Matcher("__name__", "=", name)], -(2**62), 2**62)
    return [pair for s in found for pair in zip(s.timestamps.tolist(), s.values.tolist(), strict=True)]


def assert_names_the_tolerance(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["limit"] == "ingest_future_tolerance" and problem["limit_value"] == "10m"
    assert "too_far_in_future=1" in problem["detail"]


async def test_a_far_future_import_is_refused_and_the_series_takes_later_samples_across_restarts(
    make_settings, clock: ManualClock
) -> None:
    async with running_app(make_settings, clock) as app, admin_client(app) as client:
        assert_names_the_tolerance(await client.post(IMPORT, content=f"victim 1 {FAR}\n"))
        assert (await client.post(IMPORT, content=f"victim 2 {NOW_MS}\n")).status_code == 204
    clock.advance(60)
    async with running_app(make_settings, clock) as app, admin_client(app) as client:
        assert (await client.post(IMPORT, content=f"victim 3 {NOW_MS + 60_000}\n")).status_code == 204
        assert values(app, "victim") == [(NOW_MS, 2.0), (NOW_MS + 60_000, 3.0)]


async def test_within_the_tolerance_is_accepted_and_the_rest_of_a_request_is_stored(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    body = f"ahead 1 {NOW_MS + 10 * 60_000}\nahead 2 {NOW_MS + 10 * 60_000 + 1}\nother 3 {NOW_MS}\n"
    response = await client.post(IMPORT, content=body)
    assert_names_the_tolerance(response)
    assert response.json()["written"] == 2
    assert values(app, "ahead") == [(NOW_MS + 10 * 60_000, 1.0)]
    assert values(app, "other") == [(NOW_MS, 3.0)]
    metrics = (await client.get("/metrics")).text
    assert 'nightowl_ingest_rejected_samples_total{protocol="import_prometheus",reason="too_far_in_future"} 1.0' in (
        metrics
    )


async def test_the_tolerance_is_a_setting(make_settings, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, ingest_future_tolerance="2d") as app, admin_client(app) as client:
        assert (await client.post(IMPORT, content=f"later 1 {NOW_MS + 86_400_000}\n")).status_code == 204


async def test_remote_write_1_and_2_refuse_far_future_samples(app: FastAPI, client: httpx.AsyncClient) -> None:
    v1 = wire.write_request([({"__name__": "rw1"}, [(1.0, FAR)])])
    assert_names_the_tolerance(await client.post(WRITE, content=wire.snappy_literal(v1), headers=V1))
    v2 = wire.write_request_v2([({"__name__": "rw2"}, [(1.0, FAR)], None)])
    response = await client.post(WRITE, content=wire.snappy_literal(v2), headers=V2)
    assert_names_the_tolerance(response)
    assert response.headers["X-Prometheus-Remote-Write-Samples-Written"] == "0"
    assert values(app, "rw1") == values(app, "rw2") == []


async def test_openmetrics_and_json_lines_imports_refuse_far_future_samples(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    openmetrics = {"Content-Type": "application/openmetrics-text; version=1.0.0"}
    response = await client.post(IMPORT, content=f"om 1 {FAR // 1000}\n# EOF\n", headers=openmetrics)
    assert_names_the_tolerance(response)
    line = json.dumps({"metric": {"__name__": "jl"}, "values": [1], "timestamps": [FAR]})
    assert_names_the_tolerance(await client.post("/prometheus/api/v1/import", content=line))
    assert values(app, "om") == values(app, "jl") == []


async def test_otlp_reports_far_future_points_as_partial_success(app: FastAPI, client: httpx.AsyncClient) -> None:
    gauge = {"name": "otlp.future", "gauge": {"dataPoints": [{"asDouble": 1, "timeUnixNano": str(2**64 - 1)}]}}
    body = {"resourceMetrics": [{"scopeMetrics": [{"metrics": [gauge]}]}]}
    response = await client.post("/v1/metrics", json=body)
    assert response.status_code == 200
    assert response.json()["partialSuccess"]["rejectedDataPoints"] == "1"
    assert "too_far_in_future" in response.json()["partialSuccess"]["errorMessage"]
    assert values(app, "otlp_future") == []


async def test_the_native_json_api_refuses_far_future_points(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/metrics", json={"name": "native", "value": 1, "timestamp": "2999-01-01T00:00:00Z"}
    )
    assert_names_the_tolerance(response)
    assert values(app, "native") == []


@pytest.mark.parametrize("protocol", ["scrape", "rules", "checks"])
def test_in_process_producers_count_far_future_samples_and_store_the_rest(protocol: str) -> None:
    storage = MemoryStorage()
    registry = CollectorRegistry()
    ingestor = Ingestor(lambda: storage, IngestLimits(), registry, clock=ManualClock(NOW_MS / 1000))
    batch = SampleBatch.from_rows([((("__name__", "scraped"),), NOW_MS, 1.0), ((("__name__", "scraped"),), FAR, 2.0)])
    result = ingestor.append(batch, protocol, allow_partial=True)
    assert (result.accepted, result.rejected) == (1, {"too_far_in_future": 1})
    assert (
        registry.get_sample_value(
            "nightowl_ingest_rejected_samples_total", {"protocol": protocol, "reason": "too_far_in_future"}
        )
        == 1.0
    )
