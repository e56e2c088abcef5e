"""Bodies are data whatever their Content-Type: `curl --data-binary @file` labels every upload
`application/x-www-form-urlencoded`, and no route may answer that with a 500."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI

from nightowl.metrics.model import Matcher

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def test_import_prometheus_reads_a_form_encoded_body_as_exposition_text(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/prometheus/api/v1/import/prometheus", content=b"imported 7 1700000000000\n", headers=FORM
    )
    assert response.status_code == 204, response.text
    found = app.state.nightowl.storage.select([Matcher("__name__", "=", "imported")], 0, 2**62)
    assert [s.values.tolist() for s in found] == [[7.0]]


async def test_import_json_lines_reads_a_form_encoded_body(app: FastAPI, client: httpx.AsyncClient) -> None:
    line = b'{"metric":{"__name__":"lines"},"values":[3],"timestamps":[1700000000000]}\n'
    response = await client.post("/prometheus/api/v1/import", content=line, headers=FORM)
    assert response.status_code == 204, response.text
    assert app.state.nightowl.storage.select([Matcher("__name__", "=", "lines")], 0, 2**62)


async def test_import_takes_its_timestamp_from_the_query_string_not_the_body(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    response = await client.post(
        "/prometheus/api/v1/import/prometheus?timestamp=1700000000000", content=b"stamped 1\n", headers=FORM
    )
    assert response.status_code == 204, response.text
    found = app.state.nightowl.storage.select([Matcher("__name__", "=", "stamped")], 0, 2**62)
    assert [s.timestamps.tolist() for s in found] == [[1_700_000_000_000]]


async def test_no_route_answers_a_form_encoded_or_multipart_body_with_a_5xx(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    bodies = [
        (b"up 1 1\nfoo=bar&a=b%zz", "application/x-www-form-urlencoded"),
        (b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1', "multipart/form-data; boundary=x"),
        (b"\x00\xff" * 64, "multipart/form-data"),
    ]
    failures = []
    for template, operations in app.openapi()["paths"].items():
        path = re.sub(r"\{[^}]+\}", "x1", template)
        for method in sorted({op.upper() for op in operations} & {"POST", "PUT", "PATCH"}):
            for body, content_type in bodies:
                response = await client.request(method, path, content=body, headers={"Content-Type": content_type})
                if response.status_code >= 500:
                    failures.append(f"{method} {path} ({content_type}): {response.status_code} {response.text[:200]}")
    assert failures == []


async def test_pings_alert_posts_and_reloads_take_form_encoded_bodies(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/checks", json={"name": "backup", "type": "heartbeat", "period": 3600})
    assert created.status_code == 201, created.text
    ping = created.json()["ping_url"].removeprefix("http://nightowl.test")
    for path in (ping, f"{ping}/start", f"{ping}/fail", f"{ping}/0"):
        response = await client.post(path, content=b"exit=0&log=done", headers=FORM)
        assert response.status_code == 200, f"{path}: {response.text}"
    alerts = await client.post("/api/v2/alerts", content=b'[{"labels":{"alertname":"x"}}]', headers=FORM)
    assert 400 <= alerts.status_code < 500
    assert (await client.post("/-/reload", content=b"a=b", headers=FORM)).status_code == 200
