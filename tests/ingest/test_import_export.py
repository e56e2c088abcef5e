from __future__ import annotations

import gzip
import json

import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from nightowl.metrics.model import Matcher, is_stale

IMPORT = "/prometheus/api/v1/import/prometheus"
EXPORT = "/prometheus/api/v1/export"
DELETE = "/prometheus/api/v1/admin/tsdb/delete_series"


def stored(app: FastAPI, name: str) -> list[tuple[dict[str, str], list[int], list[float]]]:
    series = app.state.nightowl.storage.select([Matcher("__name__", "=", name)], -(2**62), 2**62)
    return [(dict(s.labels), s.timestamps.tolist(), s.values.tolist()) for s in series]


async def test_import_text_with_millisecond_timestamps_from_1970(app: FastAPI, client: httpx.AsyncClient) -> None:
    body = 'load_me{job="a"} 1 0\nload_me{job="a"} 2 60000\nload_me{job="b"} 5 30000\n'
    response = await client.post(IMPORT, content=body)
    assert response.status_code == 204
    assert stored(app, "load_me") == [
        ({"__name__": "load_me", "job": "a"}, [0, 60000], [1.0, 2.0]),
        ({"__name__": "load_me", "job": "b"}, [30000], [5.0]),
    ]


async def test_import_labelled_as_a_form_as_curl_data_binary_sends_it(app: FastAPI, client: httpx.AsyncClient) -> None:
    """`curl --data-binary @file` says application/x-www-form-urlencoded; the body is still the payload (was a 500)."""
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response = await client.post(IMPORT, content='form_labelled{job="a"} 7 60000\n', headers=headers)
    assert response.status_code == 204, response.text
    assert stored(app, "form_labelled") == [({"__name__": "form_labelled", "job": "a"}, [60000], [7.0])]


