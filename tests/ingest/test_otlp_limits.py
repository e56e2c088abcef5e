"""OTLP asks for series cheaply (each histogram bucket is one): buckets per data point and series per
request are bounded before the series exist, and impossible bucket layouts are a 400, not a 500."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.metrics.v1 import metrics_pb2

from nightowl.core.clock import ManualClock
from nightowl.metrics.model import Matcher
from tests.support.apps import admin_client, running_app

PROTOBUF = {"Content-Type": "application/x-protobuf"}
NOW_NS = 1_700_000_000_000_000_000


def exponential(positive: int, *, offset: int = 0, negative: int = 0, scale: int = 0, points: int = 1) -> bytes:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add()
    metric.name = "latency"
    metric.exponential_histogram.aggregation_temporality = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
    for i in range(points):
        point = metric.exponential_histogram.data_points.add()
        point.time_unix_nano = NOW_NS
        point.scale = scale
        point.count = positive + negative
        point.positive.offset = offset
        point.positive.bucket_counts.extend([1] * positive)
        point.negative.offset = offset
        point.negative.bucket_counts.extend([1] * negative)
        point.attributes.add(key="point", value={"string_value": str(i)})
    return request.SerializeToString()


def explicit(bounds: int) -> bytes:
    request = ExportMetricsServiceRequest()
    metric = request.resource_metrics.add().scope_metrics.add().metrics.add()
    metric.name = "sizes"
    metric.histogram.aggregation_temporality = metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE
    point = metric.histogram.data_points.add(time_unix_nano=NOW_NS, count=bounds + 1)
    point.explicit_bounds.extend(float(i) for i in range(bounds))
    point.bucket_counts.extend([1] * (bounds + 1))
    return request.SerializeToString()


def series_count(app: FastAPI) -> int:
    return len(app.state.nightowl.storage.series([[Matcher("__name__", "=~", ".+")]], 0, 2**62))


async def test_one_huge_exponential_histogram_is_refused_before_its_series_exist(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    body = exponential(400_000)
    assert len(body) < 500_000
    before = series_count(app)
    response = await client.post("/v1/metrics", content=body, headers=PROTOBUF)
    assert response.status_code == 413, response.text
    problem = response.json()
    assert problem["limit"] == "otlp_max_histogram_buckets" and problem["limit_value"] == 512
    assert "400002 buckets" in problem["detail"]
    assert series_count(app) == before


async def test_explicit_bucket_histograms_are_bounded_too(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/metrics", content=explicit(600), headers=PROTOBUF)
    assert response.status_code == 413
    assert response.json()["limit"] == "otlp_max_histogram_buckets"
    assert (await client.post("/v1/metrics", content=explicit(100), headers=PROTOBUF)).status_code == 200


async def test_histograms_within_the_bucket_limit_are_stored(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/metrics", content=exponential(200, negative=100, offset=-50), headers=PROTOBUF)
    assert response.status_code == 200, response.text
    buckets = app.state.nightowl.storage.select([Matcher("__name__", "=", "latency_bucket")], 0, 2**62)
    assert len(buckets) == 200 + 100 + 2  # positive, negative, zero and +Inf


async def test_series_per_request_is_a_setting_checked_while_translating(make_settings, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, otlp_max_series_per_request=1000) as app:
        async with admin_client(app) as client:
            response = await client.post("/v1/metrics", content=exponential(100, points=20), headers=PROTOBUF)
            assert response.status_code == 413, response.text
            assert response.json()["limit"] == "otlp_max_series_per_request"
            assert response.json()["limit_value"] == 1000
            assert series_count(app) == 0
            ok = await client.post("/v1/metrics", content=exponential(100, points=5), headers=PROTOBUF)
            assert ok.status_code == 200


@pytest.mark.parametrize(
    ("offset", "scale", "field"),
    [
        (2**31 - 1, 0, "offset"),
        (-(2**31), 0, "offset"),
        (2000, 0, "offset"),
        (0, 2**31 - 1, "scale"),
        (0, -(2**31), "scale"),
    ],
)
async def test_bucket_bounds_outside_the_float_range_are_a_400(
    client: httpx.AsyncClient, offset: int, scale: int, field: str
) -> None:
    response = await client.post(
        "/v1/metrics", content=exponential(3, negative=2, offset=offset, scale=scale), headers=PROTOBUF
    )
    assert response.status_code == 400, response.text
    assert response.json()["field"] == field
