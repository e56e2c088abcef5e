from __future__ import annotations

import math

import cramjam
import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from nightowl.core.errors import Unavailable
from nightowl.ingest.remote_write import decode_samples
from nightowl.metrics.model import STALE_NAN, AppendResult, Matcher, SampleBatch, is_stale
from tests.support import wire

WRITE = "/prometheus/api/v1/write"
V1 = {
    "Content-Type": "application/x-protobuf",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "0.1.0",
}
V2 = {
    "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
    "Content-Encoding": "snappy",
    "X-Prometheus-Remote-Write-Version": "2.0.0",
}


def stored(app: FastAPI, name: str) -> list[tuple[dict[str, str], list[int], list[float]]]:
    series = app.state.nightowl.storage.select([Matcher("__name__", "=", name)], -(2**62), 2**62)
    return [(dict(s.labels), s.timestamps.tolist(), s.values.tolist()) for s in series]


async def test_remote_write_v1_stores_samples_and_metadata(app: FastAPI, client: httpx.AsyncClient) -> None:
    payload = wire.write_request(
        [
            (
                {"__name__": "http_requests_total", "job": "api", "code": "200"},
                [(10.0, 1_700_000_000_000), (0.0, 1_700_000_015_000)],
            ),
            ({"__name__": "http_requests_total", "job": "api", "code": "500", "empty": ""}, [(1.5, 1_700_000_000_000)]),
        ],
        metadata=[(1, "http_requests_total", "Requests served.", "")],
    )
    response = await client.post(WRITE, content=wire.snappy_literal(payload), headers=V1)
    assert response.status_code == 204
    assert stored(app, "http_requests_total") == [
        (
            {"__name__": "http_requests_total", "code": "200", "job": "api"},
            [1_700_000_000_000, 1_700_000_015_000],
            [10.0, 0.0],
        ),
        ({"__name__": "http_requests_total", "code": "500", "job": "api"}, [1_700_000_000_000], [1.5]),
    ]
    meta = app.state.nightowl.storage.metadata("http_requests_total")["http_requests_total"][0]
    assert (meta.type, meta.help) == ("counter", "Requests served.")


async def test_remote_write_many_series_compressed_by_a_real_snappy(app: FastAPI, client: httpx.AsyncClient) -> None:
    series = [
        ({"__name__": "load", "instance": f"host-{i}"}, [(float(i), 1_700_000_000_000 + j * 1000) for j in range(5)])
        for i in range(500)
    ]
    body = bytes(cramjam.snappy.compress_raw(wire.write_request(series)))
    assert (await client.post(WRITE, content=body, headers=V1)).status_code == 204
    found = stored(app, "load")
    assert len(found) == 500 and sum(len(t) for _, t, _ in found) == 2500
    metrics = (await client.get("/metrics")).text
    assert 'nightowl_ingest_samples_total{protocol="remote_write"} 2500.0' in metrics


async def test_remote_write_v2_resolves_symbols_and_reports_what_was_written(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    payload = wire.write_request_v2(
        [
            (
                {"__name__": "temp_celsius", "room": "kitchen"},
                [(21.5, 1_700_000_000_000)],
                (2, "Temperature.", "celsius"),
            ),
            (
                {"__name__": "temp_celsius", "room": "hall"},
                [(19.0, 1_700_000_000_000), (19.5, 1_700_000_060_000)],
                None,
            ),
        ],
        exemplars_per_series=1,
    )
    response = await client.post(WRITE, content=wire.snappy_literal(payload), headers=V2)
    assert response.status_code == 204
    assert response.headers["X-Prometheus-Remote-Write-Samples-Written"] == "3"
    assert response.headers["X-Prometheus-Remote-Write-Histograms-Written"] == "0"
    assert [labels["room"] for labels, _, _ in stored(app, "temp_celsius")] == ["hall", "kitchen"]
    meta = app.state.nightowl.storage.metadata("temp_celsius")["temp_celsius"][0]
    assert (meta.type, meta.help, meta.unit) == ("gauge", "Temperature.", "celsius")


async def test_native_histograms_are_refused_but_float_samples_kept(app: FastAPI, client: httpx.AsyncClient) -> None:
    payload = wire.write_request([({"__name__": "mixed"}, [(1.0, 1000)])], histograms_per_series=2)
    response = await client.post(WRITE, content=wire.snappy_literal(payload), headers=V1)
    assert response.status_code == 400
    assert "2 native histogram samples were not stored" in response.json()["detail"]
    assert stored(app, "mixed") == [({"__name__": "mixed"}, [1000], [1.0])]
    assert 'reason="native_histogram"} 2.0' in (await client.get("/metrics")).text


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"\x20\xfe\xff\xff\xffnot snappy", V1, 400),
        (b"\xff\xff\xff\xff\x0fnot snappy", V1, 413),
        (wire.snappy_literal(wire.write_request([({"__name__": "t"}, [(1.0, 1)])])[:-3]), V1, 400),
        (wire.snappy_literal(b"\x0a\x05\x0a\x03"), V1, 400),
        (
            wire.snappy_literal(wire.write_request([({"__name__": "t"}, [(1.0, 1)])])),
            {**V1, "Content-Type": "application/json"},
            415,
        ),
        (b"x", {**V1, "Content-Type": "application/x-protobuf;proto=io.prometheus.write.v9.Request"}, 415),
        (b"x", {**V1, "Content-Encoding": "gzip"}, 415),
    ],
    ids=["bad-snappy", "announces-16GiB", "truncated-protobuf", "truncated-label", "content-type", "proto", "gzip"],
)
async def test_malformed_requests_are_4xx_and_store_nothing(
    app: FastAPI, client: httpx.AsyncClient, body: bytes, headers: dict[str, str], status: int
) -> None:
    response = await client.post(WRITE, content=body, headers=headers)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert app.state.nightowl.storage.select([Matcher("__name__", "=~", ".+")], -(2**62), 2**62) == []
    if status == 400:
        metrics = (await client.get("/metrics")).text
        assert 'nightowl_ingest_requests_total{outcome="malformed-payload",protocol="remote_write"} 1.0' in metrics


