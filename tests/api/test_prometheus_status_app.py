"""The status and federation endpoints in process: the window /status/tsdb counts, bad parameters,
and the `read` permission the new routes need."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from nightowl.metrics.model import SampleBatch, labels_from_dict


@pytest.fixture
def database_url() -> None:
    """Nothing here depends on the state database: SQLite only (the PostgreSQL run adds nothing)."""
    return None


T0_MS = 1_700_000_000_000  # the manual clock's start


def load(app: FastAPI) -> None:
    rows = [(labels_from_dict({"__name__": "recent", "pod": f"p{i}"}), T0_MS - 60_000, 1.0) for i in range(3)] + [
        (labels_from_dict({"__name__": "old", "pod": "p9"}), T0_MS - 4 * 3_600_000, 1.0)
    ]
    app.state.nightowl.storage.append(SampleBatch.from_rows(rows))


async def test_status_tsdb_counts_the_series_of_the_head_range(app: FastAPI, client: httpx.AsyncClient) -> None:
    load(app)
    data = (await client.get("/prometheus/api/v1/status/tsdb")).json()["data"]
    assert data["headStats"]["numSeries"] == 3  # 4 h old is before 1.5 x tsdb_block_duration (3 h)
    assert data["headStats"]["maxTime"] == T0_MS
    assert data["seriesCountByMetricName"] == [{"name": "recent", "value": 3}]
    assert data["labelValueCountByLabelName"] == [{"name": "pod", "value": 3}, {"name": "__name__", "value": 1}]
    assert data["memoryInBytesByLabelName"] == [{"name": "__name__", "value": 6}, {"name": "pod", "value": 6}]


async def test_an_empty_head_reports_prometheus_empty_bounds(client: httpx.AsyncClient) -> None:
    stats = (await client.get("/prometheus/api/v1/status/tsdb")).json()["data"]["headStats"]
    assert stats == {"numSeries": 0, "numLabelPairs": 0, "chunkCount": 0, "minTime": 2**63 - 1, "maxTime": -(2**63)}


async def test_bad_parameters_are_bad_data(client: httpx.AsyncClient) -> None:
    for path, params in (
        ("/prometheus/api/v1/targets/metadata", {"match_target": "{job="}),
        ("/prometheus/api/v1/targets/metadata", {"limit": "-1"}),
        ("/prometheus/api/v1/status/tsdb", {"limit": "0"}),
    ):
        response = await client.get(path, params=params)
        assert response.status_code == 400, (path, params)
        assert response.json()["errorType"] == "bad_data"


async def test_the_new_routes_need_the_read_permission(client_for: Callable[..., httpx.AsyncClient]) -> None:
    ingest_only = client_for(scopes=["ingest"])
    for method, path in (
        ("GET", "/prometheus/federate"),
        ("GET", "/prometheus/api/v1/status/tsdb"),
        ("GET", "/prometheus/api/v1/status/config"),
        ("GET", "/prometheus/api/v1/status/flags"),
        ("GET", "/prometheus/api/v1/targets/metadata"),
        ("POST", "/prometheus/api/v1/read"),
    ):
        assert (await ingest_only.request(method, path)).status_code == 403, path
    reader = client_for(scopes=["read"])
    assert (await reader.get("/prometheus/federate", params={"match[]": "up"})).status_code == 200
