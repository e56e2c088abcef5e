"""Prometheus 3.x extended range selectors: `anchored` and `smoothed`.

An anchored window `(start, end]` also sees the last sample at or before `start` (within the
lookback delta), so `increase`/`delta`/`changes`/`resets` count from the value the series had at
the window's start, without extrapolation. A smoothed window also sees the first sample after
`end` and interpolates linearly to both boundaries (counters are interpolated across a reset as if
restarting from 0). A smoothed instant selector interpolates between the samples around each step.

Selectors are fetched widened by the lookback delta (`widened_bounds`); the functions here walk
each (series, step) window in Python: these modifiers are experimental and rarely used in bulk.
"""

from __future__ import annotations

import numpy as np

from nightowl.metrics.model import is_stale
from nightowl.promql.errors import QueryExecutionError
from nightowl.promql.values import Floats, Ints, RangeVector, Vector

ANCHORED_FUNCS = ("changes", "delta", "increase", "rate", "resets")
SMOOTHED_FUNCS = ("delta", "increase", "rate")


def check_function(modifier: str, func: str) -> None:
    """Prometheus rejects the modifiers on functions they are not defined for (bad_data)."""
    allowed = ANCHORED_FUNCS if modifier == "anchored" else SMOOTHED_FUNCS
    if func not in allowed:
        raise QueryExecutionError(f"{modifier} modifier can only be used with: {', '.join(allowed)} - not with {func}")


def widened_bounds(eval_ts: Ints, range_ms: int, lookback_ms: int, smoothed: bool) -> tuple[int, int]:
    """The inclusive [lo, hi] sample range to fetch for windows ending at `eval_ts`."""
    lo = int(eval_ts.min()) - range_ms - lookback_ms + 1
    hi = int(eval_ts.max()) + (lookback_ms if smoothed else 0)
    return lo, hi


def _search(t: Ints, n: int, predicate_after: int, strict: bool) -> int:
    """Go's sort.Search over t[:n]: the first index whose time is > (strict) or >= the bound, else n."""
    return int(np.searchsorted(t[:n], predicate_after, side="right" if strict else "left"))


def _interpolate(t1: int, v1: float, t2: int, v2: float, at: int, is_counter: bool) -> float:
    if is_counter and v2 < v1:
        v1 = 0.0
    return v1 + (v2 - v1) * (at - t1) / (t2 - t1)


def _window(rv: RangeVector, i: int, end: int, lookback_ms: int, smoothed: bool) -> tuple[Ints, Floats]:
    """Series i's samples in (start - lookback, end (+ lookback when smoothed)]."""
    a, b = int(rv.offsets[i]), int(rv.offsets[i + 1])
    t = rv.timestamps[a:b]
    start = end - rv.range_ms
    lo = int(np.searchsorted(t, start - lookback_ms, side="right"))
    hi = int(np.searchsorted(t, end + (lookback_ms if smoothed else 0), side="right"))
    return t[lo:hi], rv.values[a + lo : a + hi]


def _rate_one(t: Ints, v: Floats, start: int, end: int, smoothed: bool, is_counter: bool) -> float | None:
    """Prometheus's extendedRate for one window, before dividing by the range for `rate`."""
    if len(t) == 0:
        return None
    last = len(t) - 1
    first = max(0, _search(t, last, start, strict=True) - 1)
    if smoothed:
        last = _search(t, last, end, strict=False)
    if t[last] <= start or (smoothed and t[first] > end):
        return None
    left = float(v[first])
    if smoothed and t[first] < start:
        left = _interpolate(int(t[first]), float(v[first]), int(t[first + 1]), float(v[first + 1]), start, is_counter)
    right = float(v[last])
    if smoothed and last > 0 and t[last] > end:
        right = _interpolate(int(t[last - 1]), float(v[last - 1]), int(t[last]), float(v[last]), end, is_counter)
    result = right - left
    if is_counter:
        if t[first] <= start:
            first += 1
        if t[last] >= end:
            last -= 1
        prev = left
        for value in v[first : last + 1]:
            if value < prev:
                result += prev
            prev = float(value)
        if right < prev:
            result += prev
    return result


def extended_rate(rv: RangeVector, lookback_ms: int, smoothed: bool, is_counter: bool, is_rate: bool) -> Vector:
    """`rate`/`increase`/`delta` over an anchored or smoothed range selector."""
    n, steps = len(rv.labels), len(rv.eval_ts)
    out = np.zeros((n, steps))
    present = np.zeros((n, steps), bool)
    for i in range(n):
        for s, end in enumerate(rv.eval_ts.tolist()):
            t, v = _window(rv, i, end, lookback_ms, smoothed)
            value = _rate_one(t, v, end - rv.range_ms, end, smoothed, is_counter)
            if value is not None:
                out[i, s] = value / (rv.range_ms / 1000.0) if is_rate else value
                present[i, s] = True
    return Vector(list(rv.labels), out, present, np.ones(n, bool)).compact()


