"""Selectors: one `Querier.select` per selector for the whole query window, then lookback and
windows for every step at once."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nightowl.metrics.api import Querier, SelectHints
from nightowl.metrics.model import Labels, Matcher, Series, is_stale
from nightowl.promql.errors import QueryLimitError, QueryTimeoutError
from nightowl.promql.values import Floats, Ints, RangeVector, Vector


@dataclass
class Budget:
    """What a query may still load before it is stopped, and when it must be done."""

    max_samples: int
    max_series: int
    deadline: float  # time.monotonic() value; a deadline, not logic time
    samples: int = 0
    series: int = 0
    points: int = 0  # [series x steps] cells held for selectors, limited like samples

    def charge(self, series: int, samples: int) -> None:
        self.check_time()  # each selection and batch is a point where a long query stops at its deadline
        self.series += series
        self.samples += samples
        if self.max_series and self.series > self.max_series:
            raise QueryLimitError(
                f"query selects more than query_max_series={self.max_series} series", "query_max_series"
            )
        if self.max_samples and self.samples > self.max_samples:
            raise QueryLimitError(
                "query processing would load too many samples into memory in query execution "
                f"(more than query_max_samples={self.max_samples})",
                "query_max_samples",
            )

    def charge_points(self, points: int) -> None:
        self.check_time()
        self.points += points
        if self.max_samples and self.points > self.max_samples:
            raise QueryLimitError(
                "query processing would load too many samples into memory in query execution "
                f"(more than query_max_samples={self.max_samples} series x steps)",
                "query_max_samples",
            )

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise QueryTimeoutError("query timed out in expression evaluation")


@dataclass
class Fetched:
    labels: list[Labels]
    offsets: Ints
    timestamps: Ints
    values: Floats


def fetch(
    querier: Querier,
    matcher_sets: Sequence[Sequence[Matcher]],
    start_ms: int,
    end_ms: int,
    hints: SelectHints,
    budget: Budget,
) -> Fetched:
    """Samples of every series matching any matcher set in [start_ms, end_ms], flattened by series."""
    if len(matcher_sets) == 1:
        chosen = [s for s in querier.select(matcher_sets[0], start_ms, end_ms, hints) if len(s.timestamps)]
    else:
        found: dict[Labels, Series] = {}
        for matchers in matcher_sets:
            for series in querier.select(matchers, start_ms, end_ms, hints):
                if len(series.timestamps):
                    found.setdefault(series.labels, series)
        chosen = [found[k] for k in sorted(found)]
    return flatten(chosen, budget)


def flatten(chosen: list[Series], budget: Budget) -> Fetched:
    """Selected series as one flat sample array, charged against the query's budget."""
    chosen = [s for s in chosen if len(s.timestamps)]
    counts = np.array([len(s.timestamps) for s in chosen], np.int64)
    budget.charge(len(chosen), int(counts.sum()))
    offsets = np.zeros(len(chosen) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    if chosen:
        timestamps = np.concatenate([s.timestamps for s in chosen]).astype(np.int64, copy=False)
        values = np.concatenate([s.values for s in chosen]).astype(np.float64, copy=False)
    else:
        timestamps, values = np.zeros(0, np.int64), np.zeros(0, np.float64)
    return Fetched([s.labels for s in chosen], offsets, timestamps, values)


def instant_vector(data: Fetched, eval_ts: Ints, lookback_ms: int) -> Vector:
    """The latest sample in (t - lookback, t] per series and step, unless it is a staleness marker."""
    window = RangeVector(data.labels, data.offsets, data.timestamps, data.values, eval_ts, lookback_ms)
    lo, hi = window.windows()
    present = hi > lo
    if len(data.values) == 0:
        return Vector(data.labels, np.zeros(present.shape), present)
    values = data.values[np.where(present, hi - 1, 0)]
    present &= ~is_stale(values)
    return Vector(data.labels, values, present)


def range_vector(data: Fetched, eval_ts: Ints, range_ms: int) -> RangeVector:
    """Samples per series for range functions; staleness markers are not samples there."""
    stale = is_stale(data.values)
    if not stale.any():
        return RangeVector(data.labels, data.offsets, data.timestamps, data.values, eval_ts, range_ms)
    keep = ~stale
    kept_before = np.concatenate([[0], np.cumsum(keep)])
    offsets = kept_before[data.offsets].astype(np.int64)
    return RangeVector(data.labels, offsets, data.timestamps[keep], data.values[keep], eval_ts, range_ms)


def vector_to_range(vector: Vector, ts: Ints, eval_ts: Ints, range_ms: int) -> RangeVector:
    """A subquery's result as raw samples: each series' points at the inner steps where it is present."""
    rows, cols = np.nonzero(vector.present)
    counts = np.bincount(rows, minlength=len(vector.labels)).astype(np.int64)
    offsets = np.zeros(len(vector.labels) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    return RangeVector(
        list(vector.labels), offsets, ts[cols], vector.values[rows, cols], eval_ts, range_ms, vector.drop_name
    )
