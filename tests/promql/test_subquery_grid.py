"""A subquery whose step grid alone is past query_max_samples is refused before the grid is built
(`victim[1d:1ms]` from a read key grew the server by 1.3 GB per request, kept)."""

from __future__ import annotations

import tracemalloc

import httpx
from fastapi import FastAPI

from nightowl.metrics.model import SampleBatch, labels_from_dict

T0 = 1_700_000_000


async def test_a_subquery_grid_past_the_sample_limit_is_refused_before_it_is_built(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    rows = [(labels_from_dict({"__name__": "victim_metric", "job": "a"}), T0 * 1000, 2.0)]
    app.state.nightowl.ingestor.append(SampleBatch.from_rows(rows), "test")
    tracemalloc.start()
    try:
        response = await client.get(
            "/prometheus/api/v1/query", params={"query": "victim_metric[1d:1ms]", "time": str(T0)}
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 422, response.text
    assert "query_max_samples" in response.json()["error"]
    assert peak < 64 * 2**20  # the 86 M-step grid alone is 690 MB


async def test_an_ordinary_subquery_still_answers(app: FastAPI, client: httpx.AsyncClient) -> None:
    rows = [(labels_from_dict({"__name__": "victim_metric", "job": "a"}), (T0 - i) * 1000, float(i)) for i in range(60)]
    app.state.nightowl.ingestor.append(SampleBatch.from_rows(rows), "test")
    response = await client.get(
        "/prometheus/api/v1/query", params={"query": "max_over_time(victim_metric[1m:10s])", "time": str(T0)}
    )
    assert response.status_code == 200, response.text
    assert (
        response.json()["data"]["result"][0]["value"][1] == "50"
    )  # steps at T0-50 ... T0; T0-60 is outside the left-open range
