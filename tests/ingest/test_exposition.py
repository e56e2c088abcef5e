from __future__ import annotations

import math

import numpy as np
import pytest

from nightowl.ingest.errors import MalformedPayload
from nightowl.ingest.exposition import parse_exposition, parse_series
from nightowl.metrics.model import is_stale


def rows(text: str, default_ms: int = 99, openmetrics: bool = False) -> list[tuple[dict[str, str], int, float]]:
    batch = parse_exposition(text, default_ms, openmetrics=openmetrics)
    return [
        (dict(batch.series[int(i)]), int(t), float(v))
        for i, t, v in zip(batch.series_index, batch.timestamps, batch.values, strict=True)
    ]


def test_samples_with_and_without_timestamps_and_labels() -> None:
    text = 'http_requests_total{method="GET",code="200"} 1027 1395066363000\nup 1\nup{job="a b"} 0\n'
    assert rows(text) == [
        ({"__name__": "http_requests_total", "method": "GET", "code": "200"}, 1395066363000, 1027.0),
        ({"__name__": "up"}, 99, 1.0),
        ({"__name__": "up", "job": "a b"}, 99, 0.0),
    ]


def test_label_order_and_empty_values_do_not_make_a_new_series() -> None:
    batch = parse_exposition('m{b="2",a="1"} 1 1\nm{a="1",b="2",c=""} 2 2\n', 0)
    assert batch.series == [(("__name__", "m"), ("a", "1"), ("b", "2"))]
    assert batch.series_index.tolist() == [0, 0]


def test_escapes_in_label_values_and_help() -> None:
    text = '# HELP m A \\\\ help\\nline.\n# TYPE m gauge\nm{path="C:\\\\dir",q="say \\"hi\\"",nl="a\\nb"} 1\n'
    batch = parse_exposition(text, 0)
    assert dict(batch.series[0]) == {"__name__": "m", "path": "C:\\dir", "q": 'say "hi"', "nl": "a\nb"}
    assert batch.metadata == {"m": ("gauge", "A \\ help\nline.", "")}


def test_special_values_and_the_stale_token() -> None:
    batch = parse_exposition("a NaN 1\nb +Inf 1\nc -Inf 1\nd stale 1\n", 0)
    assert math.isnan(batch.values[0]) and not is_stale(batch.values[:1]).any()
    assert batch.values[1] == math.inf and batch.values[2] == -math.inf
    assert is_stale(batch.values[3:]).tolist() == [True]


def test_tabs_spaces_in_values_and_braces_inside_quotes_take_the_careful_path() -> None:
    text = 'a\t1\t5\nb{x="} 7"} 2 6\nc{x="1 2"}   3\n  d 4 7\n'
    assert [(r[0]["__name__"], r[1], r[2]) for r in rows(text)] == [
        ("a", 5, 1.0),
        ("b", 6, 2.0),
        ("c", 99, 3.0),
        ("d", 7, 4.0),
    ]
    assert rows(text)[1][0]["x"] == "} 7"


def test_timestamps_near_1970_are_kept() -> None:
    assert rows("m 1 0\nm 2 1\nm 3 -1000\n") == [
        ({"__name__": "m"}, 0, 1.0),
        ({"__name__": "m"}, 1, 2.0),
        ({"__name__": "m"}, -1000, 3.0),
    ]


def test_utf8_quoted_metric_and_label_names() -> None:
    assert dict(parse_series('{"my.metric", "host.name"="a"}')) == {"__name__": "my.metric", "host.name": "a"}


