"""The embedded engine over MemoryStorage: selectors, rate, aggregation, matching, errors and limits."""

from __future__ import annotations

import math

import pytest

from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.model import STALE_NAN, SampleBatch, labels_from_dict
from nightowl.promql.engine import EngineLimits, PromQLEngine
from nightowl.promql.errors import QueryExecutionError, QueryLimitError, QueryParseError


def load(rows: dict[str, list[float]], step_ms: int = 30_000, **extra: str) -> MemoryStorage:
    """Series written like promqltest `load 30s`: `name{a="b"}` -> values at 0, step, 2*step..."""
    storage = MemoryStorage()
    batch: list[tuple[tuple[tuple[str, str], ...], int, float]] = []
    for spec, values in rows.items():
        name, _, rest = spec.partition("{")
        pairs = dict(p.split("=") for p in rest.rstrip("}").split(",") if p) if rest else {}
        labels = labels_from_dict({"__name__": name, **{k: v.strip('"') for k, v in pairs.items()}, **extra})
        batch.extend((labels, i * step_ms, v) for i, v in enumerate(values))
    storage.append(SampleBatch.from_rows(batch))
    return storage


def values(result: object) -> dict[tuple[tuple[str, str], ...], float]:
    return {s.labels: float(s.values[-1]) for s in result.series}  # type: ignore[attr-defined]


@pytest.fixture
def counters() -> PromQLEngine:
    return PromQLEngine(
        load(
            {
                'http_total{job="api",instance="a"}': [i * 10.0 for i in range(21)],
                'http_total{job="api",instance="b"}': [i * 20.0 for i in range(21)],
                'http_total{job="web",instance="c"}': [i * 5.0 for i in range(21)],
            }
        )
    )


def test_instant_selector_returns_latest_sample_within_lookback(counters: PromQLEngine) -> None:
    result = counters.instant('http_total{instance="a"}', 600_000)
    assert result.result_type == "vector"
    assert [float(s.values[0]) for s in result.series] == [200.0]
    assert counters.instant("http_total", 600_000 + 300_000).series == []


def test_rate_extrapolates_like_prometheus(counters: PromQLEngine) -> None:
    result = values(counters.instant('rate(http_total{instance="a"}[5m])', 600_000))
    assert result == {(("instance", "a"), ("job", "api")): pytest.approx(1 / 3)}


def test_sum_by_groups_and_drops_other_labels(counters: PromQLEngine) -> None:
    result = values(counters.instant("sum by (job) (http_total)", 600_000))
    assert result == {(("job", "api"),): 600.0, (("job", "web"),): 100.0}


def test_range_query_evaluates_every_step(counters: PromQLEngine) -> None:
    result = counters.range('http_total{instance="c"}', 0, 120_000, 60_000)
    assert result.result_type == "matrix"
    assert result.series[0].timestamps.tolist() == [0, 60_000, 120_000]
    assert result.series[0].values.tolist() == [0.0, 10.0, 20.0]


def test_one_to_one_matching_on_label(counters: PromQLEngine) -> None:
    result = values(counters.instant('http_total / on(instance) http_total{job="api"}', 600_000))
    assert result == {(("instance", "a"),): 1.0, (("instance", "b"),): 1.0}


def test_many_to_many_is_an_error(counters: PromQLEngine) -> None:
    with pytest.raises(QueryExecutionError, match="many-to-many matching not allowed"):
        counters.instant("http_total + on(job) http_total", 600_000)


def test_staleness_marker_ends_a_series() -> None:
    engine = PromQLEngine(load({"up": [1.0, 1.0, STALE_NAN]}))
    assert values(engine.instant("up", 30_000)) == {(("__name__", "up"),): 1.0}
    assert engine.instant("up", 60_000).series == []


def test_scalar_and_string_results() -> None:
    engine = PromQLEngine(MemoryStorage())
    assert engine.instant("1 + 2 * 3", 0).scalar == (0, 7.0)
    assert engine.instant('"hello"', 0).string == (0, "hello")
    assert math.isnan(engine.instant("scalar(nothing)", 0).scalar[1])  # type: ignore[index]


def test_parse_errors_are_bad_data() -> None:
    engine = PromQLEngine(MemoryStorage())
    with pytest.raises(QueryParseError):
        engine.instant("sum(", 0)
    with pytest.raises(QueryParseError, match="query_max_length"):
        PromQLEngine(MemoryStorage(), EngineLimits(max_length=300)).instant("x" * 400, 0)


def test_sample_limit_names_the_setting(counters: PromQLEngine) -> None:
    limited = PromQLEngine(counters.querier, EngineLimits(max_samples=10))
    with pytest.raises(QueryLimitError) as info:
        limited.instant("http_total[10m]", 600_000)
    assert info.value.limit == "query_max_samples"


