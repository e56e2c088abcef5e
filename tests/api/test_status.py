from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from nightowl.core.clock import ManualClock


async def test_health_reports_every_component(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "healthy"
    assert {c["name"]: c["status"] for c in body["components"]} == {
        "database": "ok",
        "scheduler": "ok",
        "storage": "ok",
    }


async def test_health_is_unhealthy_when_disk_is_below_the_critical_free_space(
    make_settings, clock: ManualClock
) -> None:
    from nightowl.app import create_app

    app = create_app(make_settings(storage_critical_free_bytes=10**18), clock=clock)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            response = await c.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    storage = next(c for c in response.json()["components"] if c["name"] == "storage")
    assert storage["status"] == "down" and "GiB free" in storage["detail"]


async def test_ready_and_status(client: httpx.AsyncClient, clock: ManualClock) -> None:
    assert (await client.get("/ready")).json() == {"ready": True}
    status = (await client.get("/status")).json()
    assert status["status"] == "ok" and status["timestamp"] == clock.now()


async def test_workers_lists_jobs_with_their_last_run(app: FastAPI, client: httpx.AsyncClient) -> None:
    await app.state.nightowl.scheduler.run_now("state-db-maintenance")
    jobs = {j["name"]: j for j in (await client.get("/api/v1/workers")).json()["jobs"]}
    assert {"self-health", "state-db-maintenance"} <= set(jobs)
    maintenance = jobs["state-db-maintenance"]
    assert maintenance["runs"] == 1 and maintenance["last_error"] is None
    assert maintenance["last_run"] is not None and maintenance["schedule"] == "every 3600s"


async def test_metrics_export_requests_and_job_runs(app: FastAPI, client: httpx.AsyncClient) -> None:
    await app.state.nightowl.scheduler.run_now("self-health")
    await app.state.nightowl.scheduler.wait_idle()  # the run at start may still be in its thread
    await client.get("/status")
    text = (await client.get("/metrics")).text
    assert 'nightowl_http_requests_total{method="GET",route="/status",status="200"} 1.0' in text
    assert re.search(r'nightowl_job_runs_total\{job="self-health",result="success"\} [1-9]', text)
    assert 'nightowl_component_status{component="database"} 0.0' in text
    assert "nightowl_db_pool_connections" in text


async def test_unknown_route_is_problem_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Not found"


class Echo(BaseModel):
    name: str
    count: int


@pytest.fixture
def echo_app(app: FastAPI) -> FastAPI:
    @app.post("/test-echo")
    async def echo(body: Echo) -> Echo:
        return body

    return app


async def test_body_over_the_limit_gets_413_naming_the_limit(echo_app: FastAPI, client: httpx.AsyncClient) -> None:
    limit = echo_app.state.nightowl.settings.max_body_bytes
    response = await client.post("/test-echo", content=b"x" * (limit + 1))
    assert response.status_code == 413
    assert response.json()["limit"] == limit and "max_body_bytes" in response.json()["detail"]

    async def chunks():  # no Content-Length: the bound holds for streamed bodies too
        for _ in range(limit // 65536 + 2):
            yield b"y" * 65536

    streamed = await client.post("/test-echo", content=chunks())
    assert streamed.status_code == 413


async def test_malformed_json_is_400_and_a_wrong_field_is_422_naming_it(
    echo_app: FastAPI, client: httpx.AsyncClient
) -> None:
    bad = await client.post("/test-echo", content=b'{"name": ', headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["title"] == "Malformed JSON"
    wrong = await client.post("/test-echo", json={"name": "a", "count": "many"})
    assert wrong.status_code == 422
    assert wrong.json()["field"] == "count"


async def test_docs_work_offline(client: httpx.AsyncClient) -> None:
    page = (await client.get("/docs")).text
    assert "/docs-assets/swagger-ui-bundle.js" in page and "cdn" not in page.lower()
    asset = await client.get("/docs-assets/swagger-ui-bundle.js")
    assert asset.status_code == 200 and len(asset.content) > 100_000
    spec = (await client.get("/openapi.json")).json()
    assert "/health" in spec["paths"]
