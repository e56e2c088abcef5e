"""The Prometheus-compatible query API: envelopes, parameters, errors, and what Grafana asks for."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from nightowl.metrics.model import SampleBatch, labels_from_dict
from tests.support.apps import admin_client

T0 = 1_700_000_000  # the manual clock's start, seconds


@pytest.fixture
def loaded(app: FastAPI) -> FastAPI:
    """Two counters and a gauge, every 15 s for the last hour before the manual clock's now."""
    rows = []
    for i in range(241):
        ts = (T0 - 3600 + i * 15) * 1000
        for instance, factor in (("a", 1.0), ("b", 2.0)):
            labels = labels_from_dict({"__name__": "http_requests_total", "job": "api", "instance": instance})
            rows.append((labels, ts, i * factor))
        rows.append((labels_from_dict({"__name__": "temperature", "room": "lab"}), ts, 20.5))
    app.state.nightowl.storage.append(SampleBatch.from_rows(rows))
    return app


async def test_instant_query_answers_in_the_prometheus_envelope(loaded: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.get("/prometheus/api/v1/query", params={"query": "temperature", "time": str(T0)})
    assert response.status_code == 200
    assert response.json() == {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {"__name__": "temperature", "room": "lab"}, "value": [T0, "20.5"]}],
        },
    }


async def test_query_range_by_post_form(loaded: FastAPI, client: httpx.AsyncClient) -> None:
    form = {"query": "sum(rate(http_requests_total[5m]))", "start": str(T0 - 600), "end": str(T0), "step": "5m"}
    response = await client.post("/prometheus/api/v1/query_range", data=form)
    body = response.json()
    assert body["status"] == "success" and body["data"]["resultType"] == "matrix"
    (series,) = body["data"]["result"]
    assert series["metric"] == {}
    assert [p[0] for p in series["values"]] == [T0 - 600, T0 - 300, T0]
    assert float(series["values"][-1][1]) == pytest.approx(0.2)


async def test_scalar_nan_and_inf_are_strings(client: httpx.AsyncClient) -> None:
    for query, text in (("1/0", "+Inf"), ("-1/0", "-Inf"), ("0/0", "NaN"), ("1e21", "1000000000000000000000")):
        body = (await client.get("/prometheus/api/v1/query", params={"query": query, "time": "100"})).json()
        assert body["data"] == {"resultType": "scalar", "result": [100, text]}


async def test_bad_parameters_are_400_bad_data(client: httpx.AsyncClient) -> None:
    response = await client.get("/prometheus/api/v1/query", params={"query": "up", "time": "yesterday"})
    assert response.status_code == 400
    assert response.json() == {
        "status": "error",
        "errorType": "bad_data",
        "error": 'invalid parameter "time": cannot parse "yesterday" to a valid timestamp',
    }
    response = await client.get("/prometheus/api/v1/query", params={"query": "sum(up"})
    assert response.status_code == 400 and response.json()["errorType"] == "bad_data"
    params = {"query": "up", "start": "0", "end": "100000", "step": "1"}
    response = await client.get("/prometheus/api/v1/query_range", params=params)
    assert response.status_code == 400 and "11,000 points" in response.json()["error"]


async def test_execution_errors_are_422(loaded: FastAPI, client: httpx.AsyncClient) -> None:
    query = "http_requests_total + on(job) http_requests_total"
    response = await client.get("/prometheus/api/v1/query", params={"query": query, "time": str(T0)})
    assert response.status_code == 422
    assert response.json()["errorType"] == "execution"


async def test_stats_all_reports_samples(loaded: FastAPI, client: httpx.AsyncClient) -> None:
    params = {"query": "temperature[5m]", "time": str(T0), "stats": "all"}
    body = (await client.get("/prometheus/api/v1/query", params=params)).json()
    assert body["data"]["stats"]["samples"]["totalQueryableSamples"] == 20  # (t-5m, t]: left-open


async def test_format_query_and_exemplars(client: httpx.AsyncClient) -> None:
    body = (await client.get("/prometheus/api/v1/format_query", params={"query": "sum(rate(x[5m]))by(job)"})).json()
    assert body == {"status": "success", "data": "sum by (job) (rate(x[5m]))"}
    body = (await client.get("/prometheus/api/v1/query_exemplars", params={"query": "x"})).json()
    assert body == {"status": "success", "data": []}


async def test_grafana_data_source_requests(loaded: FastAPI, client: httpx.AsyncClient) -> None:
    """The requests Grafana's Prometheus data source makes: health check, editor, variables, a panel."""
    base = "/prometheus/api/v1"
    info = (await client.get(f"{base}/status/buildinfo")).json()
    assert info["status"] == "success" and info["data"]["version"]
    health = await client.get(f"{base}/query", params={"query": "1+1", "time": str(T0)})
    assert health.json()["data"]["result"] == [T0, "2"]
    window = {"start": str(T0 - 3600), "end": str(T0)}
    labels = (await client.get(f"{base}/labels", params=window)).json()
    assert labels["data"] == ["__name__", "instance", "job", "room"]
    names = (await client.get(f"{base}/label/__name__/values", params=window)).json()
    assert names["data"] == ["http_requests_total", "temperature"]
    values = await client.get(
        f"{base}/label/instance/values", params={**window, "match[]": 'http_requests_total{job="api"}'}
    )
    assert values.json()["data"] == ["a", "b"]
    series = (await client.post(f"{base}/series", data={**window, "match[]": "temperature"})).json()
    assert series["data"] == [{"__name__": "temperature", "room": "lab"}]
    metadata = (await client.get(f"{base}/metadata")).json()
    assert metadata == {"status": "success", "data": {}}
    panel = {
        "query": "sum by (instance) (rate(http_requests_total[1m]))",
        "start": str(T0 - 3600),
        "end": str(T0),
        "step": "60",
    }
    result = (await client.post(f"{base}/query_range", data=panel)).json()
    assert [s["metric"] for s in result["data"]["result"]] == [{"instance": "a"}, {"instance": "b"}]
    assert all(float(v) == pytest.approx(1 / 15) for _, v in result["data"]["result"][0]["values"][1:])
    runtime = (await client.get(f"{base}/status/runtimeinfo")).json()
    assert runtime["data"]["lookbackDelta"] == "300s"


