"""The XOR chunk codec: every float bit pattern and timestamp step comes back exactly."""

from __future__ import annotations

import numpy as np
import pytest

from nightowl.federation import xorchunk
from nightowl.metrics.model import STALE_NAN


def roundtrip(ts: list[int], vs: list[float]) -> tuple[list[int], list[int]]:
    chunk = xorchunk.encode(np.array(ts, np.int64), np.array(vs, np.float64))
    got_ts, got_vs = xorchunk.decode(chunk)
    return got_ts.tolist(), got_vs.view(np.uint64).tolist()


def bits(vs: list[float]) -> list[int]:
    return np.array(vs, np.float64).view(np.uint64).tolist()


def test_regular_counter_round_trips_bit_for_bit() -> None:
    ts = [1_700_000_000_000 + 15_000 * i for i in range(120)]
    vs = [float(i * 3) for i in range(120)]
    assert roundtrip(ts, vs) == (ts, bits(vs))


def test_special_values_and_irregular_steps_round_trip() -> None:
    ts = [-5, 0, 1, 8193, 8194 + 8192, 200_000, 200_001, 2**40, 2**40 + 1, 2**40 + 3, 2**40 + 3 + 2**21]
    vs = [0.0, -0.0, float("nan"), STALE_NAN, float("inf"), -float("inf"), 1e-300, 1e300, 0.1, 0.1, 5e-324]
    assert roundtrip(ts, vs) == (ts, bits(vs))


def test_each_delta_of_delta_width_boundary() -> None:
    """The prefix codes hold -(2^(n-1) - 1) .. 2^(n-1); one past either end takes the next width."""
    steps = [1000]
    for width in (14, 17, 20):
        for dod in (2 ** (width - 1), -(2 ** (width - 1) - 1), 2 ** (width - 1) + 1, -(2 ** (width - 1))):
            steps.append(steps[-1] + dod)
            steps.append(1000)
    ts = np.cumsum([0, *[s for s in steps if s > 0]]).tolist()
    assert roundtrip(ts, [1.0] * len(ts)) == (ts, bits([1.0] * len(ts)))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_floats_round_trip(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ts = np.cumsum(rng.integers(1, 100_000, 500)).tolist()
    vs = np.concatenate([rng.normal(0, 1e6, 250), np.round(rng.normal(50, 5, 250), 1)]).tolist()
    assert roundtrip(ts, vs) == (ts, bits(vs))


def test_a_series_is_cut_into_chunks_of_120_samples() -> None:
    ts = np.arange(300, dtype=np.int64) * 1000
    cut = xorchunk.chunks(ts, np.ones(300))
    assert [(lo, hi) for lo, hi, _ in cut] == [(0, 119_000), (120_000, 239_000), (240_000, 299_000)]
    assert [int.from_bytes(data[:2], "big") for _, _, data in cut] == [120, 120, 60]


def test_a_truncated_chunk_is_an_error() -> None:
    chunk = xorchunk.encode(np.arange(10, dtype=np.int64), np.arange(10, dtype=np.float64) * 1.5)
    with pytest.raises(ValueError, match="ends early"):
        xorchunk.decode(chunk[:-3])


@pytest.mark.parametrize("n", [0, 1, 2, 3])
def test_short_chunks_round_trip(n: int) -> None:
    ts = [1_000 * (i + 1) ** 2 for i in range(n)]
    vs = [0.5 * i for i in range(n)]
    assert roundtrip(ts, vs) == (ts, bits(vs))


@pytest.mark.parametrize("size", [1, 2, 7, 120])
def test_every_chunk_of_a_long_series_round_trips(size: int) -> None:
    """Chunks are encoded many at a time; each must still stand alone (its own first sample, window)."""
    rng = np.random.default_rng(size)
    ts = np.cumsum(rng.integers(1, 60_000, 1500)).astype(np.int64)
    vs = np.where(rng.random(1500) < 0.5, rng.normal(0, 1e3, 1500), np.round(rng.normal(50, 5, 1500)))
    got_ts, got_bits = [], []
    for lo, hi, data in xorchunk.chunks(ts, vs, size):
        t, v = xorchunk.decode(data)
        assert (lo, hi) == (int(t[0]), int(t[-1])) and len(t) <= size
        got_ts.extend(t.tolist())
        got_bits.extend(v.view(np.uint64).tolist())
    assert got_ts == ts.tolist() and got_bits == vs.view(np.uint64).tolist()
    assert [xorchunk.encode(ts[i : i + size], vs[i : i + size]) for i in range(0, 1500, size)] == [
        data for _, _, data in xorchunk.chunks(ts, vs, size)
    ]
