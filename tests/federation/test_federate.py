"""/federate's exposition text and the cardinality figures of /status/tsdb, as pure functions."""

from __future__ import annotations

import numpy as np
import pytest

from nightowl.federation.cardinality import cardinality
from nightowl.federation.federate import go_float, newest, render
from nightowl.metrics.model import STALE_NAN, Series, labels_from_dict


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1.0, "1"),
        (123456.0, "123456"),
        (1234567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (-0.0, "-0"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Inf"),
        (1796689786.144, "1.796689786144e+09"),
    ],
)
def test_values_are_written_as_go_formats_them(value: float, text: str) -> None:
    assert go_float(value) == text


def test_families_sorted_external_labels_appended_unless_present() -> None:
    samples = [
        (labels_from_dict({"__name__": "b", "x": 'q"\n\\'}), 2000, 2.5),
        (labels_from_dict({"__name__": "a", "region": "us"}), 1000, 1.0),
        (labels_from_dict({"__name__": "a"}), 1000, 3.0),
        (labels_from_dict({"job": "nameless"}), 1000, 3.0),
    ]
    assert render(samples, {"region": "eu", "dc": "1"}) == (
        "# TYPE a untyped\n"
        'a{dc="1",region="eu"} 3 1000\n'
        'a{region="us",dc="1"} 1 1000\n'
        "# TYPE b untyped\n"
        'b{x="q\\"\\n\\\\",dc="1",region="eu"} 2.5 2000\n'
    )


def test_a_stale_or_old_newest_sample_is_left_out() -> None:
    labels = labels_from_dict({"__name__": "a"})
    ts = np.array([1000, 2000], np.int64)
    assert newest(Series(labels, ts, np.array([1.0, 2.0])), 1500) == (2000, 2.0)
    assert newest(Series(labels, ts, np.array([1.0, STALE_NAN])), 1500) is None
    assert newest(Series(labels, ts, np.array([1.0, 2.0])), 2500) is None


def test_cardinality_counts_as_prometheus_head_stats() -> None:
    series = [
        labels_from_dict({"__name__": "http_requests_total", "code": code, "path": path})
        for code in ("200", "500")
        for path in ("/", "/login", "/api")
    ] + [labels_from_dict({"__name__": "up", "job": "node"})]
    stats = cardinality(series, limit=3)
    assert stats.num_series == 7
    assert stats.num_label_pairs == 2 + 2 + 3 + 1  # distinct name=value pairs
    assert stats.series_count_by_metric_name == [("http_requests_total", 6), ("up", 1)]
    assert stats.label_value_count_by_label_name == [("path", 3), ("__name__", 2), ("code", 2)]
    # each distinct value's length once, not once per series
    assert dict(cardinality(series, limit=10).memory_in_bytes_by_label_name)["path"] == len("//login/api")
    assert stats.series_count_by_label_value_pair == [
        ("__name__=http_requests_total", 6),
        ("code=200", 3),
        ("code=500", 3),
    ]