def test_histogram_quantile_on_classic_buckets() -> None:
    engine = PromQLEngine(
        load(
            {
                'req_bucket{le="0.1"}': [0.0, 50.0],
                'req_bucket{le="1"}': [0.0, 90.0],
                'req_bucket{le="+Inf"}': [0.0, 100.0],
            }
        )
    )
    result = values(engine.instant("histogram_quantile(0.5, req_bucket)", 30_000))
    assert result == {(): pytest.approx(0.1)}
    result = values(engine.instant("histogram_quantile(0.7, req_bucket)", 30_000))
    assert result == {(): pytest.approx(0.1 + 0.9 * 0.5)}


def test_fill_modifiers_stand_in_for_missing_sides() -> None:
    engine = PromQLEngine(
        load({'left{k="a"}': [1.0], 'left{k="b"}': [2.0], 'right{k="a"}': [10.0], 'right{k="c"}': [30.0]})
    )
    result = values(engine.instant("left + fill(0) right", 0))
    assert result == {(("k", "a"),): 11.0, (("k", "b"),): 2.0, (("k", "c"),): 30.0}
    assert values(engine.instant("left + fill_right(5) right", 0)) == {(("k", "a"),): 11.0, (("k", "b"),): 7.0}


def test_info_adds_target_info_data_labels() -> None:
    engine = PromQLEngine(
        load(
            {
                'up{instance="h:1",job="node"}': [1.0],
                'target_info{instance="h:1",job="node",region="eu"}': [1.0],
            }
        )
    )
    result = values(engine.instant("info(up)", 0))
    assert result == {(("__name__", "up"), ("instance", "h:1"), ("job", "node"), ("region", "eu")): 1.0}


@pytest.fixture
def ramp() -> PromQLEngine:
    """`ramp` is 0, 1, 2, ... every 30 s (value = minutes * 2)."""
    return PromQLEngine(load({'ramp{job="x"}': [float(i) for i in range(41)]}))


def test_offset_and_at_shift_the_evaluation_time(ramp: PromQLEngine) -> None:
    assert values(ramp.instant("ramp offset 5m", 600_000)) == {(("__name__", "ramp"), ("job", "x")): 10.0}
    assert values(ramp.instant("ramp @ 300", 600_000)) == {(("__name__", "ramp"), ("job", "x")): 10.0}
    result = ramp.range("ramp @ start()", 300_000, 600_000, 150_000)
    assert result.series[0].values.tolist() == [10.0, 10.0, 10.0]


def test_subquery_steps_are_aligned_to_absolute_multiples(ramp: PromQLEngine) -> None:
    # inner points at 540, 560, 580 s... within (t - 60s, t] with t = 600 s, step 20 s -> 3 points
    assert values(ramp.instant("count_over_time(ramp[1m:20s])", 600_000)) == {(("job", "x"),): 3.0}
    assert values(ramp.instant("max_over_time(ramp[1m:20s])", 600_000)) == {(("job", "x"),): 20.0}


def test_label_replace_and_absent(ramp: PromQLEngine) -> None:
    result = ramp.instant('label_replace(ramp, "team", "t-$1", "job", "(.*)")', 600_000)
    assert result.series[0].labels == (("__name__", "ramp"), ("job", "x"), ("team", "t-x"))
    assert values(ramp.instant('absent(nothing{job="y"})', 600_000)) == {(("job", "y"),): 1.0}
    assert ramp.instant("absent(ramp)", 600_000).series == []


def test_bool_comparison_drops_the_name_and_filters_keep_it(ramp: PromQLEngine) -> None:
    assert values(ramp.instant("ramp > bool 5", 600_000)) == {(("job", "x"),): 1.0}
    assert values(ramp.instant("ramp > 5", 600_000)) == {(("__name__", "ramp"), ("job", "x")): 20.0}
    assert ramp.instant("ramp > 50", 600_000).series == []


def test_sum_compensates_cancellation() -> None:
    engine = PromQLEngine(load({'v{i="1"}': [1.0], 'v{i="2"}': [1e100], 'v{i="3"}': [1.0], 'v{i="4"}': [-1e100]}))
    assert values(engine.instant("sum(v)", 0)) == {(): 2.0}


def test_series_times_steps_count_against_the_sample_limit(counters: PromQLEngine) -> None:
    limited = PromQLEngine(counters.querier, EngineLimits(max_samples=100))
    with pytest.raises(QueryLimitError, match="series x steps"):
        limited.range("http_total", 0, 600_000, 1_000)