def test_openmetrics_seconds_timestamps_exemplars_created_and_eof() -> None:
    text = (
        "# TYPE req counter\n# UNIT req seconds\n# HELP req Requests.\n"
        'req_total{a="b"} 7 1700000000.250 # {trace_id="abc"} 1.0 1700000000.1\n'
        'req_created{a="b"} 1699999000\n'
        "# TYPE temp gauge\ntemp 21.5\n# EOF\nafter 1\n"
    )
    assert rows(text, default_ms=5000, openmetrics=True) == [
        ({"__name__": "req_total", "a": "b"}, 1700000000250, 7.0),
        ({"__name__": "temp"}, 5000, 21.5),
    ]
    batch = parse_exposition(text, 0, openmetrics=True)
    assert batch.metadata["req"] == ("counter", "Requests.", "seconds")
    assert len(batch.series) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('m{a="b} 1', "labels"),
        ("m x", "invalid sample value"),
        ("m 1 1.5", "invalid timestamp"),
        ("1m 1", "invalid metric name"),
        ('m{a="1",a="2"} 1', "repeats a label name"),
        ("# TYPE m bogus\n", "unknown metric type"),
        ("m", "cannot read sample line"),
        ("m{a} 1", "has no value"),
    ],
)
def test_malformed_lines_are_refused_with_the_reason(text: str, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        parse_exposition(text, 0)


def test_columns_are_numpy_arrays_of_the_model_dtypes() -> None:
    batch = parse_exposition("a 1 1\nb 2 2\na 3 3\n", 0)
    assert batch.series_index.dtype == np.int32 and batch.timestamps.dtype == np.int64
    assert batch.values.dtype == np.float64
    assert batch.series_index.tolist() == [0, 1, 0]


def _registry_samples(registry: object, *, openmetrics: bool) -> dict[tuple[tuple[str, str], ...], float]:
    from prometheus_client import CollectorRegistry

    assert isinstance(registry, CollectorRegistry)
    expected = {}
    for family in registry.collect():
        for sample in family.samples:
            if openmetrics and sample.name.endswith("_created"):
                continue
            labels = {k: v for k, v in sample.labels.items() if v}
            expected[tuple(sorted({**labels, "__name__": sample.name}.items()))] = sample.value
    return expected


def test_prometheus_client_text_and_openmetrics_outputs_parse_back() -> None:
    from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, generate_latest
    from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

    registry = CollectorRegistry()
    requests = Counter("http_requests", "Requests by path.", ["path", "code"], registry=registry)
    requests.labels('/a "quoted"\\path\nnext', "200").inc(3)
    requests.labels("/", "").inc()
    Gauge("temperature_celsius", "Temperature.", registry=registry).set(-21.5)
    Histogram("latency_seconds", "Latency.", ["op"], registry=registry).labels("read").observe(0.3)
    Summary("size_bytes", "Sizes.", registry=registry).observe(512)

    text = parse_exposition(generate_latest(registry).decode(), 0)
    got = {text.series[int(i)]: float(v) for i, v in zip(text.series_index, text.values, strict=True)}
    expected = _registry_samples(registry, openmetrics=False)
    assert {k: v for k, v in got.items() if not dict(k)["__name__"].endswith("_created")} == {
        k: v for k, v in expected.items() if not dict(k)["__name__"].endswith("_created")
    }
    assert text.metadata["http_requests_total"][0] == "counter"

    om = parse_exposition(generate_openmetrics(registry).decode(), 0, openmetrics=True)
    got_om = {om.series[int(i)]: float(v) for i, v in zip(om.series_index, om.values, strict=True)}
    assert got_om == _registry_samples(registry, openmetrics=True)
    assert om.metadata["latency_seconds"][0] == "histogram"


@pytest.mark.parametrize(
    ("text", "openmetrics"),
    [("m 1 9223372036854775808\n", False), ("m 1 -99999999999999999999999\n", False), ("m 1 1e30\n# EOF\n", True)],
)
def test_timestamps_outside_64_bits_are_malformed_not_wrapped(text: str, openmetrics: bool) -> None:
    with pytest.raises(MalformedPayload, match="outside the 64-bit millisecond range"):
        parse_exposition(text, 0, openmetrics=openmetrics)
