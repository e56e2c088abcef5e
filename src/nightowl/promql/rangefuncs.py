"""Functions over range vectors (`rate`, `*_over_time`, ...), computed for every series and step at once.

Windows come from `RangeVector.windows()`; reductions either use first/last sample indexes and
cumulative sums over the flat sample array, or gather the windows into a padded block (in chunks,
to bound memory).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nightowl.promql import deadline
from nightowl.promql.errors import QueryExecutionError
from nightowl.promql.summation import accurate_sum, welford_variance
from nightowl.promql.values import Bools, Floats, Ints, RangeVector, Vector

_CHUNK_ELEMENTS = 1 << 21


def prefix_sums(flags: Floats) -> Floats:
    """Prefix sums with a leading 0: sum of flags[a:b] == out[b] - out[a]."""
    out = np.zeros(len(flags) + 1)
    np.cumsum(flags, out=out[1:])
    return out


def same_series_pairs(rv: RangeVector) -> Bools:
    """same[j]: sample j and j-1 belong to the same series (j >= 1)."""
    same = np.ones(len(rv.values), bool)
    starts = rv.offsets[:-1]
    same[starts[starts < len(same)]] = False
    if len(same):
        same[0] = False
    return same


def _gather(
    rv: RangeVector, lo: Ints, hi: Ints, reduce: Callable[[Floats, Bools, Ints], Floats], fill: float = np.nan
) -> Floats:
    """Apply `reduce(window_values, window_mask, counts)` to padded [series x steps x width] blocks."""
    n, steps = lo.shape
    counts = hi - lo
    out = np.full((n, steps), np.nan)
    width = int(counts.max()) if counts.size else 0
    if width == 0:
        return out
    per_series = max(1, steps * width)
    chunk = max(1, _CHUNK_ELEMENTS // per_series)
    span = np.arange(width)
    for a in range(0, n, chunk):
        deadline.check()
        b = min(n, a + chunk)
        idx = lo[a:b, :, None] + span
        mask = span < counts[a:b, :, None]
        vals = np.where(mask, rv.values[np.minimum(idx, len(rv.values) - 1)], fill)
        out[a:b] = reduce(vals, mask, counts[a:b])
    return out


def _result(rv: RangeVector, values: Floats, present: Bools, keep_name: bool = False) -> Vector:
    drop = rv.drop_name.copy() if keep_name else np.ones(len(rv.labels), bool)
    return Vector(list(rv.labels), np.where(present, values, 0.0), present, drop)


def extrapolated_rate(rv: RangeVector, is_counter: bool, is_rate: bool) -> Vector:
    """Prometheus's `extrapolatedRate`: extrapolate to the window edges unless the series starts or
    ends inside the window (gap > 1.1 x the average sample interval)."""
    lo, hi = rv.windows()
    n = hi - lo
    ok = n >= 2
    first = np.where(ok, lo, 0)
    last = np.where(ok, hi - 1, 0)
    if len(rv.values) == 0:
        return _result(rv, np.zeros(n.shape), ok)
    v, t = rv.values, rv.timestamps
    result = v[last] - v[first]
    if is_counter:
        # counter resets are rare: prefix sums over the reset positions only
        resets = np.flatnonzero(v[1:] < v[:-1]) + 1
        resets = resets[same_series_pairs(rv)[resets]] if len(resets) else resets
        if len(resets):
            cum = np.concatenate([[0.0], np.cumsum(v[resets - 1])])
            upto_last = np.searchsorted(resets, last, side="right")
            upto_first = np.searchsorted(resets, first, side="right")
            result = result + (cum[upto_last] - cum[upto_first])
    range_start = (rv.eval_ts - rv.range_ms)[None, :].astype(np.float64)
    range_end = rv.eval_ts[None, :].astype(np.float64)
    first_t, last_t = t[first].astype(np.float64), t[last].astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        to_start = (first_t - range_start) / 1000
        to_end = (range_end - last_t) / 1000
        sampled = (last_t - first_t) / 1000
        average = sampled / np.maximum(n - 1, 1)
        threshold = average * 1.1
        to_start = np.where(to_start >= threshold, average / 2, to_start)
        if is_counter:
            to_zero = sampled * (v[first] / result)
            use_zero = (result > 0) & (v[first] >= 0) & (to_zero < to_start)
            to_start = np.where(use_zero, to_zero, to_start)
        to_end = np.where(to_end >= threshold, average / 2, to_end)
        factor = (sampled + to_start + to_end) / sampled
        if is_rate:
            factor = factor / (rv.range_ms / 1000)
        result = result * factor
    return _result(rv, result, ok)


def instant_rate(rv: RangeVector, is_rate: bool) -> Vector:
    """`irate` / `idelta`: from the last two samples of each window."""
    lo, hi = rv.windows()
    ok = (hi - lo) >= 2
    if len(rv.values) == 0:
        return _result(rv, np.zeros(ok.shape), ok)
    last = np.where(ok, hi - 1, 1)
    prev = last - 1
    v, t = rv.values, rv.timestamps
    with np.errstate(divide="ignore", invalid="ignore"):
        if is_rate:
            delta = np.where(v[last] < v[prev], v[last], v[last] - v[prev])
            seconds = (t[last] - t[prev]) / 1000
            result = delta / seconds
            ok &= seconds != 0
        else:
            result = v[last] - v[prev]
    return _result(rv, result, ok)


def count_changes(rv: RangeVector, resets: bool) -> Vector:
    """`changes` / `resets`: counted with prefix sums over the flat sample array."""
    lo, hi = rv.windows()
    ok = hi > lo
    v = rv.values
    prev = np.concatenate([[0.0], v[:-1]])
    same = same_series_pairs(rv)
    if resets:
        flags = same & (v < prev)
    else:
        flags = same & (v != prev) & ~(np.isnan(v) & np.isnan(prev))
    cum = prefix_sums(flags.astype(np.float64))
    first = np.where(ok, lo, 0)
    end = np.where(ok, hi, 0)
    return _result(rv, cum[end] - cum[np.minimum(first + 1, end)], ok)


def _kahan_sum(vals: Floats, axis: int = -1) -> Floats:
    return accurate_sum(vals, axis)


def _sum(vals: Floats, mask: Bools, counts: Ints) -> Floats:
    return _kahan_sum(np.where(mask, vals, 0.0))


def _avg(vals: Floats, mask: Bools, counts: Ints) -> Floats:
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        total = _kahan_sum(np.where(mask, vals, 0.0))
        mean = total / counts
        overflow = np.isinf(mean) & ~np.isinf(np.where(mask, vals, 0.0)).any(axis=-1)
        if overflow.any():
            mean = np.where(overflow, _kahan_sum(np.where(mask, vals / counts[..., None], 0.0)), mean)
    result: Floats = mean
    return result


def _min(vals: Floats, mask: Bools, counts: Ints) -> Floats:
    result: Floats = np.fmin.reduce(vals, axis=-1)
    return result


def _max(vals: Floats, mask: Bools, counts: Ints) -> Floats:
    result: Floats = np.fmax.reduce(vals, axis=-1)
    return result


def _variance(vals: Floats, mask: Bools, counts: Ints) -> Floats:
    return welford_variance(vals, mask)


def quantile_of(q: Floats, vals: Floats, counts: Ints) -> Floats:
    """Prometheus's `quantile`: linear interpolation between the closest ranks; `vals` padded with +Inf."""
    nans = np.isnan(vals)
    if nans.any():
        # Go's sort puts NaN first: the NaN samples count as the smallest values
        ordered = np.sort(np.where(nans, -np.inf, vals), axis=-1)
        ordered = np.where(np.arange(vals.shape[-1]) < nans.sum(axis=-1)[..., None], np.nan, ordered)
    else:
        ordered = np.sort(vals, axis=-1)
    with np.errstate(invalid="ignore"):
        rank = q * (counts - 1)
        rank_safe = np.where(np.isfinite(rank), rank, 0.0)
        lower = np.clip(np.floor(rank_safe), 0, np.maximum(counts - 1, 0)).astype(np.int64)
        upper = np.minimum(lower + 1, np.maximum(counts - 1, 0))
        weight = rank_safe - np.floor(rank_safe)
        lv = np.take_along_axis(ordered, lower[..., None], axis=-1)[..., 0]
        uv = np.take_along_axis(ordered, upper[..., None], axis=-1)[..., 0]
        result = lv * (1 - weight) + uv * weight
        result = np.where(weight == 0, lv, result)
    result = np.where(q < 0, -np.inf, np.where(q > 1, np.inf, result))
    out: Floats = np.where(np.isnan(q), np.nan, result)
    return out


