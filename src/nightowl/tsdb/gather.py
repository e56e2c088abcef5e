"""Assembling selected series from several sources without re-sorting every sample.

Each source (a block, a head part, the buffer) yields `Runs`: every series' samples contiguous and in
time order. Sources come oldest first, so a series' pieces usually just follow each other; a series
held by one source is returned as views, with no copy. Only a series whose pieces overlap in time
(out-of-order data, duplicates after a crash) is sorted, on its own.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from nightowl.tsdb.head import Runs

__all__ = ["Runs", "assemble", "under_raw"]

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


def assemble(sources: list[Runs]) -> dict[int, tuple[I64, F64]]:
    """Per series id, its samples from all sources in time order (first of equal timestamps wins)."""
    pieces: dict[int, list[tuple[I64, F64]]] = {}
    for src in sources:
        if not len(src.counts):
            continue
        ends = np.cumsum(src.counts).tolist()
        ts, values = src.timestamps, src.values
        a = 0
        for sid, b in zip(src.sids.tolist(), ends, strict=True):
            found = pieces.get(sid)
            if found is None:
                pieces[sid] = [(ts[a:b], values[a:b])]
            else:
                found.append((ts[a:b], values[a:b]))
            a = b
    result: dict[int, tuple[I64, F64]] = {}
    for sid, parts in pieces.items():
        if len(parts) == 1:
            result[sid] = parts[0]
            continue
        ts = np.concatenate([p[0] for p in parts])
        values = np.concatenate([p[1] for p in parts])
        if len(ts) > 1 and not bool((ts[1:] > ts[:-1]).all()):
            order = np.argsort(ts, kind="stable")
            ts, values = ts[order], values[order]
            keep = np.ones(len(ts), bool)
            keep[1:] = ts[1:] != ts[:-1]
            ts, values = ts[keep], values[keep]
        result[sid] = (ts, values)
    return result


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
