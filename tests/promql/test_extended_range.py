"""The vectorized anchored/smoothed functions against a sample-by-sample transcription of
Prometheus's extendedRate/extendFloats, on random series with gaps and counter resets."""

from __future__ import annotations

import numpy as np
import pytest

from nightowl.promql.extended_range import extend_floats, extended_changes, extended_rate
from nightowl.promql.values import RangeVector

LOOKBACK = 300_000


def _interpolate(t1: int, v1: float, t2: int, v2: float, at: int, is_counter: bool) -> float:
    if is_counter and v2 < v1:
        v1 = 0.0
    return v1 + (v2 - v1) * (at - t1) / (t2 - t1)


def rate_oracle(t: list[int], v: list[float], start: int, end: int, smoothed: bool, counter: bool) -> float | None:
    if not t:
        return None
    last = len(t) - 1
    first = max(0, next((i for i in range(last) if t[i] > start), last) - 1)
    if smoothed:
        last = next((i for i in range(last) if t[i] >= end), last)
    if t[last] <= start or (smoothed and t[first] > end):
        return None
    left = v[first]
    if smoothed and t[first] < start:
        left = _interpolate(t[first], v[first], t[first + 1], v[first + 1], start, counter)
    right = v[last]
    if smoothed and last > 0 and t[last] > end:
        right = _interpolate(t[last - 1], v[last - 1], t[last], v[last], end, counter)
    result = right - left
    if counter:
        first += t[first] <= start
        last -= t[last] >= end
        prev = left
        for value in v[first : last + 1]:
            if value < prev:
                result += prev
            prev = value
        if right < prev:
            result += prev
    return result


def random_range(seed: int, range_ms: int) -> RangeVector:
    rng = np.random.default_rng(seed)
    stamps, values, offsets = [], [], [0]
    for _ in range(4):
        t = np.sort(rng.choice(np.arange(0, 1_200_000, 5_000), size=int(rng.integers(0, 40)), replace=False))
        v = np.cumsum(rng.integers(0, 5, size=len(t))).astype(float)
        v[rng.random(len(t)) < 0.1] = rng.integers(0, 3)  # counter resets
        stamps.append(t)
        values.append(v)
        offsets.append(offsets[-1] + len(t))
    eval_ts = np.arange(0, 1_500_000, 37_000, dtype=np.int64)
    labels = [(("id", str(i)),) for i in range(4)]
    return RangeVector(
        labels, np.array(offsets, np.int64), np.concatenate(stamps).astype(np.int64), np.concatenate(values),
        eval_ts, range_ms,
    )  # fmt: skip


def windows(rv: RangeVector, i: int, end: int, smoothed: bool) -> tuple[list[int], list[float]]:
    a, b = int(rv.offsets[i]), int(rv.offsets[i + 1])
    t, v = rv.timestamps[a:b], rv.values[a:b]
    start = end - rv.range_ms
    keep = (t > start - LOOKBACK) & (t <= end + (LOOKBACK if smoothed else 0))
    return [int(x) for x in t[keep]], [float(x) for x in v[keep]]


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("smoothed", [False, True])
@pytest.mark.parametrize("counter", [False, True])
def test_extended_rate_matches_the_per_window_algorithm(seed: int, smoothed: bool, counter: bool) -> None:
    rv = random_range(seed, range_ms=[20_000, 60_000, 300_000][seed % 3])
    got = extended_rate(rv, LOOKBACK, smoothed, counter, is_rate=False)
    found = {labels: (got.values[k], got.present[k]) for k, labels in enumerate(got.labels)}
    for i, labels in enumerate(rv.labels):
        for s, end in enumerate(rv.eval_ts.tolist()):
            t, v = windows(rv, i, end, smoothed)
            want = rate_oracle(t, v, end - rv.range_ms, end, smoothed, counter)
            values, present = found.get(labels, (np.zeros(len(rv.eval_ts)), np.zeros(len(rv.eval_ts), bool)))
            assert bool(present[s]) == (want is not None), (i, end)
            if want is not None:
                assert values[s] == pytest.approx(want), (i, end)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("resets", [False, True])
def test_extended_changes_count_along_the_extended_samples(seed: int, resets: bool) -> None:
    rv = random_range(seed, range_ms=[20_000, 60_000, 300_000][seed % 3])
    got = extended_changes(rv, LOOKBACK, resets)
    found = {labels: (got.values[k], got.present[k]) for k, labels in enumerate(got.labels)}
    for i, labels in enumerate(rv.labels):
        for s, end in enumerate(rv.eval_ts.tolist()):
            t, v = windows(rv, i, end, False)
            _, ext = extend_floats(np.array(t, np.int64), np.array(v), end - rv.range_ms, end, False)
            values, present = found.get(labels, (np.zeros(len(rv.eval_ts)), np.zeros(len(rv.eval_ts), bool)))
            assert bool(present[s]) == (len(ext) > 0), (i, end)
            if len(ext):
                pairs = zip(ext[:-1], ext[1:], strict=True)
                want = sum(1 for a, b in pairs if (b < a if resets else b != a))
                assert values[s] == want, (i, end)
