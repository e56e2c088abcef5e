"""A heavy query neither freezes the server nor outlives its timeout: it runs in a worker thread of the
query gate, `/status` and `/health` keep answering meanwhile, and queries past the gate's queue are
refused at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from nightowl.metrics.model import SampleBatch, labels_from_dict
from tests.conftest import BASE_URL, credential_for

T0 = 1_700_000_000
HEAVY = {"query": "quantile_over_time(0.5, load[1h:1s])", "start": str(T0 - 3600), "end": str(T0), "step": "15"}


@pytest.fixture
async def busy_app(make_settings: Any, clock: ManualClock) -> AsyncIterator[FastAPI]:
    settings = make_settings(query_timeout=2.0, query_max_concurrency=1, query_max_queued=0)
    application = create_app(settings, clock=clock)
    async with application.router.lifespan_context(application):
        rows = []
        for i in range(1000):
            labels = labels_from_dict({"__name__": "load", "instance": f"i{i}"})
            rows += [(labels, (T0 - 3600 + t * 15) * 1000, float(t)) for t in range(241)]
        application.state.nightowl.storage.append(SampleBatch.from_rows(rows))
        yield application


async def test_status_answers_while_a_heavy_query_runs_and_the_query_stops_at_its_timeout(busy_app: FastAPI) -> None:
    headers = {"Authorization": f"Bearer {credential_for(busy_app, scopes=['admin'])}"}
    transport = httpx.ASGITransport(app=busy_app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers, timeout=60) as client:
        started = time.monotonic()
        heavy = asyncio.create_task(client.get("/prometheus/api/v1/query_range", params=HEAVY))
        await asyncio.sleep(0.3)  # let the heavy query reach its worker thread (real concurrency, not logic)

        other = {**HEAVY, "step": "30"}  # not the same query, so not shared
        refused = await client.get("/prometheus/api/v1/query_range", params=other)
        assert refused.status_code == 503
        assert refused.json()["errorType"] == "unavailable"
        assert "query_max_concurrency=1" in refused.json()["error"]

        latencies = []
        while not heavy.done():
            for path in ("/status", "/health"):
                asked = time.monotonic()
                response = await client.get(path)
                latencies.append(time.monotonic() - asked)
                assert response.status_code in (200, 503), response.text
            await asyncio.sleep(0.05)
        answer = await heavy
        took = time.monotonic() - started

    assert answer.status_code == 503 and answer.json()["errorType"] == "timeout", answer.text
    assert took < 2.0 + 3.0  # the 2 s timeout, plus one chunk of work and a busy CI machine
    assert len(latencies) >= 4
    # the event loop is never held for the query (it was held for all of it); a loaded 2-core CI machine
    # still delays single answers while the query thread holds the GIL between numpy calls
    assert sorted(latencies)[len(latencies) // 2] < 0.5 and max(latencies) < 3.0, latencies


async def test_identical_queries_in_flight_share_one_evaluation(busy_app: FastAPI) -> None:
    headers = {"Authorization": f"Bearer {credential_for(busy_app, scopes=['admin'])}"}
    transport = httpx.ASGITransport(app=busy_app)
    params = {**HEAVY, "timeout": "1s"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers, timeout=60) as client:
        first = asyncio.create_task(client.get("/prometheus/api/v1/query_range", params=params))
        await asyncio.sleep(0.3)  # the first is evaluating in its worker thread (real concurrency, not logic)
        second = await client.get("/prometheus/api/v1/query_range", params=params)  # no slot, no queue: shared
        answer = await first
    assert busy_app.state.nightowl.query_gate.shared == 1, second.text
    assert second.status_code == answer.status_code == 503
    assert second.json() == answer.json() and answer.json()["errorType"] == "timeout"
