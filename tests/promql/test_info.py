"""info(): which info series join, per step, and when that is an error (after Prometheus's info.test)."""

from __future__ import annotations

import pytest

from nightowl.metrics.model import STALE_NAN
from nightowl.promql.engine import PromQLEngine
from nightowl.promql.errors import QueryExecutionError
from tests.promql.test_engine import load

M = 60_000


def labelled(engine: PromQLEngine, query: str, start: int, end: int) -> dict[str, list[float]]:
    """Each output series as `{k=v,...}` (no name) -> its values per step."""
    result = engine.range(query, start, end, M)
    return {
        ",".join(f"{k}={v}" for k, v in s.labels if k != "__name__"): [float(x) for x in s.values]
        for s in result.series
    }


@pytest.fixture
def infos() -> PromQLEngine:
    return PromQLEngine(
        load(
            {
                'metric{instance="a",job="1",label="value"}': [0, 1, 2],
                'target_info{instance="a",job="1",data="info"}': [1, 1, 1],
                'build_info{instance="a",job="1",build_data="build"}': [1, 1, 1],
            },
            step_ms=M,
        )
    )


def test_negative_name_matchers_still_pick_info_metrics(infos: PromQLEngine) -> None:
    assert labelled(infos, 'info(metric, {__name__!="target_info"})', 0, 2 * M) == {
        "build_data=build,instance=a,job=1,label=value": [0, 1, 2]
    }
    assert labelled(infos, 'info(metric, {__name__!~".+_info", data=~".+"})', 0, 2 * M) == {}
    assert labelled(infos, 'info(metric, {__name__!~".+_info", data=~".*"})', 0, 2 * M) == {
        "instance=a,job=1,label=value": [0, 1, 2]
    }


def test_the_newest_info_series_wins_when_info_series_churn() -> None:
    engine = PromQLEngine(
        load(
            {
                'data_metric{instance="b",job="work"}': [11, 21, 31],
                'info_metric{instance="b",job="work",state="stopped"}': [1, 1],
                'info_metric{instance="b",job="work",state="running"}': [STALE_NAN, STALE_NAN, 1],
            },
            step_ms=M,
        )
    )
    found = labelled(engine, 'info(data_metric, {__name__="info_metric"})', 0, 2 * M)
    assert found == {"instance=b,job=work,state=stopped": [11, 21], "instance=b,job=work,state=running": [31]}


def test_conflicting_labels_and_duplicate_info_series_are_errors() -> None:
    conflicting = PromQLEngine(
        load(
            {
                'metric{instance="a",job="1"}': [1, 2, 3],
                'target_info{instance="a",job="1",x="from_target"}': [1, 1, 1],
                'build_info{instance="a",job="1",x="from_build"}': [1, 1, 1],
            },
            step_ms=M,
        )
    )
    with pytest.raises(QueryExecutionError, match="conflicting label: x"):
        conflicting.range('info(metric, {__name__=~".+_info"})', 0, 2 * M, M)
    duplicate = PromQLEngine(
        load(
            {
                'metric{instance="a",job="1"}': [1, 2, 3],
                'target_info{instance="a",job="1",v="1"}': [1, 1, 1],
                'target_info{instance="a",job="1",v="2"}': [1, 1, 1],
            },
            step_ms=M,
        )
    )
    with pytest.raises(QueryExecutionError, match="found duplicate series for info metric"):
        duplicate.instant("info(metric)", M)


def test_info_series_are_looked_up_when_the_base_samples_were_taken() -> None:
    engine = PromQLEngine(
        load(
            {
                'metric{instance="a",job="1"}': [0, 1, 2, 3, 4, 5, 6, 7, 8],
                'target_info{instance="a",job="1",version="old"}': [1, 1, 1, STALE_NAN],
                'target_info{instance="a",job="1",version="new"}': [STALE_NAN, STALE_NAN, STALE_NAN, 1, 1, 1, 1, 1, 1],
            },
            step_ms=M,
        )
    )
    at = engine.instant("info(last_over_time(metric[10m:1m] @ 420))", 40 * M)
    assert [dict(s.labels)["version"] for s in at.series] == ["new"]
    shifted = engine.instant("info(last_over_time((metric offset 1m)[10m:1m] @ 180))", 40 * M)
    assert [dict(s.labels)["version"] for s in shifted.series] == ["old"]
    found = labelled(engine, "info(last_over_time(metric[5m:1m] offset 6m))", 8 * M, 9 * M)
    assert found == {"instance=a,job=1,version=old": [2], "instance=a,job=1,version=new": [3]}
