"""The Prometheus 3.x syntax through the HTTP API: answers, Prometheus-like errors (never a 500), printing."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from nightowl.metrics.model import SampleBatch, labels_from_dict

T0 = 1_700_000_000  # the manual clock's start, seconds


@pytest.fixture
def counter(app: FastAPI) -> FastAPI:
    """A counter going up by 1 every 15 s over the last hour."""
    labels = labels_from_dict({"__name__": "requests_total", "job": "api"})
    rows = [(labels, (T0 - 3600 + i * 15) * 1000, float(i)) for i in range(241)]
    app.state.nightowl.storage.append(SampleBatch.from_rows(rows))
    return app


async def query(client: httpx.AsyncClient, text: str) -> httpx.Response:
    return await client.get("/prometheus/api/v1/query", params={"query": text, "time": str(T0)})


async def test_extended_syntax_answers(counter: FastAPI, client: httpx.AsyncClient) -> None:
    for text, value in (
        ("increase(requests_total[4m+1m] anchored)", "20"),
        ("increase(requests_total[5m] offset (30s*2) smoothed)", "20"),
        ("count(limit_ratio(1, requests_total))", "1"),
    ):
        body = (await query(client, text)).json()
        assert body["status"] == "success", (text, body)
        assert body["data"]["result"][0]["value"][1] == value, text
    form = {"query": "count_over_time(requests_total[step()])", "start": str(T0 - 60), "end": str(T0), "step": "60"}
    body = (await client.post("/prometheus/api/v1/query_range", data=form)).json()
    assert [v[1] for v in body["data"]["result"][0]["values"]] == ["4", "4"]


@pytest.mark.parametrize(
    ("text", "status", "kind"),
    [
        ("requests_total[5m-5m]", 400, "bad_data"),
        ("requests_total[1m/0]", 400, "bad_data"),
        ("requests_total[step()]", 400, "bad_data"),  # an instant query's step is 0
        ("requests_total[5m:1m] anchored", 400, "bad_data"),
        ("__nightowl_anchored(requests_total[5m])", 400, "bad_data"),
        ("deriv(requests_total[5m] anchored)", 422, "execution"),
    ],
)
async def test_errors_are_prometheus_like(client: httpx.AsyncClient, text: str, status: int, kind: str) -> None:
    response = await query(client, text)
    assert response.status_code == status, response.text
    assert response.json()["errorType"] == kind


async def test_format_query_prints_the_modifiers(client: httpx.AsyncClient) -> None:
    params = {"query": "rate(x[5m]   anchored)+x smoothed"}
    body = (await client.get("/prometheus/api/v1/format_query", params=params)).json()
    assert body == {"status": "success", "data": "rate(x[5m] anchored) + x smoothed"}
