"""Prometheus 3.x extended range selectors: `anchored` and `smoothed`.

An anchored window `(start, end]` also sees the last sample at or before `start` (within the
lookback delta), so `increase`/`delta`/`changes`/`resets` count from the value the series had at
the window's start, without extrapolation. A smoothed window also sees the first sample after
`end` and interpolates linearly to both boundaries (counters are interpolated across a reset as if
restarting from 0). A smoothed instant selector interpolates between the samples around each step.

Selectors are fetched widened by the lookback delta (`widened_bounds`); the edge samples of every
(series, step) window come from `searchsorted`, counter corrections and changes from prefix sums.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nightowl.metrics.model import is_stale
from nightowl.promql.errors import QueryExecutionError
from nightowl.promql.rangefuncs import prefix_sums, same_series_pairs
from nightowl.promql.values import Bools, Floats, Ints, RangeVector, Vector

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


def _upto(rv: RangeVector, bounds: Ints) -> Ints:
    """[series x steps]: the flat index one past each series' last sample at or before the step's bound."""
    _, hi = RangeVector(rv.labels, rv.offsets, rv.timestamps, rv.values, bounds, 0).windows()
    return hi


@dataclass
class _Edges:
    """Per (series, step): the samples extendedRate/extendFloats start and end at (flat indexes)."""

    ok: Bools  # a sample after the window start (and, smoothed, the first one not after its end)
    first: Ints  # the anchoring sample: the last at or before the start, else the first after it
    last: Ints  # the last sample in the window (smoothed: the first at or after the end)
    inner_first: Ints  # first..last without the samples on or outside the edges
    inner_last: Ints


def _edges(rv: RangeVector, lookback_ms: int, smoothed: bool) -> _Edges:
    ends = rv.eval_ts
    starts = ends - rv.range_ms
    lo = _upto(rv, starts - lookback_ms)
    hi = _upto(rv, ends + (lookback_ms if smoothed else 0))
    ok = hi > lo
    top = max(len(rv.timestamps) - 1, 0)
    last = np.clip(hi - 1, 0, top)
    first = np.clip(np.maximum(lo, np.minimum(_upto(rv, starts), last) - 1), 0, top)
    if smoothed:
        last = np.clip(np.minimum(_upto(rv, ends - 1), hi - 1), 0, top)
    t = rv.timestamps if len(rv.timestamps) else np.zeros(1, np.int64)
    ok &= t[last] > starts
    if smoothed:
        ok &= ~(t[first] > ends)
    inner_first = first + (t[first] <= starts)
    inner_last = last - (t[last] >= ends)
    return _Edges(ok, first, last, inner_first, inner_last)


def _interpolated(rv: RangeVector, a: Ints, at: Ints, is_counter: bool) -> Floats:
    """The value at `at` on the line from sample a to sample a+1 (a counter reset restarts at 0)."""
    top = len(rv.values) - 1
    b = np.minimum(a + 1, top)
    t1, t2 = rv.timestamps[a].astype(np.float64), rv.timestamps[b].astype(np.float64)
    v1, v2 = rv.values[a], rv.values[b]
    if is_counter:
        v1 = np.where(v2 < v1, 0.0, v1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(v1 + (v2 - v1) * (at - t1) / (t2 - t1))


def _boundaries(rv: RangeVector, e: _Edges, smoothed: bool, is_counter: bool) -> tuple[Floats, Floats]:
    """The values at the window start and end: the edge samples' own, or interpolated when smoothed."""
    ends = np.broadcast_to(rv.eval_ts, e.first.shape)
    starts = ends - rv.range_ms
    left, right = rv.values[e.first], rv.values[e.last]
    if smoothed:
        t = rv.timestamps
        left = np.where(t[e.first] < starts, _interpolated(rv, e.first, starts, is_counter), left)
        series_start = np.repeat(rv.offsets[:-1, None], len(rv.eval_ts), axis=1)
        late = (e.last > series_start) & (t[e.last] > ends)
        right = np.where(late, _interpolated(rv, np.maximum(e.last - 1, 0), ends, is_counter), right)
    return left, right


def _chain(
    rv: RangeVector,
    e: _Edges,
    left: Floats,
    right: Floats,
    step: Callable[[Floats, Floats], Bools],
    weight: Floats | None,
) -> Floats:
    """Sum over consecutive pairs of [left, inner samples..., right] of `step(prev, cur)` (times
    `weight` = prev when given): counter corrections, changes or resets for every window at once."""
    v = rv.values
    top = len(v) - 1
    pair = np.zeros(len(v))
    if len(v) > 1:
        flags = step(v[:-1], v[1:]) & same_series_pairs(rv)[1:]
        pair[1:] = np.where(flags, v[:-1] if weight is not None else 1.0, 0.0)
    sums = prefix_sums(pair)
    f2, l2 = e.inner_first, e.inner_last
    some = f2 <= l2
    f2c, l2c = np.clip(f2, 0, top), np.clip(l2, 0, top)
    inner = np.where(some, sums[l2c + 1] - sums[np.minimum(f2c + 1, len(v))], 0.0)

    def edge(prev: Floats, cur: Floats) -> Floats:
        return np.where(step(prev, cur), prev if weight is not None else 1.0, 0.0)

    with np.errstate(invalid="ignore"):
        bounded = edge(left, v[f2c]) + inner + edge(v[l2c], right)
        return np.where(some, bounded, edge(left, right))


def _reset(prev: Floats, cur: Floats) -> Bools:
    return np.asarray(cur < prev)


def _change(prev: Floats, cur: Floats) -> Bools:
    return np.asarray((cur != prev) & ~(np.isnan(cur) & np.isnan(prev)))


def extended_rate(rv: RangeVector, lookback_ms: int, smoothed: bool, is_counter: bool, is_rate: bool) -> Vector:
    """`rate`/`increase`/`delta` over an anchored or smoothed range selector (Prometheus's extendedRate):
    the difference between the values at the window edges, plus counter resets in between."""
    n, steps = len(rv.labels), len(rv.eval_ts)
    if len(rv.values) == 0:
        return Vector.empty(steps)
    e = _edges(rv, lookback_ms, smoothed)
    left, right = _boundaries(rv, e, smoothed, is_counter)
    with np.errstate(invalid="ignore"):
        result: Floats = right - left
        if is_counter:
            result = result + _chain(rv, e, left, right, _reset, rv.values)
    if is_rate:
        result = result / (rv.range_ms / 1000.0)
    return Vector(list(rv.labels), np.where(e.ok, result, 0.0), e.ok, np.ones(n, bool)).compact()


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
    """`changes`/`resets` over an anchored range selector: counted along the extended samples
    (the anchoring sample's value at the window start, the samples inside, the last at its end)."""
    n, steps = len(rv.labels), len(rv.eval_ts)
    if len(rv.values) == 0:
        return Vector.empty(steps)
    e = _edges(rv, lookback_ms, False)
    left, right = rv.values[e.first], rv.values[e.last]
    counts = _chain(rv, e, left, right, _reset if resets else _change, None)
    return Vector(list(rv.labels), np.where(e.ok, counts, 0.0), e.ok, np.ones(n, bool)).compact()


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