def _window_sums(rv: RangeVector, lo: Ints, hi: Ints) -> Floats | None:
    """Window sums from per-series prefix sums: O(samples + windows) instead of O(windows x width).

    Windows whose sum may have lost precision (cancellation) are recomputed with compensated sums;
    None when a value is not finite (the gathered path handles NaN and Inf exactly)."""
    values = rv.values
    if len(values) == 0 or not np.isfinite(values).all():
        return None
    n = len(rv.labels)
    counts = np.diff(rv.offsets)
    width = int(counts.max())
    owner = np.repeat(np.arange(n), counts)
    local = np.arange(len(values)) - np.repeat(rv.offsets[:-1], counts)
    padded = np.zeros((n, width + 1))
    padded[owner, local + 1] = values
    with np.errstate(over="ignore", invalid="ignore"):
        prefix = np.cumsum(padded, axis=1)
        np.abs(padded, out=padded)
        magnitude = np.cumsum(padded, axis=1)
    if not np.isfinite(magnitude[:, -1]).all():
        return None  # overflowing sums: the gathered path has Prometheus's incremental-mean fallback
    rows = np.arange(n)[:, None]
    lo_local, hi_local = lo - rv.offsets[:-1, None], hi - rv.offsets[:-1, None]
    sums: Floats = prefix[rows, hi_local] - prefix[rows, lo_local]
    window_magnitude = magnitude[rows, hi_local] - magnitude[rows, lo_local]
    error_bound = (width + 1) * 2.3e-16 * magnitude[rows, hi_local]
    suspect = (hi > lo) & ((error_bound > 1e-12 * np.abs(sums)) | (window_magnitude > 1e6 * np.abs(sums)))
    if suspect.any():
        cells = np.nonzero(suspect)
        fixed = _gather(rv, lo[cells][:, None], hi[cells][:, None], _sum, 0.0)
        sums[cells] = fixed[:, 0]
    return sums


