"""The head: recent samples in memory, columnar.

Appends go to an unsorted active buffer (whole batches of column arrays, no per-sample work). When
it grows past `freeze_samples` it is frozen into a `Part`: sorted by (series, time), duplicates
dropped, with per-series offsets so selects slice it. Out-of-order samples cost nothing special:
they are sorted at freeze time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nightowl.tsdb.codec import take_ranges

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Chunk:
    """Samples of several series: `sids[i]` owns sample i. Sorted by (sid, ts) when from `sort_by_series`."""

    sids: I64
    timestamps: I64
    values: F64

    def __len__(self) -> int:
        return len(self.sids)

    @classmethod
    def empty(cls) -> Chunk:
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.float64))

    @classmethod
    def concat(cls, chunks: list[Chunk]) -> Chunk:
        chunks = [c for c in chunks if len(c)]
        if not chunks:
            return cls.empty()
        if len(chunks) == 1:
            return chunks[0]
        return cls(
            np.concatenate([c.sids for c in chunks]),
            np.concatenate([c.timestamps for c in chunks]),
            np.concatenate([c.values for c in chunks]),
        )

    def where(self, keep: npt.NDArray[np.bool_]) -> Chunk:
        return Chunk(self.sids[keep], self.timestamps[keep], self.values[keep])


def series_order(sids: I64, timestamps: I64) -> tuple[I64, npt.NDArray[np.bool_] | None]:
    """Permutation sorting by (sid, ts), and which sorted samples to keep (None: all, no duplicates).

    A stable sort on the series id alone is enough when the input is time-ordered runs (blocks, then
    parts, then the buffer), which is the common case; a full lexsort handles the rest. Of samples
    with equal (sid, ts) the first one wins.
    """
    order = np.argsort(sids, kind="stable")
    s, t = sids[order], timestamps[order]
    if not ((s[1:] == s[:-1]) & (t[1:] <= t[:-1])).any():
        return order, None
    order = np.lexsort((timestamps, sids))
    s, t = sids[order], timestamps[order]
    keep = np.ones(len(s), bool)
    keep[1:] = (s[1:] != s[:-1]) | (t[1:] != t[:-1])
    return order, keep


def sort_by_series(chunk: Chunk) -> Chunk:
    """`chunk` sorted by (sid, ts) without duplicate (sid, ts) samples."""
    if len(chunk) < 2:
        return chunk
    order, keep = series_order(chunk.sids, chunk.timestamps)
    if keep is not None:
        order = order[keep]
    return Chunk(chunk.sids[order], chunk.timestamps[order], chunk.values[order])


@dataclass(frozen=True)
class Runs:
    """Samples of several series, each series' samples contiguous and in time order."""

    sids: I64
    counts: I64
    timestamps: I64
    values: F64

    @classmethod
    def of_sorted(cls, chunk: Chunk) -> Runs:
        """From samples sorted by (sid, ts)."""
        if not len(chunk):
            return cls(np.empty(0, np.int64), np.empty(0, np.int64), chunk.timestamps, chunk.values)
        edges = np.flatnonzero(chunk.sids[1:] != chunk.sids[:-1]) + 1
        starts = np.concatenate([[0], edges])
        counts = np.diff(np.append(starts, len(chunk)))
        return cls(chunk.sids[starts], counts.astype(np.int64), chunk.timestamps, chunk.values)

    @classmethod
    def of_unsorted(cls, chunk: Chunk) -> Runs:
        return cls.of_sorted(sort_by_series(chunk))

    def clip(self, start_ms: int, end_ms: int) -> Runs:
        """Only the samples in [start_ms, end_ms]."""
        ts = self.timestamps
        if not len(ts) or (int(ts.min()) >= start_ms and int(ts.max()) <= end_ms):
            return self
        inside = np.flatnonzero((ts >= start_ms) & (ts <= end_ms))
        counts = np.diff(np.searchsorted(inside, np.cumsum(self.counts)), prepend=0)
        return Runs(self.sids, counts, ts[inside], self.values[inside]).without_empty()

    def without_empty(self) -> Runs:
        """Without the series that have no samples (left by a clip)."""
        keep = self.counts > 0
        if keep.all():
            return self
        return Runs(self.sids[keep], self.counts[keep], self.timestamps, self.values)


@dataclass(frozen=True)
class Part:
    """An immutable sorted run of head samples with per-series offsets."""

    data: Chunk
    series: I64
    starts: I64
    counts: I64

    @classmethod
    def build(cls, chunk: Chunk) -> Part:
        data = sort_by_series(chunk)
        for column in (data.sids, data.timestamps, data.values):
            column.flags.writeable = False  # selects hand out views of these: readers must not write
        if not len(data):
            return cls(data, np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0, np.int64))
        edges = np.flatnonzero(data.sids[1:] != data.sids[:-1]) + 1
        starts = np.concatenate([[0], edges]).astype(np.int64)
        counts = np.diff(np.append(starts, len(data))).astype(np.int64)
        return cls(data, data.sids[starts], starts, counts)

    def runs(self, sids: I64) -> Runs:
        """The samples of `sids` (sorted ids), series by series."""
        if not len(self.series) or not len(sids):
            return Runs.of_sorted(Chunk.empty())
        pos = np.searchsorted(self.series, sids)
        pos[pos >= len(self.series)] = 0
        pos = pos[self.series[pos] == sids]
        idx = take_ranges(self.starts[pos], self.counts[pos])
        return Runs(self.series[pos], self.counts[pos], self.data.timestamps[idx], self.data.values[idx])


class Head:
    def __init__(self, freeze_samples: int = 250_000) -> None:
        self.freeze_samples = freeze_samples
        self.parts: list[Part] = []
        self._active: list[Chunk] = []
        self._active_n = 0
        self._active_cache: Chunk | None = None

    @property
    def samples(self) -> int:
        return self._active_n + sum(len(p.data) for p in self.parts)

    @property
    def bytes(self) -> int:
        return self.samples * 24

    def add(self, chunk: Chunk) -> None:
        self._active.append(chunk)
        self._active_n += len(chunk)
        self._active_cache = None
        if self._active_n >= self.freeze_samples:
            self.freeze()

    def active(self) -> Chunk:
        if self._active_cache is None:
            self._active_cache = Chunk.concat(self._active)
            self._active = [self._active_cache] if len(self._active_cache) else []
        return self._active_cache

    def freeze(self) -> None:
        if self._active_n:
            self.parts.append(Part.build(self.active()))
        self._active, self._active_n, self._active_cache = [], 0, None

    def snapshot(self) -> tuple[list[Part], Chunk]:
        """The frozen parts and the buffer as they are now (both immutable from here on)."""
        return list(self.parts), self.active()

    def everything(self) -> list[Chunk]:
        return [p.data for p in self.parts] + [self.active()]

    def delete(self, sids: I64, start_ms: int, end_ms: int) -> None:
        merged = Chunk.concat(self.everything())
        drop = np.isin(merged.sids, sids) & (merged.timestamps >= start_ms) & (merged.timestamps <= end_ms)
        self.parts = [Part.build(merged.where(~drop))] if len(merged) else []
        self._active, self._active_n, self._active_cache = [], 0, None
