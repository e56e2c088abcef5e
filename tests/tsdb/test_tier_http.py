"""Turning tier reads off, per query and by setting, end to end through the Prometheus query API."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.options import HOUR_MS
from tests.support.apps import admin_client
from tests.tsdb.test_tier_queries import START, fill

URL = "/prometheus/api/v1/query_range"


async def run(client: httpx.AsyncClient, **extra: str) -> tuple[int, list[Any]]:
    params = {
        "query": "avg_over_time(temperature[1h])",
        "start": str((START + 2 * HOUR_MS) / 1000),
        "end": str((START + 10 * HOUR_MS) / 1000),
        "step": "1h",
        "stats": "all",
        **extra,
    }
    body = (await client.get(URL, params=params)).json()
    assert body["status"] == "success", body
    [series] = body["data"]["result"]
    return body["data"]["stats"]["samples"]["totalQueryableSamples"], series["values"]


async def test_max_source_resolution_raw_and_downsampling_false_read_raw_samples(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    storage = app.state.nightowl.storage
    assert isinstance(storage, TSDB)
    fill(storage, hours=12)
    tiered, tier_values = await run(client)
    raw, raw_values = await run(client, max_source_resolution="raw")
    assert (await run(client, downsampling="false"))[0] == raw
    assert (await run(client, max_source_resolution="0s"))[0] == raw
    assert (await run(client, max_source_resolution="5m"))[0] == tiered
    assert tiered * 4 < raw
    assert [t for t, _ in tier_values] == [t for t, _ in raw_values]
    for (_, a), (_, b) in zip(tier_values, raw_values, strict=True):
        assert abs(float(a) - float(b)) < 1e-9 * abs(float(b))


async def test_an_unreadable_max_source_resolution_is_bad_data(client: httpx.AsyncClient) -> None:
    params = {"query": "up", "start": "0", "end": "60", "step": "15", "max_source_resolution": "soon"}
    response = await client.get(URL, params=params)
    assert response.status_code == 400
    assert "max_source_resolution" in response.json()["error"]


async def test_the_tsdb_auto_downsampling_setting_turns_tier_reads_off(make_settings: Any, clock: ManualClock) -> None:
    app = create_app(make_settings(tsdb_auto_downsampling=False), clock=clock)
    async with app.router.lifespan_context(app):
        fill(app.state.nightowl.storage, hours=12)
        async with admin_client(app) as client:
            default, _ = await run(client)
            raw, _ = await run(client, max_source_resolution="raw")
    assert default == raw
