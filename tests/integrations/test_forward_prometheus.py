"""The remote write forwarder against a real Prometheus (its own remote write receiver decodes what we send)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nightowl.core.clock import ManualClock
from tests.conftest import requires
from tests.support import remote_servers
from tests.support.remote_servers import MetricsServer

pytestmark = (
    []
    if remote_servers.available("prometheus")
    else [requires("prometheus", "apt-get install prometheus (the remote write forwarder is tested against it)")]
)


@pytest.fixture(scope="module")
def prometheus() -> Iterator[MetricsServer]:
    server = remote_servers.start("prometheus")
    yield server
    server.stop()


async def test_prometheus_stores_what_the_forwarder_selects(
    app: FastAPI, client: httpx.AsyncClient, prometheus: MetricsServer, clock: ManualClock
) -> None:
    # Prometheus only takes recent samples: timestamps are data here, from the wall clock
    now_ms = int(time.time() * 1000)
    clock.set(now_ms / 1000)  # and Nightowl refuses samples ahead of its own clock (ingest_future_tolerance)
    tag = f"t{now_ms}"
    text = (
        f'fwd_requests_total{{run="{tag}",job="api"}} 7 {now_ms}\n'
        f'fwd_requests_total{{run="{tag}",job="batch"}} 9 {now_ms}\n'
    )
    response = await client.put(
        "/api/v1/integrations/external/remote_write",
        json={"url": f"{prometheus.url}/api/v1/write", "match": ['{job="api"}']},
    )
    assert response.status_code == 200, response.text
    assert (await client.post("/prometheus/api/v1/import/prometheus", content=text)).status_code == 204
    await app.state.nightowl.scheduler.wait_idle()
    await app.state.nightowl.integrations.forwarders["remote_write"].drain()
    async with httpx.AsyncClient() as http:
        answer = await http.get(
            f"{prometheus.url}/api/v1/query",
            params={"query": f'fwd_requests_total{{run="{tag}"}}', "time": now_ms / 1000},
        )
    result: list[dict[str, Any]] = answer.json()["data"]["result"]
    assert [(r["metric"]["job"], r["value"][1]) for r in result] == [("api", "7")]
    metrics = (await client.get("/metrics")).text
    assert 'nightowl_forward_samples_total{forwarder="remote_write",result="sent"} 1.0' in metrics
