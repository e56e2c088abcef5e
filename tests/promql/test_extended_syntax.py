"""Prometheus 3.x syntax promql-parser 0.12 lacks: duration expressions, `anchored`/`smoothed`,
info() selectors without a non-empty matcher. Expected values follow the Prometheus project's
test files (duration_expression.test, extended_vectors.test, info.test)."""

from __future__ import annotations

import pytest

from nightowl.promql.durations import QueryTimes
from nightowl.promql.engine import PromQLEngine
from nightowl.promql.errors import QueryExecutionError, QueryParseError
from nightowl.promql.extended import rewrite
from tests.promql.test_engine import load, values

S = 1000
M = 60_000


def one(result: object) -> float:
    found = values(result)
    assert len(found) == 1, found
    return next(iter(found.values()))


def series_points(result: object) -> list[list[float]]:
    return [[float(v) for v in s.values] for s in result.series]  # type: ignore[attr-defined]


@pytest.fixture
def requests() -> PromQLEngine:
    return PromQLEngine(
        load(
            {
                'http_requests{path="/foo"}': [1, 2, 3, 0, 1, 0, 0, 1, 2, 0],
                'http_requests{path="/bar"}': [1, 2, 3, 4, 5, 1, 2, 3, 4, 5],
            },
            step_ms=5 * M,
        )
    )


@pytest.mark.parametrize(
    "window", ["26m+4m", "30m+0s", "60*30", "2m*15", "2m*(10+5)", "-5m+35m", "1h/2", "1h30m % 1h", "(9m30s+30s)*3"]
)
def test_range_duration_expressions(requests: PromQLEngine, window: str) -> None:
    found = values(requests.instant(f"changes(http_requests[{window}])", 50 * M))
    assert sorted(found.values()) == [3.0, 4.0]


def test_subquery_and_offset_duration_expressions() -> None:
    engine = PromQLEngine(load({"metric1_total": [float(i) for i in range(1001)]}, step_ms=10 * S))
    assert one(engine.instant("sum_over_time(metric1_total[29s+1s:5s+5s])", 1000 * S)) == 297
    query = "sum_over_time(metric1_total[29s+1s:20*500ms] offset -(20*(((((8 - 2) / 3) * 7s) % 4) + 8000ms)))"
    assert one(engine.instant(query, 800 * S)) == 297
    assert one(engine.instant("metric1_total offset (100 + 2)", 1000 * S)) == 89
    # without parentheses only the first term is the offset: (metric offset 100) + 2
    assert one(engine.instant("metric1_total offset 100 + 2", 1000 * S)) == 92
    assert one(engine.instant("metric1_total offset -2 * 2", 1000 * S)) == 200
    assert one(engine.instant("metric1_total offset (-2 ^ 2)", 1000 * S)) == 100


def test_step_and_range_in_durations_are_the_querys() -> None:
    engine = PromQLEngine(load({"metric1_total": [float(i) for i in range(101)]}, step_ms=S))
    assert series_points(engine.range("count_over_time(metric1_total[step()])", 50 * S, 60 * S, 10 * S)) == [[10, 10]]
    query = "count_over_time(metric1_total[max_of(min_of(step()+1,1h),1ms)])"
    assert series_points(engine.range(query, 50 * S, 60 * S, 5 * S)) == [[6, 6, 6]]
    assert series_points(engine.range("metric1_total offset -step()*2", 50 * S, 60 * S, 5 * S)) == [[110, 120, 130]]
    query = "metric1_total offset min_of(range(), 8s)"
    assert series_points(engine.range(query, 50 * S, 60 * S, 5 * S)) == [[42, 47, 52]]
    assert one(engine.instant("metric1_total offset range()", 50 * S)) == 50


def test_duration_expression_errors_are_bad_data() -> None:
    engine = PromQLEngine(load({"x": [1.0]}))
    for query in ("x[5m-5m]", "x[1m/0]", "x[1m % 0]", "x[step()]", "x[5m+]", "x[foo]"):
        with pytest.raises(QueryParseError):
            engine.instant(query, 0)


