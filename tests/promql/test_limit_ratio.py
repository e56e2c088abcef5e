"""limit_ratio: deterministic sampling by label hash (limit.test's float series)."""

from __future__ import annotations

import pytest

from nightowl.promql.engine import PromQLEngine
from nightowl.promql.errors import QueryExecutionError
from nightowl.promql.limit_ratio import sample_offset
from tests.promql.test_engine import load

M = 60_000


@pytest.fixture
def requests() -> PromQLEngine:
    rows = {
        f'http_requests{{job="api-server",instance="{i}",group="{g}"}}': [float(k * 10 * (n + 1)) for k in range(11)]
        for n, (i, g) in enumerate([("0", "production"), ("1", "production"), ("0", "canary"), ("1", "canary"),
                                    ("2", "canary"), ("3", "canary")])
    }  # fmt: skip
    rows["bar"] = [0, 1, 0, -1, 0, 1, 0, -1, 0, 1, 0]
    return PromQLEngine(load(rows, step_ms=5 * M))


def count(engine: PromQLEngine, query: str) -> list[float]:
    result = engine.range(f"count({query})", 0, 50 * M, 5 * M)
    return [float(v) for v in result.series[0].values] if result.series else []


def test_ratio_bounds_select_none_or_all(requests: PromQLEngine) -> None:
    assert count(requests, "limit_ratio(0.0, http_requests)") == []
    assert count(requests, "limit_ratio(1.0, http_requests) and http_requests") == [6.0] * 11
    assert count(requests, "limit_ratio(-1.0, http_requests) and http_requests") == [6.0] * 11


@pytest.mark.parametrize("ratio", [0.2, 0.5, 0.8])
def test_positive_and_negative_ratios_are_complements(requests: PromQLEngine, ratio: float) -> None:
    either = f"limit_ratio({ratio}, http_requests) or limit_ratio(-{1 - ratio:.1f}, http_requests)"
    both = f"limit_ratio({ratio}, http_requests) and limit_ratio(-{1 - ratio:.1f}, http_requests)"
    assert count(requests, either) == [6.0] * 11
    assert count(requests, both) == []


def test_selection_follows_the_label_hash(requests: PromQLEngine) -> None:
    result = requests.instant("limit_ratio(0.5, http_requests)", 50 * M)
    chosen = {s.labels for s in result.series}
    every = {s.labels for s in requests.instant("http_requests", 50 * M).series}
    assert chosen == {labels for labels in every if sample_offset(labels) < 0.5}
    assert all(0.0 <= sample_offset(labels) <= 1.0 for labels in every)


def test_ratio_outside_one_is_capped_with_a_warning(requests: PromQLEngine) -> None:
    result = requests.range("count(limit_ratio(1.1, http_requests) and http_requests)", 0, 50 * M, 5 * M)
    assert [float(v) for v in result.series[0].values] == [6.0] * 11
    assert result.warnings == ["PromQL warning: ratio value should be between -1 and 1, got 1.1, capping to 1 (1:19)"]


def test_ratio_may_change_per_step_and_nan_is_an_error(requests: PromQLEngine) -> None:
    # bar is 1 or -1 at 5m, 15m, ... 45m (all series either way) and 0 in between (none)
    assert count(requests, "limit_ratio(scalar(bar), http_requests)") == [6.0] * 5
    with pytest.raises(QueryExecutionError, match="Ratio value is NaN"):
        requests.instant("limit_ratio(NaN, http_requests)", 0)
