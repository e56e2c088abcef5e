"""Property tests: whatever arrives on an ingest endpoint, the answer is a success or a 4xx, never
a 5xx, quickly and within bounded memory. Inputs are random bytes, garbled valid payloads, and
payloads built from hostile values (huge timestamps, sint32 extremes, NaN, deep nesting, UTF-8).

Every example goes through the real ASGI app, as a client would send it.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import math
import os
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import cramjam
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

from nightowl.app import create_app
from nightowl.config import load_settings
from nightowl.core.clock import ManualClock
from tests.conftest import credential_for
from tests.support import wire

PROPERTIES = settings(
    max_examples=int(os.environ.get("NIGHTOWL_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SECONDS_PER_REQUEST = 10.0
RSS_GROWTH = 512 * 2**20
"""How much the process may grow over a whole property run: bodies are at most 256 KiB (1 MiB
decompressed) and refused input must not be kept, so growth beyond this is a leak or a blow-up."""
INT64 = st.integers(-(2**63), 2**63 - 1)
HOSTILE_INTS = st.one_of(
    INT64,
    st.sampled_from([0, 1, -1, 2**31 - 1, -(2**31), 2**62, 2**63 - 1, -(2**63), 4611686018427387904]),
)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
TEXT = st.text(st.characters(codec="utf-8"), max_size=40)
NAMES = st.one_of(st.from_regex(r"[a-zA-Z_:][a-zA-Z0-9_:]{0,20}", fullmatch=True), TEXT)


class Endpoint:
    """The real app, started once, driven from synchronous hypothesis examples."""

    def __init__(self, data_dir: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.app = create_app(
            load_settings(
                None,
                data_dir=data_dir,
                max_body_bytes=256 * 1024,
                ingest_max_decompressed_bytes=2**20,
                otlp_max_series_per_request=20_000,
                tsdb_retention="100y",
                tsdb_tier_retention="100y",
            ),
            clock=ManualClock(1_700_000_000.0),
        )
        self.stack = AsyncExitStack()
        self.loop.run_until_complete(self.stack.enter_async_context(self.app.router.lifespan_context(self.app)))
        headers = {"Authorization": f"Bearer {credential_for(self.app, scopes=['admin'])}"}
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://nightowl.test", headers=headers)
        self.rss_at_start = _rss()

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        """Send one request; assert it was answered without a 5xx, in time and in bounded memory."""
        started = time.monotonic()
        response = self.loop.run_until_complete(self.client.post(path, content=body, headers=headers))
        took = time.monotonic() - started
        assert response.status_code < 500, f"{path} answered {response.status_code}: {response.text[:500]}"
        assert took < SECONDS_PER_REQUEST, f"{path} took {took:.1f}s for {len(body)} bytes"
        grown = _rss() - self.rss_at_start
        assert grown < RSS_GROWTH, f"the process grew by {grown / 2**20:.0f} MiB (last: {path}, {len(body)} bytes)"
        return response

    def close(self) -> None:
        self.loop.run_until_complete(self.client.aclose())
        self.loop.run_until_complete(self.stack.aclose())
        pending = asyncio.all_tasks(self.loop)
        for task in pending:
            task.cancel()
        self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.close()


def _rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    served = Endpoint(tmp_path_factory.mktemp("properties"))
    try:
        yield served
    finally:
        served.close()


@st.composite
def garbled(draw: st.DrawFn, valid: bytes) -> bytes:
    """`valid` as is, truncated, with bytes flipped, or with random bytes spliced in."""
    how = draw(st.sampled_from(["as is", "truncate", "flip", "splice"]))
    if not valid or how == "as is":
        return valid
    at = draw(st.integers(0, len(valid) - 1))
    if how == "truncate":
        return valid[:at]
    if how == "flip":
        return valid[:at] + bytes([valid[at] ^ draw(st.integers(1, 255))]) + valid[at + 1 :]
    return valid[:at] + draw(st.binary(max_size=16)) + valid[at:]


def snappy(data: bytes) -> bytes:
    return bytes(cramjam.snappy.compress_raw(data))


LABEL_SETS = st.dictionaries(NAMES, TEXT, max_size=6)
POINTS = st.lists(st.tuples(FLOATS, HOSTILE_INTS.filter(lambda t: -(2**63) <= t < 2**63)), max_size=5)


@st.composite
def remote_write_v1(draw: st.DrawFn) -> bytes:
    series = draw(st.lists(st.tuples(LABEL_SETS, POINTS), max_size=6))
    metadata = draw(st.lists(st.tuples(st.integers(0, 9), NAMES, TEXT, TEXT), max_size=3))
    histograms = draw(st.integers(0, 2))
    return wire.write_request(
        [(labels, [(v, t & (2**64 - 1)) for v, t in points]) for labels, points in series], metadata, histograms
    )


@st.composite
def remote_write_v2(draw: st.DrawFn) -> bytes:
    series = draw(
        st.lists(
            st.tuples(LABEL_SETS, POINTS, st.none() | st.tuples(st.integers(0, 9), TEXT, TEXT)),
            max_size=6,
        )
    )
    return wire.write_request_v2(
        [(labels, [(v, t & (2**64 - 1)) for v, t in points], meta) for labels, points, meta in series]
    )


RW1 = {"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy"}
RW2 = {"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request", "Content-Encoding": "snappy"}


@PROPERTIES
@given(st.data())
def test_remote_write_never_answers_5xx(endpoint: Endpoint, data: st.DataObject) -> None:
    version = data.draw(st.sampled_from(["1", "2"]))
    payload = data.draw(remote_write_v1() if version == "1" else remote_write_v2())
    payload = data.draw(garbled(payload))
    body = data.draw(st.sampled_from([snappy, lambda raw: raw]))(payload)
    body = data.draw(garbled(body))
    endpoint.post("/prometheus/api/v1/write", body, RW1 if version == "1" else RW2)


@PROPERTIES
@given(st.binary(max_size=4096), st.sampled_from([RW1, RW2]))
def test_remote_write_of_random_bytes_never_answers_5xx(
    endpoint: Endpoint, body: bytes, headers: dict[str, str]
) -> None:
    endpoint.post("/prometheus/api/v1/write", body, headers)
    endpoint.post("/prometheus/api/v1/write", snappy(body), headers)


EXPOSITION_PIECES = st.sampled_from(
    [
        "metric",
        "m_total",
        "{",
        "}",
        "=",
        ",",
        '"',
        "\\",
        "\\n",
        " ",
        "\t",
        "\n",
        "\r\n",
        "#",
        "# HELP ",
        "# TYPE ",
        "# UNIT ",
        "# EOF\n",
        "counter",
        "gauge",
        "histogram",
        "summary",
        "info",
        "le",
        "quantile",
        "NaN",
        "+Inf",
        "-Inf",
        "stale",
        "1",
        "-1.5e308",
        "1e309",
        "0x1p3",
        "9223372036854775807",
        "9223372036854775808",
        "4611686018427387904",
        "-9223372036854775809",
        "1700000000000",
        "1.7e9",
        "_created",
        "_bucket",
        "é",
        "\x00",
    ]
)
TEXT_MEDIA = st.sampled_from(["text/plain; version=0.0.4", "application/openmetrics-text; version=1.0.0", ""])


@PROPERTIES
@given(st.lists(st.one_of(EXPOSITION_PIECES, TEXT), max_size=80), TEXT_MEDIA, st.booleans())
def test_exposition_import_never_answers_5xx(endpoint: Endpoint, pieces: list[str], media: str, gzipped: bool) -> None:
    body = "".join(pieces).encode("utf-8", "surrogatepass")
    headers = {"Content-Type": media} if media else {}
    if gzipped:
        body, headers = gzip.compress(body), {**headers, "Content-Encoding": "gzip"}
    endpoint.post("/prometheus/api/v1/import/prometheus", body, headers)


@st.composite
def exposition_lines(draw: st.DrawFn) -> str:
    lines = []
    for _ in range(draw(st.integers(0, 8))):
        name = draw(NAMES)
        labels = draw(LABEL_SETS)
        inner = ",".join(f'{k}="{json.dumps(v)[1:-1]}"' for k, v in labels.items())
        value = draw(st.one_of(FLOATS.map(repr), st.sampled_from(["NaN", "+Inf", "stale", "x"])))
        stamp = draw(st.none() | HOSTILE_INTS.map(str) | FLOATS.map(repr))
        if draw(st.booleans()):
            lines.append(f"# HELP {name} {draw(TEXT)}")
        lines.append(f"{name}{{{inner}}} {value}" + ("" if stamp is None else f" {stamp}"))
    return "\n".join(lines) + "\n"


@PROPERTIES
@given(exposition_lines(), TEXT_MEDIA)
def test_structured_exposition_never_answers_5xx(endpoint: Endpoint, text: str, media: str) -> None:
    headers = {"Content-Type": media} if media else {}
    endpoint.post("/prometheus/api/v1/import/prometheus", text.encode("utf-8", "surrogatepass"), headers)


SINT32 = st.one_of(st.integers(-(2**31), 2**31 - 1), st.sampled_from([-(2**31), 2**31 - 1, -10, 20, 21, -11]))
UINT64 = st.integers(0, 2**64 - 1)
ATTRIBUTES = st.lists(
    st.tuples(TEXT, st.one_of(TEXT, st.integers(-(2**63), 2**63 - 1), FLOATS, st.booleans())), max_size=3
)


def _attributes(target: Any, pairs: list[tuple[str, object]]) -> None:
    for key, value in pairs:
        kv = target.add(key=key)
        if isinstance(value, bool):
            kv.value.bool_value = value
        elif isinstance(value, int):
            kv.value.int_value = value
        elif isinstance(value, float):
            kv.value.double_value = value
        else:
            kv.value.string_value = str(value)


@st.composite
def otlp_request(draw: st.DrawFn) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    for _ in range(draw(st.integers(0, 2))):
        resource = request.resource_metrics.add()
        _attributes(resource.resource.attributes, draw(ATTRIBUTES))
        scope = resource.scope_metrics.add()
        for _ in range(draw(st.integers(0, 3))):
            metric = scope.metrics.add(name=draw(TEXT), unit=draw(TEXT), description=draw(TEXT))
            kind = draw(st.sampled_from(["gauge", "sum", "histogram", "exponential_histogram", "summary"]))
            temporality = draw(st.sampled_from([0, 1, 2, 7]))
            stamp = draw(UINT64)
            if kind in ("gauge", "sum"):
                points = metric.gauge.data_points if kind == "gauge" else metric.sum.data_points
                if kind == "sum":
                    metric.sum.aggregation_temporality = temporality
                    metric.sum.is_monotonic = draw(st.booleans())
                point = points.add(time_unix_nano=stamp, flags=draw(st.integers(0, 3)))
                if draw(st.booleans()):
                    point.as_double = draw(FLOATS)
                else:
                    point.as_int = draw(st.integers(-(2**63), 2**63 - 1))
                _attributes(point.attributes, draw(ATTRIBUTES))
            elif kind == "histogram":
                metric.histogram.aggregation_temporality = temporality
                point = metric.histogram.data_points.add(time_unix_nano=stamp, count=draw(UINT64))
                point.explicit_bounds.extend(draw(st.lists(FLOATS, max_size=8)))
                point.bucket_counts.extend(draw(st.lists(UINT64, max_size=10)))
                if draw(st.booleans()):
                    point.sum = draw(FLOATS)
            elif kind == "exponential_histogram":
                metric.exponential_histogram.aggregation_temporality = temporality
                point = metric.exponential_histogram.data_points.add(
                    time_unix_nano=stamp, scale=draw(SINT32), zero_count=draw(UINT64), zero_threshold=draw(FLOATS)
                )
                for side in (point.positive, point.negative):
                    side.offset = draw(SINT32)
                    side.bucket_counts.extend(draw(st.lists(UINT64, max_size=draw(st.sampled_from([8, 600])))))
            else:
                point = metric.summary.data_points.add(time_unix_nano=stamp, count=draw(UINT64), sum=draw(FLOATS))
                for _ in range(draw(st.integers(0, 3))):
                    point.quantile_values.add(quantile=draw(FLOATS), value=draw(FLOATS))
    return request


@PROPERTIES
@given(st.data())
def test_otlp_protobuf_never_answers_5xx(endpoint: Endpoint, data: st.DataObject) -> None:
    body = data.draw(garbled(data.draw(otlp_request()).SerializeToString()))
    endpoint.post("/v1/metrics", body, {"Content-Type": "application/x-protobuf"})


@PROPERTIES
@given(st.data())
def test_otlp_json_never_answers_5xx(endpoint: Endpoint, data: st.DataObject) -> None:
    from google.protobuf import json_format

    text = json_format.MessageToJson(data.draw(otlp_request()))
    body = data.draw(garbled(text.encode()))
    endpoint.post("/v1/metrics", body, {"Content-Type": "application/json"})


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | FLOATS.filter(math.isfinite) | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)


@PROPERTIES
@given(st.binary(max_size=4096), st.sampled_from(["application/x-protobuf", "application/json"]))
def test_otlp_of_random_bytes_never_answers_5xx(endpoint: Endpoint, body: bytes, media: str) -> None:
    endpoint.post("/v1/metrics", body, {"Content-Type": media})


@st.composite
def json_line(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        return json.dumps(draw(JSON_VALUES))
    line = {
        "metric": draw(st.dictionaries(NAMES, st.one_of(TEXT, JSON_VALUES), max_size=4)),
        "values": draw(
            st.lists(
                st.one_of(FLOATS.filter(math.isfinite), st.sampled_from(["NaN", "+Inf", "stale", "x"]), JSON_VALUES),
                max_size=4,
            )
        ),
        "timestamps": draw(st.lists(st.one_of(st.integers(-(2**70), 2**70), HOSTILE_INTS, JSON_VALUES), max_size=4)),
    }
    return json.dumps(line)


@PROPERTIES
@given(st.lists(json_line(), max_size=6), st.sampled_from(["", "[" * 3000, "\x00", "{"]))
def test_json_lines_import_never_answers_5xx(endpoint: Endpoint, lines: list[str], tail: str) -> None:
    body = ("\n".join(lines) + "\n" + tail).encode("utf-8", "surrogatepass")
    endpoint.post("/prometheus/api/v1/import", body, {"Content-Type": "application/x-ndjson"})


@st.composite
def native_point(draw: st.DrawFn) -> object:
    if draw(st.integers(0, 4)) == 0:
        return draw(JSON_VALUES)
    point: dict[str, object] = {
        "name": draw(st.one_of(NAMES, JSON_VALUES)),
        "value": draw(st.one_of(FLOATS.filter(math.isfinite), st.sampled_from(["NaN", "inf", "1e400"]), JSON_VALUES)),
    }
    if draw(st.booleans()):
        point["labels"] = draw(st.one_of(st.dictionaries(NAMES, TEXT, max_size=4), JSON_VALUES))
    if draw(st.booleans()):
        point["source"] = draw(st.one_of(TEXT, JSON_VALUES))
    if draw(st.booleans()):
        point["timestamp"] = draw(
            st.one_of(
                HOSTILE_INTS,
                st.sampled_from(
                    ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "2023-11-14T22:13:20", "nope", "1e30"]
                ),
                JSON_VALUES,
            )
        )
    return point


@PROPERTIES
@given(st.data())
def test_native_json_api_never_answers_5xx(endpoint: Endpoint, data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(["/api/v1/metrics", "/api/v1/metrics/bulk", "/api/v1/metrics/increment/x"]))
    if path.endswith("bulk"):
        document: object = {"metrics": data.draw(st.lists(native_point(), max_size=5))}
    else:
        document = data.draw(native_point())
    body = data.draw(garbled(json.dumps(document).encode()))
    endpoint.post(path, body, {"Content-Type": "application/json"})
