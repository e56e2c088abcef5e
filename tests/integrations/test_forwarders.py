"""Metric forwarders end to end: ingest -> matcher -> disk buffer -> a local receiver decoding the real format."""

from __future__ import annotations

import base64
from typing import Any

import httpx
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from tests.notify.receiver import Reply, Request, receiver
from tests.support.apps import admin_client
from tests.support.write_receiver import decode_write_request

IMPORT = "/prometheus/api/v1/import/prometheus"
T = 1_700_000_000_000
TEXT = (
    f'http_requests_total{{job="api",code="200"}} 10 {T}\n'
    f'http_requests_total{{job="api",code="500"}} 2 {T}\n'
    f'node_load1{{job="node"}} 0.5 {T}\n'
    f'http_requests_total{{job="api",code="200"}} 11 {T + 15000}\n'
)


async def configure(client: httpx.AsyncClient, kind: str, **body: Any) -> dict[str, Any]:
    response = await client.put(f"/api/v1/integrations/external/{kind}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def drain(app: FastAPI, kind: str) -> None:
    nightowl = app.state.nightowl
    await nightowl.scheduler.wait_idle()
    await nightowl.integrations.forwarders[kind].drain()


async def test_remote_write_forwards_only_matching_series(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with receiver(status=204) as remote:
        view = await configure(
            client, "remote_write", url=f"{remote.url}/api/v1/write", api_key="tok", match=['{job="api"}']
        )
        assert view["api_key"] == "********" or view["api_key"] not in (None, "tok")
        assert (await client.post(IMPORT, content=TEXT)).status_code == 204
        await drain(app, "remote_write")
        [request] = remote.requests
        assert request.path == "/api/v1/write" and request.headers["authorization"] == "Bearer tok"
        assert request.headers["content-encoding"] == "snappy"
        series, _ = decode_write_request(request.body)
        got = {s.labels["code"]: s.samples for s in series}
        assert got == {"200": [(T, 10.0), (T + 15000, 11.0)], "500": [(T, 2.0)]}
        assert all(s.labels["__name__"] == "http_requests_total" for s in series)
        metrics = (await client.get("/metrics")).text
        assert 'nightowl_forward_samples_total{forwarder="remote_write",result="sent"} 3.0' in metrics
        assert 'nightowl_forward_buffer_bytes{forwarder="remote_write"} 0.0' in metrics


async def test_remote_write_basic_auth_for_grafana_cloud(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with receiver(status=200) as remote:
        await configure(client, "remote_write", url=remote.url + "/push", username="12345", api_key="glc_x")
        await client.post(IMPORT, content=TEXT)
        await drain(app, "remote_write")
        expected = base64.b64encode(b"12345:glc_x").decode()
        assert remote.requests[0].headers["authorization"] == f"Basic {expected}"


async def test_retries_honour_retry_after_and_refused_batches_are_dropped(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    replies: list[Reply] = [(503, "busy", {"Retry-After": "30"}), (204, "", {})]

    def answer(request: Request) -> Reply:
        return replies.pop(0) if replies else (400, "out of order", {})

    async with receiver(handler=answer) as remote:
        await configure(client, "remote_write", url=remote.url, match=["http_requests_total"], batch_size=2)
        await client.post(IMPORT, content=TEXT)
        await drain(app, "remote_write")
        assert len(remote.requests) == 1
        metrics = (await client.get("/metrics")).text
        assert 'nightowl_forward_retries_total{forwarder="remote_write"} 1.0' in metrics
        clock.advance(20)  # the backoff alone (1 s) is over, Retry-After is not
        await drain(app, "remote_write")
        assert len(remote.requests) == 1
        clock.advance(11)
        await drain(app, "remote_write")
        assert len(remote.requests) == 3  # the retried batch of 2 went through, the last one was refused
        assert decode_write_request(remote.requests[1].body)[0] == decode_write_request(remote.requests[0].body)[0]
        metrics = (await client.get("/metrics")).text
        assert 'nightowl_forward_samples_total{forwarder="remote_write",result="sent"} 2.0' in metrics
        assert 'nightowl_forward_samples_total{forwarder="remote_write",result="rejected"} 1.0' in metrics
        status = (await client.get("/api/v1/integrations/external/remote_write")).json()["status"]
        assert status["buffer_bytes"] == 0 and "400" in status["last_error"]


def datadog_check(request: Request) -> Reply:
    """Validate the series API v2 shape as Datadog documents it; 400 otherwise."""
    body = request.json()
    ok = request.path == "/api/v2/series" and request.headers.get("dd-api-key") == "dd-key"
    for s in body.get("series", []):
        ok = ok and isinstance(s["metric"], str) and s["type"] in (0, 1, 2, 3)
        ok = ok and all(isinstance(p["timestamp"], int) and isinstance(p["value"], float) for p in s["points"])
        ok = ok and all(isinstance(t, str) and ":" in t for t in s["tags"])
    return (202, '{"errors":[]}', {}) if ok and body["series"] else (400, "bad", {})


def newrelic_check(request: Request) -> Reply:
    body = request.json()
    ok = request.path == "/metric/v1" and request.headers.get("api-key") == "nr-key" and isinstance(body, list)
    for block in body:
        for m in block["metrics"]:
            ok = ok and m["type"] == "gauge" and isinstance(m["value"], float) and isinstance(m["timestamp"], int)
            ok = ok and isinstance(m["attributes"], dict) and isinstance(m["name"], str)
    return (202, '{"requestId":"x"}', {}) if ok else (400, "bad", {})


async def test_datadog_series_v2(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with receiver(handler=datadog_check) as dd:
        await configure(client, "datadog", url=dd.url, api_key="dd-key", match=['{job="api"}'])
        await client.post(IMPORT, content=TEXT + f'http_requests_total{{job="api",code="200"}} NaN {T + 30000}\n')
        await drain(app, "datadog")
        [request] = dd.requests
        series = {tuple(s["tags"]): s for s in request.json()["series"]}
        ok = series[("code:200", "job:api")]
        assert ok["metric"] == "http_requests_total" and ok["type"] == 3
        assert ok["points"] == [{"timestamp": T // 1000, "value": 10.0}, {"timestamp": T // 1000 + 15, "value": 11.0}]
        metrics = (await client.get("/metrics")).text
        assert 'nightowl_forward_samples_total{forwarder="datadog",result="sent"} 3.0' in metrics
        assert 'nightowl_forward_samples_total{forwarder="datadog",result="skipped"} 1.0' in metrics


async def test_newrelic_metric_api(app: FastAPI, client: httpx.AsyncClient) -> None:
    async with receiver(handler=newrelic_check) as nr:
        await configure(client, "newrelic", url=nr.url, api_key="nr-key", match=["node_load1"])
        await client.post(IMPORT, content=TEXT)
        await drain(app, "newrelic")
        [request] = nr.requests
        assert request.json() == [
            {
                "metrics": [
                    {"name": "node_load1", "type": "gauge", "value": 0.5, "timestamp": T, "attributes": {"job": "node"}}
                ]
            }
        ]


async def test_forwarder_api_validates_and_deletes(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.put("/api/v1/integrations/external/splunk", json={})).status_code == 404
    bad = await client.put("/api/v1/integrations/external/datadog", json={"match": ["up"]})
    assert bad.status_code == 422 and bad.json()["field"] == "api_key"
    bad = await client.put("/api/v1/integrations/external/remote_write", json={"url": "http://x", "match": ["{"]})
    assert bad.status_code == 422 and bad.json()["field"] == "match"
    bad = await client.put("/api/v1/integrations/external/remote_write", json={})
    assert bad.status_code == 422 and bad.json()["field"] == "url"
    view = await configure(client, "datadog", api_key="k")
    assert view["url"] == "https://api.datadoghq.com" and view["api_key"] != "k"
    kept = await configure(client, "datadog", api_key=view["api_key"], batch_size=10)
    assert app.state.nightowl.integrations.forwarders["datadog"].config.api_key == "k" and kept["batch_size"] == 10
    workers = (await client.get("/api/v1/workers")).text
    assert "forward-datadog" in workers
    assert [f["type"] for f in (await client.get("/api/v1/integrations/external")).json()] == ["datadog"]
    assert (await client.delete("/api/v1/integrations/external/datadog")).status_code == 204
    assert (await client.get("/api/v1/integrations/external/datadog")).status_code == 404
    assert "datadog" not in app.state.nightowl.integrations.forwarders


async def test_buffered_samples_survive_a_restart(make_settings: Any, clock: ManualClock) -> None:
    settings = make_settings()
    async with receiver(status=503) as remote:
        first = create_app(settings, clock=clock)
        async with first.router.lifespan_context(first), admin_client(first) as client:
            await configure(client, "remote_write", url=remote.url, match=['{code="500"}'])
            await client.post(IMPORT, content=TEXT)
            await drain(first, "remote_write")
            assert len(remote.requests) == 1
        remote.status = 204
        second = create_app(settings, clock=clock)
        async with second.router.lifespan_context(second), admin_client(second) as client:
            await drain(second, "remote_write")
            assert len(remote.requests) == 2
            [series], _ = decode_write_request(remote.requests[1].body)
            assert series.labels["code"] == "500" and series.samples == [(T, 2.0)]
            status = (await client.get("/api/v1/integrations/external/remote_write")).json()["status"]
            assert status["buffer_bytes"] == 0


async def test_test_endpoint_sends_one_sample_in_the_real_format(client: httpx.AsyncClient) -> None:
    async with receiver(handler=newrelic_check) as nr:
        await configure(client, "newrelic", url=nr.url, api_key="nr-key")
        result = (await client.post("/api/v1/integrations/external/newrelic/test")).json()
        assert result == {"ok": True, "status_code": 202, "error": None}
        [metric] = nr.requests[0].json()[0]["metrics"]
        assert metric["name"] == "nightowl_forward_test" and metric["attributes"] == {"forwarder": "newrelic"}
        await configure(client, "newrelic", url=nr.url, api_key="wrong")
        result = (await client.post("/api/v1/integrations/external/newrelic/test")).json()
        assert result["ok"] is False and result["status_code"] == 400
    assert (await client.post("/api/v1/integrations/external/datadog/test")).status_code == 404


async def test_a_small_buffer_drops_the_oldest_samples_and_counts_them(app: FastAPI, client: httpx.AsyncClient) -> None:
    await configure(client, "remote_write", url="http://127.0.0.1:9/write", max_buffer_bytes=4096)
    lines = "".join(f'fill_total{{i="{i}"}} {i} {T + i}\n' for i in range(400))
    assert (await client.post(IMPORT, content=lines)).status_code == 204
    metrics = (await client.get("/metrics")).text
    [dropped] = [
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith('nightowl_forward_samples_total{forwarder="remote_write",result="dropped"}')
    ]
    status = (await client.get("/api/v1/integrations/external/remote_write")).json()["status"]
    assert dropped > 0 and status["buffer_bytes"] <= 4096
