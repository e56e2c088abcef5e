"""Classic buckets of two metrics selected by one `__name__` regex are two histograms (Prometheus 3,
histograms.test "duplicate histogram with a different name"): their results collide, never merge."""

from __future__ import annotations

import pytest

from nightowl.promql.engine import PromQLEngine
from nightowl.promql.errors import QueryExecutionError
from tests.promql.test_engine import load


@pytest.fixture
def two_histograms() -> PromQLEngine:
    rows: dict[str, list[float]] = {}
    for name, increments in (
        ("request_duration_seconds_bucket", (1, 2, 3)),
        ("request_duration_seconds2_bucket", (1, 3, 4)),
    ):
        for le, inc in zip(("0.1", "0.2", "+Inf"), increments, strict=True):
            rows[f'{name}{{job="job1",instance="ins1",le="{le}"}}'] = [i * inc for i in range(11)]
    return PromQLEngine(load(rows, step_ms=300_000))


@pytest.mark.parametrize(
    "query",
    [
        'histogram_quantile(0.99, {__name__=~"request_duration_seconds\\\\d*_bucket"})',
        'histogram_quantiles({__name__=~"request_duration_seconds\\\\d*_bucket"}, "q", 0.99)',
        'histogram_fraction(0, 0.1, {__name__=~"request_duration_seconds\\\\d*_bucket"})',
        'histogram_quantile(0.99, rate({__name__=~"request_duration_seconds\\\\d*_bucket"}[10m]))',
    ],
)
def test_buckets_of_two_metric_names_are_not_merged(two_histograms: PromQLEngine, query: str) -> None:
    with pytest.raises(QueryExecutionError, match="same labelset"):
        two_histograms.instant(query, 3_000_000)


def test_one_metric_still_answers_without_its_name(two_histograms: PromQLEngine) -> None:
    (series,) = two_histograms.instant("histogram_quantile(0.99, request_duration_seconds_bucket)", 3_000_000).series
    assert series.labels == (("instance", "ins1"), ("job", "job1"))
    assert float(series.values[0]) == pytest.approx(0.2)


def test_aggregating_the_two_results_is_allowed(two_histograms: PromQLEngine) -> None:
    query = 'sum(histogram_quantile(0.99, {__name__=~"request_duration_seconds\\\\d*_bucket"}))'
    (series,) = two_histograms.instant(query, 3_000_000).series
    assert float(series.values[0]) == pytest.approx(0.4)
