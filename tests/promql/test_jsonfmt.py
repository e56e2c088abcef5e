"""The hand-built JSON of query answers is byte for byte what the generic encoder writes."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nightowl.metrics.api import QueryResult
from nightowl.metrics.model import Labels, Series
from nightowl.promql import jsonfmt

LABEL_SETS: list[list[Labels]] = [
    [],
    [()],
    [(), ()],
    [(("__name__", "up"), ("job", "api"))],
    [(("a", "},{"),), (("b", "x"),)],
    [(("__name__", "u"), ("j", '"é\\\n')), ()],
]


@pytest.mark.parametrize("labels", LABEL_SETS)
def test_vector_json_equals_generic_encoding(labels: list[Labels]) -> None:
    stamp = np.array([1_700_000_000_123], np.int64)
    values = [1.5, float("nan"), 1e21, -0.0, 3.0, float("inf")]
    series = [Series(ls, stamp, np.array([values[i % len(values)]])) for i, ls in enumerate(labels)]
    result = QueryResult("vector", series)
    expected = json.dumps(jsonfmt.result_data(result), separators=(",", ":"), ensure_ascii=False)
    assert jsonfmt.render_data(result) == expected


def test_matrix_json_equals_generic_encoding() -> None:
    ts = np.array([1000, 61_500, 122_000], np.int64)
    series = [
        Series((("__name__", "x"), ("k", "},{")), ts, np.array([1.0, 2.5, float("-inf")])),
        Series((), ts[:1], np.array([1e-7])),
    ]
    result = QueryResult("matrix", series)
    expected = json.dumps(jsonfmt.result_data(result), separators=(",", ":"), ensure_ascii=False)
    assert jsonfmt.render_data(result) == expected


def test_matrix_json_of_uneven_series_equals_generic_encoding() -> None:
    series = [
        Series((("a", "1"),), np.array([0, 1500, 3000], np.int64), np.array([1e21, 2.0, float("nan")])),
        Series((("a", "2"),), np.array([1500, 4000], np.int64), np.array([0.1, -0.0])),
        Series((("a", "3"),), np.array([], np.int64), np.array([])),
    ]
    result = QueryResult("matrix", series)
    expected = json.dumps(jsonfmt.result_data(result), separators=(",", ":"), ensure_ascii=False)
    assert jsonfmt.render_data(result) == expected
