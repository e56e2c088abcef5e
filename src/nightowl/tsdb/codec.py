"""The page codec: many series' samples compressed together, vectorised with numpy, bit-exact.

A page holds consecutive series (each with >= 1 sample, timestamps ascending). Timestamps are stored
as per-series deltas (the first one raw); values per series either as integer deltas after scaling
by 10^k (counters, byte gauges, 2-decimal gauges: a few bits each) or, when no scale round-trips
every value bit for bit (NaN, staleness markers, -0.0, noisy floats), as XOR with the previous value's
bits. Each column is byte-shuffled (8 byte planes) so zstd sees the runs of zero high bytes.
"""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt
import zstandard

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]

XOR_MODE = -1
MAX_SCALE = 6
_LIMIT = float(2**53)
_HEADER = struct.Struct("<III")


def take_ranges(starts: npt.NDArray[np.integer], counts: npt.NDArray[np.integer]) -> I64:
    """Indices of the concatenated ranges [starts[i], starts[i] + counts[i])."""
    total = int(counts.sum())
    if not total:
        return np.empty(0, np.int64)
    offsets = np.zeros(len(counts), np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    idx: I64 = np.repeat(starts.astype(np.int64) - offsets, counts) + np.arange(total, dtype=np.int64)
    return idx


def _starts(counts: npt.NDArray[np.integer]) -> I64:
    starts = np.zeros(len(counts), np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    return starts


def seg_delta(x: I64, starts: I64) -> I64:
    """Differences within each segment; the first element of a segment is kept raw."""
    d = np.empty_like(x)
    if len(x):
        d[0] = x[0]
        np.subtract(x[1:], x[:-1], out=d[1:])
        d[starts] = x[starts]
    return d


def seg_undelta(d: I64, starts: I64, counts: npt.NDArray[np.integer]) -> I64:
    """Inverse of `seg_delta`; int64 wrap-around cancels out, so the result is exact."""
    if not len(d):
        return d
    c = np.cumsum(d)
    before = np.zeros(len(starts), np.int64)
    before[1:] = c[starts[1:] - 1]
    out: I64 = c - np.repeat(before, counts)
    return out


def _shuffle(x: npt.NDArray[np.int64] | npt.NDArray[np.uint64]) -> bytes:
    return np.ascontiguousarray(x.view(np.uint8).reshape(-1, 8).T).tobytes()


def _unshuffle(raw: bytes | memoryview, n: int) -> npt.NDArray[np.uint64]:
    planes = np.frombuffer(raw, np.uint8, 8 * n).reshape(8, n)
    # Byte-plane k goes to byte k of every word: one strided copy per plane, skipping the all-zero
    # planes of small deltas (cheaper than a transpose or shifting each plane into place).
    out = np.zeros((n, 8), np.uint8)
    for k in np.flatnonzero(planes.any(axis=1)).tolist():
        out[:, k] = planes[k]
    return out.view(np.uint64).reshape(n)


def _zigzag(x: I64) -> npt.NDArray[np.uint64]:
    return ((x << 1) ^ (x >> 63)).view(np.uint64)


def _unzigzag(u: npt.NDArray[np.uint64]) -> I64:
    sign: npt.NDArray[np.uint64] = np.uint64(0) - (u & np.uint64(1))
    return ((u >> np.uint64(1)) ^ sign).view(np.int64)


def value_modes(values: F64, starts: I64) -> npt.NDArray[np.int8]:
    """Per series, the smallest k such that every value is an integer / 10^k exactly, else XOR_MODE."""
    modes = np.full(len(starts), XOR_MODE, np.int8)
    if not len(values):
        return modes
    bits = values.view(np.uint64)
    open_ = np.ones(len(starts), bool)
    with np.errstate(invalid="ignore", over="ignore"):
        for k in range(MAX_SCALE + 1):
            p = 10.0**k
            r = np.round(values * p) + 0.0  # -0.0 would come back as 0.0
            ok = ((r / p).view(np.uint64) == bits) & (np.abs(r) <= _LIMIT)
            fits = np.logical_and.reduceat(ok, starts) & open_
            modes[fits] = k
            open_ &= ~fits
            if not open_.any():
                break
    return modes


def encode_page(counts: I32, timestamps: I64, values: F64, level: int = 3) -> bytes:
    """Compress consecutive series (`counts[i]` samples each, possibly 0) into one self-contained page.

    Series without samples (a time slice they have no data in) keep their count of 0 in the page; the
    sample streams are those of the others, so a page without empty series is encoded as ever.
    """
    n_series, n = len(counts), len(timestamps)
    full_counts = counts
    nonempty = counts > 0
    if not nonempty.all():
        counts = counts[nonempty]
    starts = _starts(counts)
    modes = value_modes(values, starts)
    if len(counts) != n_series:
        all_modes = np.full(n_series, XOR_MODE, np.int8)
        all_modes[nonempty] = modes
    else:
        all_modes = modes
    per_sample = np.repeat(modes, counts)
    int_mask = per_sample >= 0
    int_series = modes >= 0
    ts_stream = _zigzag(seg_delta(timestamps, starts))
    ints = np.round(values[int_mask] * (10.0 ** per_sample[int_mask])).astype(np.int64)
    int_counts = counts[int_series]
    int_stream = _zigzag(seg_delta(ints, _starts(int_counts)))
    xor_counts = counts[~int_series]
    xbits = values[~int_mask].view(np.int64)
    xor_stream = seg_xor(xbits, _starts(xor_counts))
    body = b"".join(
        [
            full_counts.astype(np.int32).tobytes(),
            all_modes.tobytes(),
            _shuffle(ts_stream),
            _shuffle(int_stream),
            _shuffle(xor_stream),
        ]
    )
    compressed: bytes = zstandard.ZstdCompressor(level=level).compress(body)
    return _HEADER.pack(n_series, n, len(ints)) + compressed


def seg_xor(bits: I64, starts: I64) -> npt.NDArray[np.uint64]:
    e = np.empty_like(bits)
    if len(bits):
        e[0] = bits[0]
        np.bitwise_xor(bits[1:], bits[:-1], out=e[1:])
        e[starts] = bits[starts]
    return e.view(np.uint64)


def seg_unxor(e: npt.NDArray[np.uint64], starts: I64, counts: npt.NDArray[np.integer]) -> npt.NDArray[np.uint64]:
    if not len(e):
        return e
    p: npt.NDArray[np.uint64] = np.bitwise_xor.accumulate(e)
    before = np.zeros(len(starts), np.uint64)
    before[1:] = p[starts[1:] - 1]
    out: npt.NDArray[np.uint64] = p ^ np.repeat(before, counts)
    return out


def decode_page(page: bytes | memoryview, want: npt.NDArray[np.integer] | None = None) -> tuple[I32, I64, F64]:
    """Inverse of `encode_page`: (counts, timestamps, values), of every series or of the `want`ed ones.

    With `want` (ascending series indices in the page), the wanted series' runs are picked out of the
    decompressed streams before the deltas are summed, so the per-sample work after zstd is theirs only.
    """
    n_series, n, n_int = _HEADER.unpack_from(page, 0)
    body = zstandard.ZstdDecompressor().decompress(bytes(page[_HEADER.size :]))
    pos = 0
    all_counts = np.frombuffer(body, np.int32, n_series, pos).copy()
    pos += 4 * n_series
    modes = np.frombuffer(body, np.int8, n_series, pos)
    pos += n_series
    counts = all_counts
    wanted: npt.NDArray[np.bool_] | None = None
    if want is not None and len(want) < n_series:
        wanted = np.zeros(n_series, bool)
        wanted[want] = True
    nonempty = all_counts > 0
    if not nonempty.all():
        counts, modes = all_counts[nonempty], modes[nonempty]
        wanted = None if wanted is None else wanted[nonempty]
    stamps, stamp_counts = _pick(_unshuffle(body[pos : pos + 8 * n], n), counts, wanted)
    timestamps = seg_undelta(_unzigzag(stamps), _starts(stamp_counts), stamp_counts)
    pos += 8 * n
    int_series = modes >= 0
    int_raw, int_counts = _pick(
        _unshuffle(body[pos : pos + 8 * n_int], n_int),
        counts[int_series],
        None if wanted is None else wanted[int_series],
    )
    ints = seg_undelta(_unzigzag(int_raw), _starts(int_counts), int_counts)
    pos += 8 * n_int
    n_xor = n - n_int
    xor_raw, xor_counts = _pick(
        _unshuffle(body[pos : pos + 8 * n_xor], n_xor),
        counts[~int_series],
        None if wanted is None else wanted[~int_series],
    )
    xbits = seg_unxor(xor_raw, _starts(xor_counts), xor_counts)
    if wanted is not None:
        modes, counts = modes[wanted], counts[wanted]
    return (all_counts if want is None else all_counts[want]), timestamps, _values(modes, counts, ints, xbits)


def _pick(
    stream: npt.NDArray[np.uint64], counts: npt.NDArray[np.integer], wanted: npt.NDArray[np.bool_] | None
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.integer]]:
    """The runs of the wanted series out of a stream holding `counts[i]` samples per series."""
    if wanted is None or wanted.all():
        return stream, counts
    picked = counts[wanted]
    return stream[take_ranges(_starts(counts)[wanted], picked)], picked


def _values(modes: npt.NDArray[np.int8], counts: I32, ints: I64, xbits: npt.NDArray[np.uint64]) -> F64:
    """Scaled integers back to floats (the encoder checked that ints / 10^k gives the bits back)."""
    int_series = modes >= 0
    scales = modes[int_series]
    if len(scales) and scales.min() == scales.max():
        scaled = ints.astype(np.float64)
        if scales[0]:
            scaled /= 10.0 ** int(scales[0])
    else:
        scaled = ints.astype(np.float64) / np.repeat(10.0 ** scales.astype(np.float64), counts[int_series])
    if len(xbits) == 0:
        return scaled
    if len(ints) == 0:
        return xbits.view(np.float64)
    values = np.empty(len(ints) + len(xbits), np.float64)
    int_mask = np.repeat(int_series, counts)
    values[int_mask] = scaled
    values[~int_mask] = xbits.view(np.float64)
    return values
