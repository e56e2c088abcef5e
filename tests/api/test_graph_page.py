"""/prometheus/graph: the page the "Source" links of alerts open, with a graph and the current values."""

from __future__ import annotations

import io

import httpx
from fastapi import FastAPI
from PIL import Image

from nightowl.core.clock import ManualClock
from nightowl.metrics.model import SampleBatch, labels_from_dict
from nightowl.notify.graph import HEIGHT, WIDTH


def write_latency(app: FastAPI, clock: ManualClock) -> None:
    rows = []
    for instance, base in (("api-1", 0.2), ("api-2", 0.4)):
        labels = labels_from_dict({"__name__": "latency_seconds", "instance": instance, "job": "api"})
        rows += [(labels, int((clock.now() - 3600 + 60 * i) * 1000), base + i / 100) for i in range(61)]
    app.state.nightowl.ingestor.append(SampleBatch.from_rows(rows), "test")


async def test_the_page_shows_the_graph_and_current_values(
    app: FastAPI, client: httpx.AsyncClient, clock: ManualClock
) -> None:
    write_latency(app, clock)
    page = await client.get("/prometheus/graph", params={"g0.expr": 'latency_seconds{job="api"} > 0.5'})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert 'latency_seconds{instance=&#34;api-1&#34;, job=&#34;api&#34;}</td>\n<td class="v">0.8</td>' in html
    assert 'class="key" style="background:#1a73e8"' in html  # the legend: api-1 is the first line
    assert "&gt; 0.5" in html  # the expression is escaped, never interpreted as markup
    assert 'src="graph.png?g0.expr=latency_seconds' in html

    png = await client.get("/prometheus/graph.png", params={"g0.expr": "latency_seconds", "g0.range_input": "1h"})
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (WIDTH, HEIGHT)


async def test_bad_input_is_answered_clearly(client: httpx.AsyncClient) -> None:
    page = await client.get("/prometheus/graph", params={"g0.expr": "sum(", "g0.range_input": "1h"})
    assert page.status_code == 422 and 'class="error"' in page.text
    bad_range = await client.get("/prometheus/graph", params={"g0.expr": "up", "g0.range_input": "1y"})
    assert bad_range.status_code == 422 and bad_range.json()["field"] == "g0.range_input"
    too_long = await client.get("/prometheus/graph.png", params={"g0.expr": "x" * 10_001})
    assert too_long.status_code == 422
    empty = await client.get("/prometheus/graph.png", params={"g0.expr": "nothing_here"})
    assert empty.status_code == 404 and empty.json()["field"] == "g0.expr"
    broken = await client.get("/prometheus/graph.png", params={"g0.expr": "rate(up)"})
    assert broken.status_code == 422 and broken.json()["field"] == "g0.expr"


async def test_a_browser_without_credentials_is_asked_for_them(anon_client: httpx.AsyncClient) -> None:
    answer = await anon_client.get("/prometheus/graph", params={"g0.expr": "up"})
    assert answer.status_code == 401
    assert 'Basic realm="nightowl"' in answer.headers["www-authenticate"]