async def test_v2_errors_still_say_nothing_was_written(client: httpx.AsyncClient) -> None:
    response = await client.post(WRITE, content=b"\x05bad", headers=V2)
    assert response.status_code == 400
    assert response.headers["X-Prometheus-Remote-Write-Samples-Written"] == "0"


class _Overloaded:
    def append(self, batch: SampleBatch) -> AppendResult:
        raise Unavailable("the write-ahead log is full")

    def close(self) -> None:
        """Nothing to release."""


async def test_overloaded_storage_answers_503_with_retry_after(app: FastAPI, client: httpx.AsyncClient) -> None:
    app.state.nightowl.storage = _Overloaded()
    payload = wire.snappy_literal(wire.write_request([({"__name__": "t"}, [(1.0, 1)])]))
    response = await client.post(WRITE, content=payload, headers=V1)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"


def test_sample_decoding_matches_the_wire_for_every_shape() -> None:
    points = [
        (1.5, 1_700_000_000_000),
        (0.0, 1_700_000_000_000),
        (2.0, 0),
        (0.0, 0),
        (-3.0, -5000),
        (7.0, 12),
        (math.inf, 2**62),
    ]
    points += [(STALE_NAN, 1_700_000_000_001)]
    values, stamps = decode_samples([wire.sample(v, t) for v, t in points])
    assert stamps.tolist() == [t for _, t in points]
    assert values[:-1].tolist() == [v for v, _ in points[:-1]]
    assert is_stale(values[-1:]).tolist() == [True]
    fast_only, _ = decode_samples([wire.sample(float(i), 1_700_000_000_000 + i) for i in range(1, 100)])
    assert np.array_equal(fast_only, np.arange(1, 100, dtype=np.float64))


@pytest.mark.parametrize(
    "points",
    [
        [(1.5, 1_700_000_000_000)],
        [(0.0, 1_700_000_000_000)],
        [(1.5, 1_700_000_000_000), (2.5, 1_700_000_015_000)],
        [(1.5, 12)],
    ],
    ids=["one-sample-fast-path", "zero-value", "two-samples", "small-timestamp"],
)
def test_every_request_shape_decodes_the_same(points: list[tuple[float, int]]) -> None:
    from nightowl.ingest.remote_write import decode_v1

    series = [({"__name__": "m", "i": str(i), "odd\x12\x10": "v"}, points) for i in range(3)]
    batch = decode_v1(wire.write_request(series)).batch
    assert [dict(labels)["i"] for labels in batch.series] == ["0", "1", "2"]
    assert batch.series_index.tolist() == [i for i in range(3) for _ in points]
    assert batch.values.tolist() == [v for _ in range(3) for v, _ in points]
    assert batch.timestamps.tolist() == [t for _ in range(3) for _, t in points]


def test_a_label_set_seen_in_two_encodings_is_one_series() -> None:
    from nightowl.ingest.remote_write import decode_v1

    one = ({"__name__": "m", "a": "1", "b": "2"}, [(1.0, 1_700_000_000_000)])
    other = ({"b": "2", "a": "1", "__name__": "m"}, [(2.0, 1_700_000_000_001)])
    batch = decode_v1(wire.write_request([one, other])).batch
    assert batch.series == [(("__name__", "m"), ("a", "1"), ("b", "2"))]
    assert batch.series_index.tolist() == [0, 0]


class _RefusesOne:
    """A storage that finds the first sample of every batch out of order."""

    def append(self, batch: SampleBatch) -> AppendResult:
        return AppendResult(accepted=len(batch) - 1, rejected={"out_of_order": 1})

    def close(self) -> None:
        """Nothing to release."""


async def test_samples_refused_by_the_storage_make_a_400_saying_what_was_written(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.state.nightowl.storage = _RefusesOne()
    series = [({"__name__": "t", "i": str(i)}, [(1.0, 1_700_000_000_000)]) for i in range(3)]
    v1 = await client.post(WRITE, content=wire.snappy_literal(wire.write_request(series)), headers=V1)
    assert v1.status_code == 400
    assert v1.json()["detail"].startswith("1 samples were refused by the storage (out_of_order=1); 2 samples")
    v2_payload = wire.write_request_v2([(labels, points, None) for labels, points in series])
    v2 = await client.post(WRITE, content=wire.snappy_literal(v2_payload), headers=V2)
    assert v2.status_code == 400
    assert v2.headers["X-Prometheus-Remote-Write-Samples-Written"] == "2"
    metrics = (await client.get("/metrics")).text
    assert 'nightowl_ingest_rejected_samples_total{protocol="remote_write",reason="out_of_order"} 1.0' in metrics