def over_time(rv: RangeVector, name: str, param: Floats | None = None) -> Vector:
    """The `<aggregation>_over_time` family."""
    lo, hi = rv.windows()
    counts = hi - lo
    ok = counts > 0
    keep_name = name in ("last_over_time", "first_over_time")
    if name == "count_over_time":
        return _result(rv, counts.astype(np.float64), ok)
    if name == "present_over_time":
        return _result(rv, np.ones(counts.shape), ok)
    if len(rv.values) == 0:
        return _result(rv, np.zeros(counts.shape), ok)
    if name in ("last_over_time", "ts_of_last_over_time"):
        idx = np.where(ok, hi - 1, 0)
        values = rv.values[idx] if name == "last_over_time" else rv.timestamps[idx] / 1000
        return _result(rv, values, ok, keep_name)
    if name in ("first_over_time", "ts_of_first_over_time"):
        idx = np.where(ok, lo, 0)
        values = rv.values[idx] if name == "first_over_time" else rv.timestamps[idx] / 1000
        return _result(rv, values, ok, keep_name)
    if name == "quantile_over_time":
        assert param is not None
        q = param[None, :]
        values = _gather(rv, lo, hi, lambda v, m, c: quantile_of(q, v, c), fill=np.inf)
        return _result(rv, values, ok)
    if name == "mad_over_time":

        def mad(v: Floats, m: Bools, c: Ints) -> Floats:
            median = quantile_of(np.full(c.shape, 0.5), v, c)
            with np.errstate(invalid="ignore"):
                spread = np.where(m, np.abs(v - median[..., None]), np.inf)
            deviation = quantile_of(np.full(c.shape, 0.5), spread, c)
            result: Floats = np.where((np.isnan(v) & m).any(axis=-1), np.nan, deviation)
            return result

        return _result(rv, _gather(rv, lo, hi, mad, fill=np.inf), ok)
    if name in ("sum_over_time", "avg_over_time"):
        sums = _window_sums(rv, lo, hi)
        if sums is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                return _result(rv, sums if name == "sum_over_time" else sums / counts, ok)
    if name in ("ts_of_max_over_time", "ts_of_min_over_time"):
        return _result(rv, _ts_of_extreme(rv, lo, hi, name == "ts_of_max_over_time"), ok)
    reducers: dict[str, tuple[Callable[[Floats, Bools, Ints], Floats], float]] = {
        "sum_over_time": (_sum, 0.0),
        "avg_over_time": (_avg, 0.0),
        "min_over_time": (_min, np.nan),
        "max_over_time": (_max, np.nan),
        "stdvar_over_time": (_variance, 0.0),
        "stddev_over_time": (lambda v, m, c: np.sqrt(_variance(v, m, c)), 0.0),
    }
    reduce, fill = reducers[name]
    return _result(rv, _gather(rv, lo, hi, reduce, fill), ok)


