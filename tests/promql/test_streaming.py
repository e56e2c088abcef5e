"""Queries over many series are evaluated a batch of series at a time, with the same answers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest

from nightowl.core.clock import ManualClock
from nightowl.metrics.api import QueryResult, SelectHints
from nightowl.metrics.model import Matcher, SampleBatch, Series, labels_from_dict
from nightowl.promql.engine import EngineLimits, PromQLEngine
from nightowl.tsdb import maintenance
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.options import TSDBOptions

T0 = 1_700_000_000_000
STEPS = 120  # 30 minutes at 15 s
JOBS = ("api", "db", "web")


class CountingQuerier:
    """The TSDB, recording how many series each `select_batches` batch held."""

    def __init__(self, db: TSDB) -> None:
        self.db = db
        self.batches: list[int] = []

    def select(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, hints: SelectHints | None = None
    ) -> list[Series]:
        found = self.db.select(matchers, start_ms, end_ms, hints)
        self.batches.append(len(found))
        return found

    def select_batches(
        self, matchers: Sequence[Matcher], start_ms: int, end_ms: int, hints: SelectHints | None, batch_series: int
    ) -> Iterator[list[Series]]:
        for batch in self.db.select_batches(matchers, start_ms, end_ms, hints, batch_series):
            self.batches.append(len(batch))
            yield batch

    def series(self, *args: object, **kwargs: object) -> list[object]:
        raise AssertionError("not used")

    label_names = label_values = series


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TSDB]:
    """60 counters and 60 gauges over three jobs; half of them flushed to a block, half in the head."""
    store = TSDB(tmp_path_factory.mktemp("tsdb"), TSDBOptions(tiers_ms=()), ManualClock(T0 / 1000 + 3600))
    rng = np.random.default_rng(7)
    series = [
        labels_from_dict({"__name__": name, "job": JOBS[i % 3], "instance": f"host-{i:02d}"})
        for name in ("requests_total", "queue_depth")
        for i in range(60)
    ]
    counters = np.zeros(60)
    for step in range(STEPS):
        counters += rng.integers(0, 20, 60)
        counters[rng.random(60) < 0.01] = 0.0  # counter resets
        values = np.concatenate([counters, rng.normal(50, 10, 60)])
        present = rng.random(len(series)) > 0.05  # gaps, so lookback and windows differ per series
        ids = np.flatnonzero(present).astype(np.int32)
        store.append(SampleBatch(series, ids, np.full(len(ids), T0 + step * 15_000, np.int64), values[present]))
        if step == STEPS // 2:
            maintenance.flush_head(store)
    yield store
    store.close()


QUERIES = [
    "requests_total",
    "rate(requests_total[5m])",
    "sum by (job) (rate(requests_total[5m]))",
    'count by (__name__) ({__name__=~".+"})',
    'count({__name__=~".+"})',
    "min without (instance) (queue_depth)",
    "max(queue_depth) by (job)",
    "group by (job) (queue_depth)",
    "avg by (job) (avg_over_time(queue_depth[10m]))",
    "topk(3, queue_depth)",
    "quantile by (job) (0.9, queue_depth)",
    "sum(abs(queue_depth - 50) > 5)",
    "sum by (job) (increase(requests_total[2m]) * 2)",
    "predict_linear(queue_depth[10m], 600)",
    "sum(quantile_over_time(0.5, queue_depth[5m]))",
    "-queue_depth",
]


def _as_table(result: QueryResult) -> dict[tuple[tuple[str, str], ...], list[tuple[int, float]]]:
    return {s.labels: list(zip(s.timestamps.tolist(), s.values.tolist(), strict=True)) for s in result.series}


@pytest.mark.parametrize("query", QUERIES)
def test_a_streamed_query_answers_as_the_whole_selection_does(db: TSDB, query: str) -> None:
    whole = PromQLEngine(db)
    counting = CountingQuerier(db)
    streamed = PromQLEngine(counting, EngineLimits(batch_cells=3_000))  # a few series per batch
    start, end = T0 + 600_000, T0 + (STEPS - 1) * 15_000
    expected_range = whole.range(query, start, end, 60_000)
    got_range = streamed.range(query, start, end, 60_000)
    assert len(counting.batches) > 2, "the selection was not split into batches"
    assert max(counting.batches) < 60
    for expected, got in [(expected_range, got_range), (whole.instant(query, end), streamed.instant(query, end))]:
        assert got.result_type == expected.result_type
        assert [s.labels for s in got.series] == [s.labels for s in expected.series]
        want, have = _as_table(expected), _as_table(got)
        for labels, points in want.items():
            assert [t for t, _ in have[labels]] == [t for t, _ in points]
            np.testing.assert_allclose([v for _, v in have[labels]], [v for _, v in points], rtol=1e-12)
        assert got.samples_loaded == expected.samples_loaded


def test_an_expression_of_two_selectors_is_evaluated_whole(db: TSDB) -> None:
    counting = CountingQuerier(db)
    engine = PromQLEngine(counting, EngineLimits(batch_cells=500))  # 5m lookback: ~21 series per batch
    engine.instant("sum(queue_depth) / sum(rate(requests_total[5m]))", T0 + 1_000_000)
    assert len(counting.batches) == 6  # each aggregation streams its own selector
    counting.batches.clear()
    engine.instant("queue_depth / on (instance, job) rate(requests_total[5m])", T0 + 1_000_000)
    assert len(counting.batches) == 2  # one whole selection per side


def test_the_sample_limit_holds_across_batches(db: TSDB) -> None:
    engine = PromQLEngine(db, EngineLimits(batch_cells=3_000, max_samples=5_000))
    with pytest.raises(Exception, match="query_max_samples"):
        engine.range("count(requests_total)", T0, T0 + (STEPS - 1) * 15_000, 15_000)
