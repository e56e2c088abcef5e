from __future__ import annotations

import numpy as np

from nightowl.metrics.model import STALE_NAN
from nightowl.tsdb.codec import XOR_MODE, decode_page, encode_page, value_modes


def test_page_round_trips_every_bit_pattern() -> None:
    rng = np.random.default_rng(7)
    counts = np.array([1, 5, 300, 2, 40], np.int32)
    n = int(counts.sum())
    ts = np.cumsum(rng.integers(1, 30_000, n)).astype(np.int64) + 1_700_000_000_000
    values = rng.normal(0, 1e6, n)
    values[:3] = [STALE_NAN, float("nan"), -0.0]
    values[10:20] = [float("inf"), -float("inf"), 2.0**60, -(2.0**53), 0.1, 0.3, 1e-300, 5e-324, 7.0, 1.25]
    values[6:306] = np.round(np.cumsum(rng.poisson(4, 300)) * 0.01, 2)
    page = encode_page(counts, ts, values)
    got_counts, got_ts, got_values = decode_page(page)
    assert got_counts.tolist() == counts.tolist()
    assert got_ts.tolist() == ts.tolist()
    assert got_values.view(np.uint64).tolist() == values.view(np.uint64).tolist()


def test_integral_and_decimal_series_use_integer_mode() -> None:
    values = np.array([1.0, 2.0, 3.5, 0.25, 0.1, 0.2, 0.3, float("nan")])
    starts = np.array([0, 2, 4, 7], np.int64)
    assert value_modes(values, starts).tolist() == [0, 2, 1, XOR_MODE]


def test_regular_counters_cost_about_a_byte_per_sample() -> None:
    rng = np.random.default_rng(1)
    counts = np.full(1000, 480, np.int32)
    ts = (1_700_000_000_000 + np.arange(480) * 15_000)[None, :].repeat(1000, 0).ravel().astype(np.int64)
    values = np.cumsum(rng.poisson(20, (1000, 480)), axis=1).ravel().astype(np.float64)
    assert len(encode_page(counts, ts, values)) / len(ts) < 1.2


def test_series_without_samples_keep_their_place_in_a_page() -> None:
    counts = np.array([0, 3, 0, 0, 2, 0], np.int32)
    ts = np.array([10, 20, 30, 5, 6], np.int64)
    values = np.array([1.0, 2.0, 3.0, 0.1, float("nan")])
    got_counts, got_ts, got_values = decode_page(encode_page(counts, ts, values))
    assert got_counts.tolist() == counts.tolist()
    assert got_ts.tolist() == ts.tolist()
    assert got_values.view(np.uint64).tolist() == values.view(np.uint64).tolist()
    empty_counts, empty_ts, _ = decode_page(encode_page(np.zeros(3, np.int32), ts[:0], values[:0]))
    assert empty_counts.tolist() == [0, 0, 0] and len(empty_ts) == 0


def test_decoding_some_series_equals_decoding_all_then_picking() -> None:
    rng = np.random.default_rng(11)
    counts = np.array([3, 0, 7, 1, 0, 12, 5], np.int32)
    n = int(counts.sum())
    ts = np.concatenate([np.sort(rng.integers(0, 10**9, c)) for c in counts.tolist()]).astype(np.int64)
    values = np.round(rng.normal(0, 100, n), 2)
    values[counts[:2].sum() : counts[:3].sum()] = rng.normal(size=7)  # one series in XOR mode
    page = encode_page(counts, ts, values)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    for want in ([0], [2, 5], [1, 4], [0, 2, 3, 5, 6], list(range(7))):
        got_counts, got_ts, got_values = decode_page(page, np.array(want))
        idx = np.concatenate([np.arange(starts[w], starts[w] + counts[w]) for w in want]).astype(np.int64)
        assert got_counts.tolist() == counts[want].tolist()
        assert got_ts.tolist() == ts[idx].tolist()
        assert got_values.view(np.uint64).tolist() == values[idx].view(np.uint64).tolist()