async def test_import_without_timestamps_stamps_the_clock_and_keeps_metadata(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    body = "# HELP temp Room temperature.\n# TYPE temp gauge\ntemp 21.5\n"
    assert (await client.post(IMPORT, content=body)).status_code == 204
    assert stored(app, "temp") == [({"__name__": "temp"}, [1_700_000_000_000], [21.5])]
    assert app.state.nightowl.storage.metadata("temp")["temp"][0].help == "Room temperature."


async def test_stale_token_stores_a_staleness_marker(app: FastAPI, client: httpx.AsyncClient) -> None:
    assert (await client.post(IMPORT, content="m 1 1000\nm stale 2000\n")).status_code == 204
    series = app.state.nightowl.storage.select([Matcher("__name__", "=", "m")], 0, 5000)[0]
    assert is_stale(series.values).tolist() == [False, True]


async def test_gzip_body_and_openmetrics_content_type(app: FastAPI, client: httpx.AsyncClient) -> None:
    body = gzip.compress(b"# TYPE om gauge\nom 3 1700000001.5\n# EOF\n")
    headers = {"Content-Encoding": "gzip", "Content-Type": "application/openmetrics-text; version=1.0.0"}
    assert (await client.post(IMPORT, content=body, headers=headers)).status_code == 204
    assert stored(app, "om") == [({"__name__": "om"}, [1_700_000_001_500], [3.0])]


async def test_malformed_import_is_400_and_stores_nothing(app: FastAPI, client: httpx.AsyncClient) -> None:
    response = await client.post(IMPORT, content="good 1 1\nbad{ 2 2\n")
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "bad{" in response.json()["detail"]
    assert stored(app, "good") == []
    bad_gzip = await client.post(IMPORT, content=b"not gzip", headers={"Content-Encoding": "gzip"})
    assert bad_gzip.status_code == 400


async def test_export_then_import_round_trips_every_value(app: FastAPI, client: httpx.AsyncClient) -> None:
    body = 'rt{a="1"} 1.5 1000\nrt{a="1"} NaN 2000\nrt{a="1"} +Inf 3000\nrt{a="1"} stale 4000\nrt{a="2"} -2 1000\n'
    assert (await client.post(IMPORT, content=body)).status_code == 204
    exported = await client.get(EXPORT, params={"match[]": "rt"})
    assert exported.status_code == 200
    lines = [json.loads(line) for line in exported.text.splitlines()]
    assert lines[0] == {
        "metric": {"__name__": "rt", "a": "1"},
        "values": [1.5, "NaN", "+Inf", "stale"],
        "timestamps": [1000, 2000, 3000, 4000],
    }
    before = app.state.nightowl.storage.select([Matcher("__name__", "=", "rt")], 0, 5000)
    assert (await client.post(DELETE, params={"match[]": "rt"})).status_code == 204
    assert stored(app, "rt") == []
    assert (await client.post("/prometheus/api/v1/import", content=exported.content)).status_code == 204
    after = app.state.nightowl.storage.select([Matcher("__name__", "=", "rt")], 0, 5000)
    assert [s.labels for s in after] == [s.labels for s in before]
    for old, new in zip(before, after, strict=True):
        assert old.values.view(np.uint64).tolist() == new.values.view(np.uint64).tolist()


async def test_export_window_and_several_selectors(client: httpx.AsyncClient) -> None:
    await client.post(IMPORT, content="x 1 1000\nx 2 5000\ny 3 1000\nz 4 1000\n")
    response = await client.post(EXPORT, data={"match[]": ["x", '{__name__="y"}'], "start": "0", "end": "2"})
    assert [json.loads(line) for line in response.text.splitlines()] == [
        {"metric": {"__name__": "x"}, "values": [1.0], "timestamps": [1000]},
        {"metric": {"__name__": "y"}, "values": [3.0], "timestamps": [1000]},
    ]
    assert (await client.get(EXPORT)).status_code == 422
    assert (await client.get(EXPORT, params={"match[]": '{a=""}'})).status_code == 422


async def test_delete_series_in_a_window_keeps_the_rest(app: FastAPI, client: httpx.AsyncClient) -> None:
    await client.post(IMPORT, content="d 1 1000\nd 2 2000\nd 3 3000\nkeep 1 1000\n")
    response = await client.post(DELETE, data={"match[]": "d", "start": "1.5", "end": "2.5"})
    assert response.status_code == 204
    assert stored(app, "d") == [({"__name__": "d"}, [1000, 3000], [1.0, 3.0])]
    await client.post(DELETE, params={"match[]": '{__name__=~".+"}'})
    assert stored(app, "keep") == []


async def test_json_lines_import_refuses_mismatched_arrays(app: FastAPI, client: httpx.AsyncClient) -> None:
    line = json.dumps({"metric": {"__name__": "j"}, "values": [1, 2], "timestamps": [1000]})
    response = await client.post("/prometheus/api/v1/import", content=line)
    assert response.status_code == 400
    assert "pair up" in response.json()["detail"]
    assert stored(app, "j") == []


async def test_samples_older_than_retention_are_refused_loudly_and_the_rest_kept(make_settings, clock) -> None:
    from tests.conftest import credential_for
    from tests.support.apps import http_client, running_app

    now_ms = int(clock.now() * 1000)
    async with running_app(make_settings, clock, tsdb_retention="1h") as app:
        headers = {"Authorization": f"Bearer {credential_for(app, scopes=['ingest', 'read'])}"}
        async with http_client(app, headers=headers) as client:
            response = await client.post(IMPORT, content=f"kept 1 {now_ms}\nancient 1 1000\n")
        assert response.status_code == 400
        problem = response.json()
        assert problem["rejected"] == {"too_old": 1} and problem["written"] == 1
        assert stored(app, "kept") == [({"__name__": "kept"}, [now_ms], [1.0])]


@pytest.mark.parametrize("body", [b"[" * 100_000, b'{"a":' * 100_000, b"[" * 5000 + b"]" * 5000])
async def test_deeply_nested_json_lines_are_a_400(client: httpx.AsyncClient, body: bytes) -> None:
    response = await client.post("/prometheus/api/v1/import", content=body)
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