def test_rewrite_leaves_strings_comments_and_plain_queries_alone() -> None:
    times = QueryTimes(10 * S, 10 * S)
    for query in ('foo{a="[5m+1m] anchored"}', "rate(foo[5m]) # x[1m+1m]", "foo offset 5m", "foo[1800]"):
        assert rewrite(query, times) == query
    assert "300000ms" in rewrite("foo[4m+1m]", times)


def test_reserved_marker_names_are_refused() -> None:
    engine = PromQLEngine(load({"x": [1.0]}))
    with pytest.raises(QueryParseError):
        engine.instant("__nightowl_anchored(x[5m])", 0)


@pytest.fixture
def prom52() -> PromQLEngine:
    """PROM-52's data set: `metric 1+1x4 9+1x4` loaded every 15s."""
    return PromQLEngine(load({"metric": [1, 2, 3, 4, 5, 9, 10, 11, 12, 13]}, step_ms=15 * S))


@pytest.mark.parametrize(
    ("at", "anchored", "smoothed"),
    [(5, 0, 1 / 3), (20, 1, 4 / 3), (50, 3, 10 / 3), (65, 4, 5), (80, 7, 7), (125, 7, 6)],
)
def test_anchored_and_smoothed_increase(prom52: PromQLEngine, at: int, anchored: float, smoothed: float) -> None:
    assert one(prom52.instant("increase(metric[1m] anchored)", at * S)) == pytest.approx(anchored)
    assert one(prom52.instant("increase(metric[1m] smoothed)", at * S)) == pytest.approx(smoothed)


def test_anchored_counts_changes_and_resets_from_the_anchor() -> None:
    sparse = PromQLEngine(load({"metric": [2, 1]}, step_ms=2 * M))  # nothing between 0 and 2m
    assert one(sparse.instant("changes(metric[1m])", 2 * M)) == 0
    assert one(sparse.instant("changes(metric[1m] anchored)", 2 * M)) == 1
    assert one(sparse.instant("resets(metric[1m] anchored)", 2 * M)) == 1
    falling = PromQLEngine(load({"metric": [99, 98, 97]}, step_ms=M))
    assert one(falling.instant("resets(metric[1m] anchored)", 2 * M)) == 1
    steady = PromQLEngine(load({"metric": [float(i) for i in range(1, 12)]}, step_ms=M))
    assert one(steady.instant("changes(metric[5m])", 5 * M)) == 4
    assert one(steady.instant("changes(metric[5m] anchored)", 5 * M)) == 5


def test_smoothed_rate_interpolates_across_a_counter_reset() -> None:
    engine = PromQLEngine(load({"metric": [100, 10]}, step_ms=15 * S))
    assert one(engine.instant("rate(metric[10s] smoothed)", 12 * S)) == pytest.approx(2 / 3)


def test_smoothed_delta_and_anchored_delta() -> None:
    engine = PromQLEngine(load({"metric": [11, -1, 100, 0]}, step_ms=M))
    assert one(engine.instant("delta(metric[5m] smoothed)", 5 * M + 30 * S)) == pytest.approx(-5)
    engine = PromQLEngine(load({"metric": [5, 8, 11, 3, 6, 9, 12, 15, 18]}, step_ms=M))
    assert one(engine.instant("delta(metric[1m] anchored)", 3 * M)) == pytest.approx(-8)


def test_smoothed_instant_selector_interpolates_between_samples() -> None:
    engine = PromQLEngine(load({"metric": [float(i) for i in range(1, 12)]}, step_ms=10 * S))
    assert one(engine.instant("metric smoothed", 15 * S)) == 2.5
    assert one(engine.instant("metric smoothed", 105 * S)) == 11  # no later sample: the last one
    counter = PromQLEngine(load({"metric": [float(i) for i in range(21)]}, step_ms=10 * S))
    points = series_points(counter.range("metric offset -100 smoothed + 0", 0, 60 * S, 15 * S))
    assert points == [[10, 11.5, 13, 14.5, 16]]
    assert series_points(counter.range("metric @ 100 smoothed", 0, 60 * S, 15 * S)) == [[10] * 5]


def test_modifiers_only_apply_to_their_functions() -> None:
    engine = PromQLEngine(load({"foo": [1.0]}))
    with pytest.raises(QueryExecutionError, match="smoothed modifier can only be used with: delta, increase, rate"):
        engine.instant("deriv(foo[3m] smoothed)", M)
    with pytest.raises(QueryExecutionError, match="not with max_over_time"):
        engine.instant("max_over_time(foo[3m] anchored)", M)
    assert engine.instant("changes(foo[3m] anchored)", M).series


