"""Assembling selected series from several sources without re-sorting every sample.

Each source (a block, a head part, the buffer) yields `Runs`: every series' samples contiguous and in
time order. Sources come oldest first, so a series' pieces usually just follow each other; a series
held by one source is returned as views, with no copy. Only a series whose pieces overlap in time
(out-of-order data, duplicates after a crash) is sorted, on its own.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nightowl.tsdb.codec import take_ranges
from nightowl.tsdb.head import Runs

__all__ = ["Runs", "assemble", "under_raw"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def assemble(sources: list[Runs]) -> dict[int, tuple[I64, F64]]:
    """Per series id, its samples from all sources in time order (first of equal timestamps wins).

    All runs are ordered by (series, source) with one stable sort of the runs, not of the samples,
    and gathered with one take; only series whose chained pieces are not strictly increasing in
    time get sorted, each on its own. Every source's runs are strictly increasing in time (blocks,
    head parts and the sorted buffer drop duplicates).
    """
    sources = [s for s in sources if len(s.counts)]
    if not sources:
        return {}
    if len(sources) == 1:
        return _views(sources[0].sids, sources[0].counts, sources[0].timestamps, sources[0].values)
    run_sids = np.concatenate([s.sids for s in sources])
    run_counts = np.concatenate([s.counts for s in sources])
    run_starts = np.zeros(len(run_counts), np.int64)
    np.cumsum(run_counts[:-1], out=run_starts[1:])
    if not run_counts.all():
        nonempty = run_counts > 0
        run_sids, run_counts, run_starts = run_sids[nonempty], run_counts[nonempty], run_starts[nonempty]
    order = np.argsort(run_sids, kind="stable")
    idx = take_ranges(run_starts[order], run_counts[order])
    ts = np.concatenate([s.timestamps for s in sources])[idx]
    values = np.concatenate([s.values for s in sources])[idx]
    sids, counts = run_sids[order], run_counts[order]
    first = np.ones(len(sids), bool)
    first[1:] = sids[1:] != sids[:-1]
    heads = np.flatnonzero(first)
    series_counts = np.add.reduceat(counts, heads)
    result = _views(sids[heads], series_counts, ts, values)
    # Each run is strictly increasing in time already, so a series is out of order only where one of
    # its runs starts at or before the end of the previous one: a check per run, not per sample.
    ends = np.cumsum(counts)
    follows = np.flatnonzero(~first)
    if len(follows):
        bad = ts[ends[follows] - counts[follows]] <= ts[ends[follows - 1] - 1]
        for sid in np.unique(sids[follows[bad]]).tolist():
            result[sid] = _sorted(*result[sid])
    return result


def _views(sids: I64, counts: I64, ts: I64, values: F64) -> dict[int, tuple[I64, F64]]:
    ends = np.cumsum(counts).tolist()
    result: dict[int, tuple[I64, F64]] = {}
    a = 0
    for sid, b in zip(sids.tolist(), ends, strict=True):
        result[sid] = (ts[a:b], values[a:b])
        a = b
    return result


def _sorted(ts: I64, values: F64) -> tuple[I64, F64]:
    order = np.argsort(ts, kind="stable")
    ts, values = ts[order], values[order]
    keep = np.ones(len(ts), bool)
    keep[1:] = ts[1:] != ts[:-1]
    return ts[keep], values[keep]


def under_raw(raw: dict[int, tuple[I64, F64]], tier: dict[int, tuple[I64, F64]]) -> dict[int, tuple[I64, F64]]:
    """Raw samples plus the tier samples older than each series' first raw sample (raw data wins)."""
    merged = dict(raw)
    for sid, (ts, values) in tier.items():
        have = raw.get(sid)
        if have is None:
            merged[sid] = (ts, values)
            continue
        older = ts < have[0][0]
        if older.any():
            merged[sid] = (np.concatenate([ts[older], have[0]]), np.concatenate([values[older], have[1]]))
    return merged