async def test_query_limits_answer_422_naming_the_setting(make_settings, clock) -> None:  # type: ignore[no-untyped-def]
    from nightowl.app import create_app

    app = create_app(make_settings(query_max_samples=5), clock=clock)
    async with app.router.lifespan_context(app):
        rows = [(labels_from_dict({"__name__": "x"}), (T0 - i) * 1000, 1.0) for i in range(10)]
        app.state.nightowl.storage.append(SampleBatch.from_rows(rows))
        async with admin_client(app) as client:
            response = await client.get("/prometheus/api/v1/query", params={"query": "x[1m]", "time": str(T0)})
    assert response.status_code == 422
    body = response.json()
    assert body["errorType"] == "execution" and "query_max_samples=5" in body["error"]


async def test_timeout_answers_503(loaded: FastAPI, client: httpx.AsyncClient) -> None:
    params = {"query": "sum(rate(http_requests_total[5m]))", "time": str(T0), "timeout": "0"}
    response = await client.get("/prometheus/api/v1/query", params=params)
    assert response.status_code == 503
    assert response.json()["errorType"] == "timeout"


async def test_overlong_query_is_rejected_before_parsing(client: httpx.AsyncClient) -> None:
    response = await client.get("/prometheus/api/v1/query", params={"query": "x + " * 5000 + "x"})
    assert response.status_code == 400
    assert "query_max_length=16384" in response.json()["error"]


async def test_range_query_of_a_range_vector_is_bad_data(client: httpx.AsyncClient) -> None:
    params = {"query": "up[5m]", "start": "0", "end": "60", "step": "15"}
    response = await client.get("/prometheus/api/v1/query_range", params=params)
    assert response.status_code == 400
    assert response.json()["error"] == (
        'invalid parameter "query": invalid expression type "range vector" for range query, '
        "must be Scalar or instant Vector"
    )


async def test_query_endpoints_keep_authorisation_and_request_metrics(
    loaded: FastAPI, client: httpx.AsyncClient, client_for
) -> None:  # type: ignore[no-untyped-def]
    ingest_only = client_for(scopes=["ingest"])
    for path in ("/prometheus/api/v1/query", "/prometheus/api/v1/query_range"):
        refused = await ingest_only.get(path, params={"query": "up"})
        assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
        assert "'read' permission" in refused.json()["detail"]
        assert (await ingest_only.post(path, data={"query": "up"})).status_code == 403
        assert (await client.put(path, params={"query": "up"})).status_code == 405
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=loaded), base_url="http://test")
    async with anonymous:
        assert (await anonymous.get("/prometheus/api/v1/query", params={"query": "up"})).status_code == 401
    ok = await client.get("/prometheus/api/v1/query", params={"query": "temperature", "time": str(T0)})
    assert ok.json()["data"]["result"][0]["value"] == [T0, "20.5"]
    metrics = (await client.get("/metrics")).text
    assert 'nightowl_http_requests_total{method="GET",route="/prometheus/api/v1/query",status="200"}' in metrics
    assert 'route="/prometheus/api/v1/query_range",status="403"' in metrics


async def test_queries_known_to_be_quick_skip_the_thread_pool(
    loaded: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nightowl.api import prometheus

    handed: list[object] = []
    gate = loaded.state.nightowl.query_gate
    real = gate.run

    async def counting(func, *args, **kwargs):  # type: ignore[no-untyped-def]
        handed.append(func)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(gate, "run", counting)
    monkeypatch.setattr(prometheus, "_recent", {})
    monkeypatch.setattr(prometheus, "INLINE_BELOW_S", 60.0)  # "quick" by a bound no busy machine misses
    params = {"query": "sum(temperature) + 0.25", "time": str(T0)}
    answers = [(await client.get("/prometheus/api/v1/query", params=params)).json() for _ in range(3)]
    assert answers[0] == answers[1] == answers[2] and answers[0]["data"]["result"][0]["value"] == [T0, "20.75"]
    assert len(handed) == 1  # the first run measured it; the next ones ran on the event loop
    monkeypatch.setattr(prometheus, "INLINE_BELOW_S", 0.0)
    await client.get("/prometheus/api/v1/query", params=params)
    await client.get("/prometheus/api/v1/query", params=params)
    assert len(handed) == 3  # a query not known to be quick goes to a worker thread


async def test_a_time_whose_milliseconds_overflow_is_bad_data(client: httpx.AsyncClient) -> None:
    """1.7e305 seconds is a finite float, but not in milliseconds (hypothesis found the 500)."""
    for name in ("/prometheus/api/v1/query", "/prometheus/api/v1/series"):
        params = {"query": "1", "time": "1.797693134862316e+305", "match[]": "up", "start": "-1.7e308"}
        response = await client.get(name, params=params)
        assert response.status_code == 400, (name, response.text)
