"""Remote read bounds what a client controls: queries per request, series and samples per answer."""

from __future__ import annotations

from typing import Any

import cramjam
import httpx
import pytest

from nightowl.core.clock import ManualClock
from nightowl.federation import readproto
from nightowl.metrics.model import Matcher, SampleBatch, labels_from_dict
from tests.support.apps import admin_client, running_app


@pytest.fixture
def database_url() -> None:
    """Nothing here depends on the state database: SQLite only (the PostgreSQL run adds nothing)."""
    return None


T0_MS = 1_700_000_000_000
HEADERS = {"Content-Encoding": "snappy", "Content-Type": "application/x-protobuf"}


def body(queries: int = 1, accepted: tuple[int, ...] = (), matcher: tuple[int, str, str] = (0, "job", "api")) -> bytes:
    request = readproto.ReadRequestMessage()
    for _ in range(queries):
        q = request.queries.add(start_timestamp_ms=T0_MS - 3_600_000, end_timestamp_ms=T0_MS)
        q.matchers.add(type=matcher[0], name=matcher[1], value=matcher[2])
    request.accepted_response_types.extend(accepted)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


def load(app: Any) -> None:
    rows = [
        (labels_from_dict({"__name__": "up", "job": "api", "instance": str(i)}), T0_MS - k * 60_000, 1.0)
        for i in range(3)
        for k in range(10)
    ]
    app.state.nightowl.storage.append(SampleBatch.from_rows(rows))


async def read(client: httpx.AsyncClient, content: bytes, headers: dict[str, str] = HEADERS) -> httpx.Response:
    return await client.post("/prometheus/api/v1/read", content=content, headers=headers)


async def test_too_many_queries_is_413_naming_the_limit(make_settings: Any, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, remote_read_max_queries=2) as app, admin_client(app) as client:
        response = await read(client, body(queries=3))
    assert response.status_code == 413
    assert response.json()["field"] == "remote_read_max_queries"
    assert "remote_read_max_queries=2" in response.json()["detail"]


async def test_too_many_series_or_samples_is_413_before_any_byte(make_settings: Any, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, remote_read_max_series=2) as app, admin_client(app) as client:
        load(app)
        for accepted in ((), (readproto.STREAMED_XOR_CHUNKS,)):
            response = await read(client, body(accepted=accepted))
            assert response.status_code == 413
            assert response.json()["field"] == "remote_read_max_series"
    async with running_app(make_settings, clock, remote_read_max_samples=29) as app, admin_client(app) as client:
        load(app)
        response = await read(client, body())
        assert response.status_code == 413 and response.json()["field"] == "remote_read_max_samples"


async def test_within_the_limits_the_answer_holds_every_sample(make_settings: Any, clock: ManualClock) -> None:
    async with running_app(make_settings, clock, remote_read_max_samples=30) as app, admin_client(app) as client:
        load(app)
        response = await read(client, body())
    assert response.status_code == 200
    payload = bytes(cramjam.snappy.decompress_raw(response.content))
    assert payload == readproto.encode_read_response(
        [app.state.nightowl.storage.select([Matcher("job", "=", "api")], T0_MS - 3_600_000, T0_MS)]
    )


async def test_bad_requests_are_4xx_problems(client: httpx.AsyncClient) -> None:
    assert (await read(client, b"\xff\xff\xff")).status_code == 400
    not_proto = bytes(cramjam.snappy.compress_raw(b"\xff\xff\xff\xff"))
    assert (await read(client, not_proto)).status_code == 400
    gzip = dict(HEADERS, **{"Content-Encoding": "gzip"})
    assert (await read(client, body(), gzip)).status_code == 415
    unsupported = await read(client, body(accepted=(7,)))
    assert unsupported.status_code == 400 and unsupported.json()["field"] == "accepted_response_types"
    bad_regex = await read(client, body(matcher=(2, "job", "(")))
    assert bad_regex.status_code == 400 and "queries[0].matchers[0]" in bad_regex.json()["field"]
    bad_type = await read(client, body(matcher=(9, "job", "x")))
    assert bad_type.status_code == 400 and bad_type.json()["field"] == "queries[0].matchers[0].type"