def test_anchored_range_selector_query_has_points_on_both_edges() -> None:
    engine = PromQLEngine(load({"metric": [1, 2, 3]}, step_ms=M))
    result = engine.instant("metric[1m] anchored", 90 * S)
    assert [int(t) for t in result.series[0].timestamps] == [30 * S, 60 * S, 90 * S]
    assert [float(v) for v in result.series[0].values] == [1, 2, 2]


def test_info_selector_with_only_empty_matching_matchers() -> None:
    engine = PromQLEngine(
        load({'metric{instance="a",job="1"}': [0, 1, 2], 'target_info{instance="a",job="1",data="info"}': [1, 1, 1]})
    )
    found = values(engine.instant('info(metric, {data=~".*"})', 60 * S))
    assert list(found) == [(("__name__", "metric"), ("data", "info"), ("instance", "a"), ("job", "1"))]


def test_printing_undoes_the_rewrite() -> None:
    from nightowl.promql.extended import restore
    from nightowl.promql.parse import parse

    query = 'rate(foo{a="b"}[5m] anchored) + info(bar smoothed, {data=~".*"})'
    printed = restore(parse(query, 10_000).prettify())
    assert " ".join(printed.split()) == query  # prettify may break long lines
    assert restore(parse("foo[5m+1m]", 10_000).prettify()) == "foo[6m]"


def test_text_the_tokenizer_does_not_know_is_left_to_promql_parser() -> None:
    assert rewrite("foo[$__interval]", QueryTimes()) == "foo[$__interval]"
    with pytest.raises(QueryParseError):
        PromQLEngine(load({"x": [1.0]})).instant("foo[$__interval]", 0)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("x[5m] anchored smoothed", "anchored and smoothed modifiers cannot be used together"),
        ("x[5m:1m] smoothed", "smoothed modifier is not supported for subqueries"),
        ("sum(x) smoothed", "unexpected smoothed modifier"),
        ("x anchored", "anchored modifier can only be used with range vector selectors"),
    ],
)
def test_misplaced_modifiers_are_parse_errors(query: str, message: str) -> None:
    with pytest.raises(QueryParseError, match=message):
        PromQLEngine(load({"x": [1.0]})).instant(query, 0)


@pytest.mark.parametrize(
    "query",
    [
        "sum by (offset, anchored) (x)",
        'x{offset="1", smoothed="2"} and on (anchored) y',
        "rate(anchored[5m]) + smoothed / offset",
        'label_replace(x, "anchored", "$1", "offset", "(.*)")',
        'x{a="]"}[5m] offset 1m',
    ],
)
def test_keywords_as_label_and_metric_names_are_not_rewritten(query: str) -> None:
    assert rewrite(query, QueryTimes()) == query


def test_modifiers_and_expressions_combine() -> None:
    times = QueryTimes(60_000, 0)
    assert rewrite('x{a="]"}[5m+1m] OFFSET (1m*2) ANCHORED', times) == (
        '__nightowl_anchored ( x { a = "]" } [ 360000ms ] OFFSET 120000ms )'
    )
    engine = PromQLEngine(load({"metric": [float(i) for i in range(1, 12)]}, step_ms=M))
    assert one(engine.instant("increase(metric[2m+3m] offset (2*30s) anchored)", 6 * M)) == 5


def test_a_smoothed_instant_selector_is_an_ordinary_vector_argument() -> None:
    engine = PromQLEngine(load({"metric": [-1.0, -2.0, -3.0]}, step_ms=10 * S))
    assert one(engine.instant("abs(metric smoothed)", 15 * S)) == 2.5
    assert one(engine.instant("sum(metric smoothed) * 2", 15 * S)) == -5


def test_a_range_query_of_an_anchored_selector_is_bad_data() -> None:
    engine = PromQLEngine(load({"metric": [1, 2, 3]}, step_ms=M))
    with pytest.raises(QueryParseError, match='invalid expression type "range vector"'):
        engine.range("metric[1m] anchored", 0, 2 * M, M)