def extend_floats(t: Ints, v: Floats, start: int, end: int, smoothed: bool) -> tuple[Ints, Floats]:
    """Prometheus's extendFloats: the window's samples with synthetic points exactly at `start` and
    `end` (the anchoring sample's value, or interpolated when smoothed); empty without a sample
    after `start`."""
    if len(t) == 0:
        return t[:0], v[:0]
    last = len(t) - 1
    first = max(0, _search(t, last, start, strict=True) - 1)
    if smoothed:
        last = _search(t, last, end, strict=False)
    if t[last] <= start:
        return t[:0], v[:0]
    left = float(v[first])
    if smoothed and t[first] < start:
        left = _interpolate(int(t[first]), float(v[first]), int(t[first + 1]), float(v[first + 1]), start, False)
    right = float(v[last])
    if smoothed and last > 0 and t[last] > end:
        right = _interpolate(int(t[last - 1]), float(v[last - 1]), int(t[last]), float(v[last]), end, False)
    if t[first] <= start:
        first += 1
    if t[last] >= end:
        last -= 1
    middle = slice(first, max(first, last + 1))
    ts = np.concatenate([[start], t[middle], [end]]).astype(np.int64)
    vs = np.concatenate([[left], v[middle], [right]]).astype(np.float64)
    return ts, vs


def extended_changes(rv: RangeVector, lookback_ms: int, resets: bool) -> Vector:
    """`changes`/`resets` over an anchored range selector: counted over the extended samples."""
    n, steps = len(rv.labels), len(rv.eval_ts)
    out = np.zeros((n, steps))
    present = np.zeros((n, steps), bool)
    for i in range(n):
        for s, end in enumerate(rv.eval_ts.tolist()):
            t, v = _window(rv, i, end, lookback_ms, False)
            _, vs = extend_floats(t, v, end - rv.range_ms, end, False)
            if len(vs) == 0:
                continue
            prev, cur = vs[:-1], vs[1:]
            if resets:
                out[i, s] = float(np.count_nonzero(cur < prev))
            else:
                out[i, s] = float(np.count_nonzero((cur != prev) & ~(np.isnan(cur) & np.isnan(prev))))
            present[i, s] = True
    return Vector(list(rv.labels), out, present, np.ones(n, bool)).compact()


def extended_matrix(rv: RangeVector, lookback_ms: int, smoothed: bool) -> RangeVector:
    """A bare anchored/smoothed range selector at one step: each series' extended samples."""
    end = int(rv.eval_ts[0])
    start = end - rv.range_ms
    parts_t: list[Ints] = []
    parts_v: list[Floats] = []
    for i in range(len(rv.labels)):
        t, v = _window(rv, i, end, lookback_ms, smoothed)
        ts, vs = extend_floats(t, v, start, end, smoothed)
        parts_t.append(ts)
        parts_v.append(vs)
    counts = np.array([len(p) for p in parts_t], np.int64)
    offsets = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=offsets[1:])
    timestamps = np.concatenate(parts_t).astype(np.int64) if parts_t else np.zeros(0, np.int64)
    values = np.concatenate(parts_v).astype(np.float64) if parts_v else np.zeros(0)
    # the synthetic point sits exactly on `start`: widen the (start, end] window by 1 ms to keep it
    return RangeVector(list(rv.labels), offsets, timestamps, values, rv.eval_ts, rv.range_ms + 1, rv.drop_name)


def smoothed_vector(rv: RangeVector, lookback_ms: int) -> Vector:
    """A smoothed instant selector: the sample at the step, else the value interpolated between the
    last sample before it (within the lookback) and the first after it (within the lookback), else
    the last sample before it. Staleness markers end a series as for plain selectors."""
    n, steps = len(rv.labels), len(rv.eval_ts)
    out = np.zeros((n, steps))
    present = np.zeros((n, steps), bool)
    at = rv.eval_ts
    for i in range(n):
        a, b = int(rv.offsets[i]), int(rv.offsets[i + 1])
        t, v = rv.timestamps[a:b], rv.values[a:b]
        if len(t) == 0:
            continue
        stale = is_stale(v)
        idx = np.searchsorted(t, at, side="right")
        prev = idx - 1
        has_prev = prev >= 0
        prev_c = np.maximum(prev, 0)
        has_prev &= t[prev_c] > at - lookback_ms
        has_prev &= ~stale[prev_c]
        exact = has_prev & (t[prev_c] == at)
        nxt_c = np.minimum(idx, len(t) - 1)
        has_next = (idx < len(t)) & (t[nxt_c] <= at + lookback_ms) & ~stale[nxt_c]
        t1, v1 = t[prev_c].astype(np.float64), v[prev_c]
        t2, v2 = t[nxt_c].astype(np.float64), v[nxt_c]
        with np.errstate(invalid="ignore", divide="ignore"):
            mixed = v1 + (v2 - v1) * (at - t1) / (t2 - t1)
        value = np.where(has_next & ~exact, mixed, v1)
        out[i] = np.where(has_prev, value, 0.0)
        present[i] = has_prev
    return Vector(list(rv.labels), out, present, rv.drop_name.copy()).compact()
