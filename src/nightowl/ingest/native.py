"""Nightowl's own JSON metrics API as data: points in (name, value, labels, source, time), and series
out, raw or aggregated per interval (avg, min, max, sum, count, p50, p95, p99).

A point is one sample of the series `name{labels..., source="..."}`; the API is a convenience over the
same storage every other protocol writes, so what it stores is queryable with PromQL too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from nightowl.metrics.model import METRIC_NAME, Labels, SampleBatch, Series, is_stale

SOURCE_LABEL = "source"
Aggregation = Literal["avg", "min", "max", "sum", "count", "p50", "p95", "p99"]
Reducer = Callable[[npt.NDArray[np.float64]], float]

REDUCERS: dict[str, Reducer] = {
    "avg": lambda v: float(np.mean(v)),
    "min": lambda v: float(np.min(v)),
    "max": lambda v: float(np.max(v)),
    "sum": lambda v: float(np.sum(v)),
    "count": lambda v: float(len(v)),
    "p50": lambda v: float(np.percentile(v, 50)),
    "p95": lambda v: float(np.percentile(v, 95)),
    "p99": lambda v: float(np.percentile(v, 99)),
}


@dataclass(frozen=True)
class Point:
    name: str
    value: float
    timestamp_ms: int
    labels: dict[str, str] = field(default_factory=dict)
    source: str | None = None


def series_labels(name: str, labels: dict[str, str], source: str | None) -> Labels:
    values = {**labels, METRIC_NAME: name}
    if source:
        values[SOURCE_LABEL] = source
    return tuple(sorted((k, v) for k, v in values.items() if v))


def points_batch(points: Sequence[Point]) -> SampleBatch:
    return SampleBatch.from_rows([(series_labels(p.name, p.labels, p.source), p.timestamp_ms, p.value) for p in points])


def describe(labels: Labels) -> tuple[str, dict[str, str], str | None]:
    """(name, other labels, source) of a series, the shape the API answers with."""
    values = dict(labels)
    name = values.pop(METRIC_NAME, "")
    source = values.pop(SOURCE_LABEL, None)
    return name, values, source


def live_points(series: Series) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The series' samples without staleness markers (they end a series, they are not values)."""
    keep = ~is_stale(series.values)
    return series.timestamps[keep], series.values[keep]


def aggregate(
    timestamps: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    start_ms: int,
    interval_ms: int,
    how: Aggregation,
) -> list[tuple[int, float]]:
    """One (bucket start, aggregate) per interval that holds samples; buckets are [t, t + interval)."""
    if len(timestamps) == 0:
        return []
    reduce = REDUCERS[how]
    buckets = (timestamps - start_ms) // interval_ms
    edges = np.flatnonzero(np.diff(buckets)) + 1
    out = []
    for group, chunk in zip(np.split(buckets, edges), np.split(values, edges), strict=True):
        out.append((start_ms + int(group[0]) * interval_ms, reduce(chunk)))
    return out
