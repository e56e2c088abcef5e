"""Remote read against real Prometheus 2.42: a Prometheus with `remote_read:` pointing at Nightowl answers
PromQL as if it held the data itself, and both answer types match what Prometheus itself sends."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cramjam
import httpx
import numpy as np
import pytest
from fastapi import FastAPI

from nightowl.app import create_app
from nightowl.config import load_settings
from nightowl.federation import readproto, xorchunk
from nightowl.ingest.protos import MANY, ONE, F, build
from nightowl.metrics.model import SampleBatch, labels_from_dict
from nightowl.metrics.remote.writeproto import HEADERS, compress, encode_write_request
from tests.conftest import credential_for, requires
from tests.support import remote_servers
from tests.support.live import serving
from tests.support.remote_servers import MetricsServer

pytestmark = [] if remote_servers.available("prometheus") else [requires("prometheus", "apt-get install prometheus")]

_ANSWERS = build(
    "tests.remoteread",
    {
        "Label": [("name", 1, F.TYPE_STRING, ONE, ""), ("value", 2, F.TYPE_STRING, ONE, "")],
        "Sample": [("value", 1, F.TYPE_DOUBLE, ONE, ""), ("timestamp", 2, F.TYPE_INT64, ONE, "")],
        "TimeSeries": [("labels", 1, F.TYPE_MESSAGE, MANY, "Label"), ("samples", 2, F.TYPE_MESSAGE, MANY, "Sample")],
        "QueryResult": [("timeseries", 1, F.TYPE_MESSAGE, MANY, "TimeSeries")],
        "ReadResponse": [("results", 1, F.TYPE_MESSAGE, MANY, "QueryResult")],
        "Chunk": [
            ("min_time_ms", 1, F.TYPE_INT64, ONE, ""),
            ("max_time_ms", 2, F.TYPE_INT64, ONE, ""),
            ("type", 3, F.TYPE_INT32, ONE, ""),
            ("data", 4, F.TYPE_BYTES, ONE, ""),
        ],
        "ChunkedSeries": [("labels", 1, F.TYPE_MESSAGE, MANY, "Label"), ("chunks", 2, F.TYPE_MESSAGE, MANY, "Chunk")],
        "ChunkedReadResponse": [
            ("chunked_series", 1, F.TYPE_MESSAGE, MANY, "ChunkedSeries"),
            ("query_index", 2, F.TYPE_INT64, ONE, ""),
        ],
    },
)
ReadRequest: Any = readproto.ReadRequestMessage
NOW_S = int(time.time()) // 60 * 60
START_MS = (NOW_S - 3000) * 1000
GAUGE_START_MS = (NOW_S * 1000 // 7_200_000 - 1) * 7_200_000 + 60_000
"""Inside one 2-hour-aligned window, where Prometheus keeps 50 samples in one head chunk."""


def dataset() -> list[SampleBatch]:
    """Two counters every 15 s for 50 min (200 samples: two chunks each), a noisy gauge every 60 s (50
    samples: one chunk) with a NaN and a huge value, in the 2-hour window before this one."""
    rows, gauge = [], []
    rng = np.random.default_rng(7)
    for i in range(200):
        ts = START_MS + i * 15_000
        for instance, factor in (("a", 1.0), ("b", 2.5)):
            labels = labels_from_dict({"__name__": "rr_requests_total", "job": "api", "instance": instance})
            rows.append((labels, ts, i * factor))
    for i in range(50):
        value = float(rng.normal(20, 3)) if i not in (10, 30) else (math.nan if i == 10 else 1e308)
        gauge.append(
            (labels_from_dict({"__name__": "rr_temperature", "room": "lab"}), GAUGE_START_MS + i * 60_000, value)
        )
    return [SampleBatch.from_rows(gauge), SampleBatch.from_rows(rows)]


class Setup:
    def __init__(self, app: FastAPI, url: str, key: str, direct: MetricsServer, reader: MetricsServer) -> None:
        self.app, self.url, self.key, self.direct, self.reader = app, url, key, direct, reader


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    root: Path = tmp_path_factory.mktemp("remote-read")
    app = create_app(load_settings(None, data_dir=root / "data"))
    with serving(app) as url:
        key = credential_for(app, scopes=["read"])
        direct = remote_servers.start("prometheus")
        for batch in dataset():  # the older samples first: Prometheus takes none older than its head's max - 1 h
            app.state.nightowl.storage.append(batch)
            body = compress(encode_write_request([batch]))
            httpx.post(f"{direct.url}/api/v1/write", content=body, headers=HEADERS, timeout=30).raise_for_status()
        config = (
            "global:\n  scrape_interval: 1h\n"
            "remote_read:\n"
            f"  - url: {url}/prometheus/api/v1/read\n"
            "    read_recent: true\n"
            f"    authorization:\n      credentials: {key}\n"
        )
        reader = remote_servers.start("prometheus", config)
        try:
            yield Setup(app, url, key, direct, reader)
        finally:
            reader.stop()
            direct.stop()


def query_range(server: MetricsServer, query: str) -> Any:
    params = {"query": query, "start": str(GAUGE_START_MS // 1000), "end": str(NOW_S - 60), "step": "60"}
    body = httpx.get(f"{server.url}/api/v1/query_range", params=params, timeout=60).json()
    assert body["status"] == "success", body
    return sorted(body["data"]["result"], key=lambda r: sorted(r["metric"].items()))


@pytest.mark.parametrize(
    "query",
    ["rate(rr_requests_total[5m])", "rr_temperature", "sum by (job) (increase(rr_requests_total[10m]))"],
)
def test_prometheus_reading_nightowl_answers_as_with_the_data_local(setup: Setup, query: str) -> None:
    through_nightowl = query_range(setup.reader, query)
    assert through_nightowl, "the reading Prometheus found nothing through remote read"
    assert through_nightowl == query_range(setup.direct, query)


def read_request(accepted: list[int], *selectors: list[tuple[int, str, str]]) -> bytes:
    request = ReadRequest()
    for matchers in selectors:
        q = request.queries.add(start_timestamp_ms=GAUGE_START_MS, end_timestamp_ms=NOW_S * 1000)
        for kind, name, value in matchers:
            q.matchers.add(type=kind, name=name, value=value)
    request.accepted_response_types.extend(accepted)
    return bytes(cramjam.snappy.compress_raw(request.SerializeToString()))


READ_HEADERS = {
    "Content-Encoding": "snappy",
    "Content-Type": "application/x-protobuf",
    "X-Prometheus-Remote-Read-Version": "0.1.0",
}
SELECTORS = ([(0, "__name__", "rr_requests_total")], [(2, "__name__", "rr_temp.*"), (1, "room", "hall")])


def post_read(base: str, body: bytes, key: str | None = None) -> httpx.Response:
    headers = dict(READ_HEADERS, **({"Authorization": f"Bearer {key}"} if key else {}))
    return httpx.post(base, content=body, headers=headers, timeout=60)


def as_plain(message: Any) -> list[list[tuple[Any, ...]]]:
    return [
        [
            (
                tuple((lb.name, lb.value) for lb in ts.labels),
                [(s.timestamp, np.float64(s.value).view(np.uint64)) for s in ts.samples],
            )
            for ts in result.timeseries
        ]
        for result in message.results
    ]


def test_samples_answer_matches_prometheus(setup: Setup) -> None:
    body = read_request([readproto.SAMPLES], *SELECTORS)
    ours = post_read(f"{setup.url}/prometheus/api/v1/read", body, setup.key)
    theirs = post_read(f"{setup.direct.url}/api/v1/read", body)
    assert ours.status_code == theirs.status_code == 200
    assert ours.headers["content-type"] == theirs.headers["content-type"] == "application/x-protobuf"
    assert ours.headers["content-encoding"] == "snappy"
    decoded = []
    for response in (ours, theirs):
        message = _ANSWERS["ReadResponse"]()
        message.ParseFromString(bytes(cramjam.snappy.decompress_raw(response.content)))
        decoded.append(as_plain(message))
    assert [len(result) for result in decoded[0]] == [2, 1]
    assert decoded[0] == decoded[1]


def chunked(response: httpx.Response) -> list[tuple[int, tuple[tuple[str, str], ...], list[Any]]]:
    out = []
    for raw in readproto.read_frames(response.content):
        message = _ANSWERS["ChunkedReadResponse"]()
        message.ParseFromString(raw)
        for series in message.chunked_series:
            labels = tuple((lb.name, lb.value) for lb in series.labels)
            out.append((message.query_index, labels, list(series.chunks)))
    return out


def test_streamed_xor_chunks_match_prometheus(setup: Setup) -> None:
    body = read_request([readproto.STREAMED_XOR_CHUNKS, readproto.SAMPLES], *SELECTORS)
    ours = post_read(f"{setup.url}/prometheus/api/v1/read", body, setup.key)
    theirs = post_read(f"{setup.direct.url}/api/v1/read", body)
    assert ours.status_code == theirs.status_code == 200
    assert ours.headers["content-type"] == theirs.headers["content-type"] == readproto.STREAMED_CONTENT_TYPE
    ours_series, theirs_series = chunked(ours), chunked(theirs)
    same_bytes = 0
    assert [(q, labels) for q, labels, _ in ours_series] == [(q, labels) for q, labels, _ in theirs_series]
    for (_, labels, our_chunks), (_, _, their_chunks) in zip(ours_series, theirs_series, strict=True):
        samples = []
        for chunks in (our_chunks, their_chunks):
            assert all(c.type == 1 for c in chunks)
            decoded = [xorchunk.decode(c.data) for c in chunks]
            assert [(c.min_time_ms, c.max_time_ms) for c in chunks] == [(int(t[0]), int(t[-1])) for t, _ in decoded]
            samples.append(
                [(int(t), int(b)) for ts, vs in decoded for t, b in zip(ts, vs.view(np.uint64), strict=True)]
            )
        assert samples[0] == samples[1], labels
        # Prometheus cuts head chunks by time as well as count, so where it cuts depends on the wall clock;
        # the same samples XOR-encoded give the same bytes either way
        for chunk in their_chunks:
            assert xorchunk.encode(*xorchunk.decode(chunk.data)) == chunk.data, labels
            same_bytes += 1
    assert same_bytes >= len(theirs_series)  # the gauge, NaN and 1e308 included


def test_remote_read_needs_a_read_credential(setup: Setup) -> None:
    body = read_request([readproto.SAMPLES], *SELECTORS)
    assert post_read(f"{setup.url}/prometheus/api/v1/read", body).status_code == 401