def _ts_of_extreme(rv: RangeVector, lo: Ints, hi: Ints, largest: bool) -> Floats:
    def pick(v: Floats, m: Bools, c: Ints) -> Floats:
        keyed = np.where(m & ~np.isnan(v), v if largest else -v, -np.inf)
        # the last occurrence wins on ties, as Prometheus scans forward with >=
        width = v.shape[-1]
        pos = width - 1 - np.argmax(keyed[..., ::-1], axis=-1)
        return np.asarray(pos, dtype=np.float64)

    pos = _gather(rv, lo, hi, pick).astype(np.int64)
    idx = np.clip(lo + pos, 0, max(len(rv.timestamps) - 1, 0))
    result: Floats = np.asarray(rv.timestamps[idx] / 1000, dtype=np.float64)
    return result


def linear_regression(rv: RangeVector, intercept_at: Ints | None) -> tuple[Floats, Floats, Bools]:
    """Least-squares slope and intercept per window; x in seconds from the first sample (or `intercept_at`)."""
    lo, hi = rv.windows()
    counts = hi - lo
    ok = counts >= 2
    slopes = np.full(counts.shape, np.nan)
    intercepts = np.full(counts.shape, np.nan)
    if len(rv.values) == 0:
        return slopes, intercepts, ok
    at = None if intercept_at is None else intercept_at[None, :]

    width = int(counts.max()) if counts.size else 0
    span = np.arange(width)
    n_series, steps = counts.shape
    chunk = max(1, _CHUNK_ELEMENTS // max(1, steps * width))
    for a in range(0, n_series, chunk):
        deadline.check()
        b = min(n_series, a + chunk)
        idx = np.minimum(lo[a:b, :, None] + span, len(rv.values) - 1)
        mask = span < counts[a:b, :, None]
        y = np.where(mask, rv.values[idx], 0.0)
        base = rv.timestamps[lo[a:b].clip(0, len(rv.values) - 1)] if at is None else np.broadcast_to(at, (b - a, steps))
        x = np.where(mask, (rv.timestamps[idx] - base[..., None]) / 1000, 0.0)
        n = counts[a:b].astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            sx, sy = x.sum(-1), y.sum(-1)
            sxy, sx2 = (x * y).sum(-1), (x * x).sum(-1)
            cov = sxy - sx * sy / n
            var = sx2 - sx * sx / n
            slope = cov / var
            intercept = sy / n - slope * sx / n
            first = rv.values[lo[a:b].clip(0, len(rv.values) - 1)]
            const = (np.where(mask, y, first[..., None]) == first[..., None]).all(-1)
            slope = np.where(const, np.where(np.isinf(first), np.nan, 0.0), slope)
            intercept = np.where(const, np.where(np.isinf(first), np.nan, first), intercept)
        slopes[a:b], intercepts[a:b] = slope, intercept
    return slopes, intercepts, ok


def deriv(rv: RangeVector) -> Vector:
    slope, _, ok = linear_regression(rv, None)
    return _result(rv, slope, ok)


def predict_linear(rv: RangeVector, seconds: Floats, step_ts: Ints) -> Vector:
    """Regression anchored at the evaluation step's time (not the `@` time), as Prometheus does."""
    slope, intercept, ok = linear_regression(rv, step_ts)
    return _result(rv, intercept + slope * seconds[None, :], ok)


def double_exponential_smoothing(rv: RangeVector, sf: float, tf: float) -> Vector:
    """`double_exponential_smoothing` (formerly `holt_winters`), stepping through the window positions."""
    if not (0 < sf < 1):
        raise QueryExecutionError(f"invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:g}")
    if not (0 < tf < 1):
        raise QueryExecutionError(f"invalid trend factor. Expected: 0 < tf < 1, got: {tf:g}")
    lo, hi = rv.windows()
    counts = hi - lo
    ok = counts >= 2

    def smooth(v: Floats, m: Bools, c: Ints) -> Floats:
        s0 = np.zeros(c.shape)
        s1 = v[..., 0].copy()
        b = v[..., 1] - v[..., 0] if v.shape[-1] > 1 else np.zeros(c.shape)
        for i in range(1, v.shape[-1]):
            active = m[..., i]
            x = sf * v[..., i]
            if i > 1:
                b_new = tf * (s1 - s0) + (1 - tf) * b
            else:
                b_new = b
            y = (1 - sf) * (s1 + b_new)
            s0 = np.where(active, s1, s0)
            s1 = np.where(active, x + y, s1)
            b = np.where(active, b_new, b)
        return s1

    return _result(rv, _gather(rv, lo, hi, smooth, fill=0.0), ok)
