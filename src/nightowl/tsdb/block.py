"""Immutable blocks on disk: one time window's series, sorted by labels, compressed in pages.

A block is a directory `blocks/<id>/` with `meta.json`, `labels.json.zst` (label sets in block order),
`index.npz` (per series: sample count, first/last time; page table) and `data` (the pages of each
column back to back). Raw blocks have one column, `value`; downsampled tier blocks have one per
aggregate. Series are sorted by labels so one metric's series share pages, and a select decodes
only the pages holding the series it wants. Blocks are written to a temporary directory, fsynced
and renamed into place, so a crash leaves either the whole block or none.
"""

from __future__ import annotations

import json
import os
import shutil
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
import zstandard

from nightowl.metrics.model import Labels
from nightowl.tsdb.codec import decode_page, encode_page, take_ranges
from nightowl.tsdb.pagecache import PAGE_CACHE, DecodedPage

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
PAGE_SAMPLES = 65536
RAW_SLICE_MS = 10 * 60_000
"""Raw blocks cut each group's pages at these time boundaries: a query of the last minutes decodes one slice
of ~PAGE_SAMPLES / 4 samples per group of series."""


@dataclass(frozen=True)
class BlockMeta:
    id: str
    window_start: int
    window_end: int
    min_ts: int
    max_ts: int
    samples: int
    series: int
    resolution_ms: int = 0
    columns: tuple[str, ...] = ("value",)
    parents: tuple[str, ...] = ()

    @property
    def is_tier(self) -> bool:
        return self.resolution_ms > 0


@dataclass
class Columns:
    """Samples of consecutive series: `counts[i]` samples of series i, in order, per column."""

    counts: I32
    timestamps: I64
    values: list[F64]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlockWriter:
    """Writes a block group by group (bounded memory); `finish` makes it visible atomically."""

    def __init__(self, root: Path, block_id: str, n_columns: int, level: int = 3, slice_ms: int = 0) -> None:
        self.root, self.id, self.level, self.slice_ms = root, block_id, level, slice_ms
        self.tmp = root / f".tmp-{block_id}"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        self._files = [open(self.tmp / f"data.{c}", "wb") for c in range(n_columns)]
        self._pos = [0] * n_columns
        self._offsets: list[list[int]] = [[0] for _ in range(n_columns)]
        self._group_series = [0]
        self._page_group: list[int] = []
        self._page_min: list[int] = []
        self._page_max: list[int] = []
        self._labels: list[Labels] = []
        self._counts: list[I32] = []
        self._first: list[I64] = []
        self._last: list[I64] = []

    def add(self, labels: list[Labels], data: Columns) -> None:
        """Append series (sorted by labels after those already added), each with >= 1 sample."""
        if not labels:
            return
        counts = data.counts.astype(np.int32)
        starts = np.zeros(len(counts) + 1, np.int64)
        np.cumsum(counts, out=starts[1:])
        group_samples = PAGE_SAMPLES
        if self.slice_ms and len(data.timestamps):
            # Groups sized so that each time slice's page holds about a quarter of PAGE_SAMPLES.
            slices = int(data.timestamps.max()) // self.slice_ms - int(data.timestamps.min()) // self.slice_ms + 1
            group_samples = max(1, slices * PAGE_SAMPLES // 4)
        bounds = [0]
        acc = 0
        for i, c in enumerate(counts.tolist()):
            acc += c
            if acc >= group_samples:
                bounds.append(i + 1)
                acc = 0
        if bounds[-1] != len(counts):
            bounds.append(len(counts))
        base = len(self._labels)
        for g in range(len(bounds) - 1):
            a, b = bounds[g], bounds[g + 1]
            lo, hi = int(starts[a]), int(starts[b])
            for page_counts, take in self._slices(counts[a:b], data.timestamps[lo:hi]):
                ts = data.timestamps[lo:hi][take]
                for col, out in enumerate(self._files):
                    page = encode_page(page_counts, ts, data.values[col][lo:hi][take], self.level)
                    out.write(page)
                    self._pos[col] += len(page)
                    self._offsets[col].append(self._pos[col])
                self._page_group.append(len(self._group_series) - 1)
                self._page_min.append(int(ts.min()))
                self._page_max.append(int(ts.max()))
            self._group_series.append(base + b)
        self._labels.extend(labels)
        self._counts.append(counts)
        self._first.append(data.timestamps[starts[:-1]])
        self._last.append(data.timestamps[starts[1:] - 1])

    def _slices(self, counts: I32, timestamps: I64) -> list[tuple[I32, slice | I64]]:
        """A group's pages: one per time slice holding samples (per-series counts, which samples)."""
        if not self.slice_ms:
            return [(counts, slice(None))]
        keys = timestamps // self.slice_ms
        if keys[0] == keys[-1] and (keys == keys[0]).all():
            return [(counts, slice(None))]
        owner = np.repeat(np.arange(len(counts)), counts)
        pages: list[tuple[I32, slice | I64]] = []
        for key in np.unique(keys).tolist():
            take = np.flatnonzero(keys == key)
            pages.append((np.bincount(owner[take], minlength=len(counts)).astype(np.int32), take))
        return pages

    def abort(self) -> None:
        for f in self._files:
            f.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def finish(self, meta: BlockMeta) -> Path:
        with open(self.tmp / "data", "wb") as out:
            for column, part in enumerate(self._files):
                part.close()
                with open(self.tmp / f"data.{column}", "rb") as src:
                    shutil.copyfileobj(src, out)
                (self.tmp / f"data.{column}").unlink()
            out.flush()
            os.fsync(out.fileno())
        shifts = np.cumsum([0, *self._pos[:-1]])
        offsets = np.array(self._offsets, np.int64) + shifts[:, None]
        empty64 = np.empty(0, np.int64)
        np.savez_compressed(
            self.tmp / "index.npz",
            counts=np.concatenate(self._counts) if self._counts else np.empty(0, np.int32),
            min_ts=np.concatenate(self._first) if self._first else empty64,
            max_ts=np.concatenate(self._last) if self._last else empty64,
            group_series=np.array(self._group_series, np.int64),
            page_group=np.array(self._page_group, np.int64),
            page_min_ts=np.array(self._page_min, np.int64),
            page_max_ts=np.array(self._page_max, np.int64),
            page_offsets=offsets,
        )
        flat = [[x for pair in ls for x in pair] for ls in self._labels]
        text = json.dumps(flat, separators=(",", ":")).encode()
        (self.tmp / "labels.json.zst").write_bytes(zstandard.ZstdCompressor(level=9).compress(text))
        doc = {**meta.__dict__, "columns": list(meta.columns), "parents": list(meta.parents)}
        (self.tmp / "meta.json").write_text(json.dumps(doc))
        for name in ("index.npz", "labels.json.zst", "meta.json"):
            with open(self.tmp / name, "rb+") as f:
                os.fsync(f.fileno())
        final = self.root / meta.id
        os.rename(self.tmp, final)
        _fsync_dir(self.root)
        return final


def _series_major(
    parts: list[tuple[npt.NDArray[np.integer], I64, F64]],
) -> tuple[npt.NDArray[np.integer], I64, F64]:
    """Time slices of the same series (each series-major, slices in time order) -> series-major."""
    run_counts = np.stack([p[0] for p in parts]).astype(np.int64)  # [slices x series]
    run_starts = np.zeros(run_counts.size, np.int64)
    np.cumsum(run_counts.ravel()[:-1], out=run_starts[1:])
    order = np.arange(run_counts.size).reshape(run_counts.shape).T.ravel()
    idx = take_ranges(run_starts[order], run_counts.ravel()[order])
    ts = np.concatenate([p[1] for p in parts])[idx]
    values = np.concatenate([p[2] for p in parts])[idx]
    return run_counts.sum(axis=0), ts, values


def _picked(page: DecodedPage, want: I64, window: tuple[int, int] | None) -> tuple[npt.NDArray[np.integer], I64, F64]:
    """The wanted series' samples of a decoded page, within the window."""
    counts: npt.NDArray[np.integer]
    if window is None or (window[0] <= page.first_ts and page.last_ts <= window[1]):
        starts, counts = page.starts[want], page.counts[want]
    else:
        starts, counts = page.runs(want, *window)
    return (counts, *page.take(want, starts, counts))


def _clipped(
    counts: npt.NDArray[np.integer], ts: I64, values: F64, window: tuple[int, int] | None
) -> tuple[npt.NDArray[np.integer], I64, F64]:
    if window is not None:
        inside = np.flatnonzero((ts >= window[0]) & (ts <= window[1]))
        if len(inside) < len(ts):
            counts = np.diff(np.searchsorted(inside, np.cumsum(counts)), prepend=0)
            return counts, ts[inside], values[inside]
    return counts, ts, values


def read_meta(path: Path) -> BlockMeta:
    doc = json.loads((path / "meta.json").read_text())
    doc["columns"] = tuple(doc["columns"])
    doc["parents"] = tuple(doc.get("parents", ()))
    return BlockMeta(**doc)


def read_labels(path: Path) -> list[Labels]:
    text = zstandard.ZstdDecompressor().decompress((path / "labels.json.zst").read_bytes())
    shared: dict[tuple[str, str], tuple[str, str]] = {}  # one object per distinct pair, not per series
    return [
        tuple([shared.setdefault(pair, pair) for pair in zip(flat[::2], flat[1::2], strict=True)])
        for flat in json.loads(text)
    ]


class Block:
    """An open block: its meta, per-series arrays and the global series id of each of its series."""

    def __init__(self, path: Path, meta: BlockMeta, gids: I64) -> None:
        self.path = path
        self.meta = meta
        with np.load(path / "index.npz") as z:
            self.counts: I32 = z["counts"]
            self.min_ts: I64 = z["min_ts"]
            self.max_ts: I64 = z["max_ts"]
            self.page_offsets: I64 = z["page_offsets"]
            if "group_series" in z:
                self.group_series: I64 = z["group_series"]
                self.page_group: I64 = z["page_group"]
                self.page_min_ts: I64 = z["page_min_ts"]
                self.page_max_ts: I64 = z["page_max_ts"]
            else:  # blocks written before time slices: one page per group of series, any time
                self.group_series = z["page_series"]
                self.page_group = np.arange(len(self.group_series) - 1, dtype=np.int64)
                self.page_min_ts = np.full(len(self.page_group), np.iinfo(np.int64).min, np.int64)
                self.page_max_ts = np.full(len(self.page_group), np.iinfo(np.int64).max, np.int64)
        self._group_pages: list[int] = np.searchsorted(self.page_group, np.arange(len(self.group_series))).tolist()
        self._page_spans = list(zip(self.page_min_ts.tolist(), self.page_max_ts.tolist(), strict=True))
        self.gids = gids
        self._order = np.argsort(gids, kind="stable")
        self._sorted_gids = gids[self._order]
        self.size_bytes = sum(p.stat().st_size for p in path.iterdir())
        self._token = PAGE_CACHE.token()
        weakref.finalize(self, PAGE_CACHE.drop_block, self._token)

    def local(self, gids: I64) -> I64:
        """Local series indices (ascending) of the requested global ids present in this block."""
        if not len(self._sorted_gids) or not len(gids):
            return np.empty(0, np.int64)
        pos = np.searchsorted(self._sorted_gids, gids)
        pos[pos >= len(self._sorted_gids)] = 0
        hit = self._sorted_gids[pos] == gids
        local: I64 = np.sort(self._order[pos[hit]])
        return local

    def read(self, local: I64, column: int = 0, start_ms: int | None = None, end_ms: int | None = None) -> Columns:
        """Samples of the given local series (ascending), series after series, each in time order.

        With a window, only the samples in [start_ms, end_ms] (counts may then be 0). Pages read here
        (compaction, rewrites, tiers) do not go into the page cache: they would push out what queries use.
        """
        counts_out: list[npt.NDArray[np.integer]] = []
        ts_out: list[I64] = [np.empty(0, np.int64)]
        val_out: list[F64] = [np.empty(0, np.float64)]
        for members, parts in self.pieces(local, column, start_ms, end_ms, cache=False):
            if not parts:
                counts_out.append(np.zeros(len(members), np.int64))
                continue
            counts, ts, values = parts[0] if len(parts) == 1 else _series_major(parts)
            counts_out.append(counts)
            ts_out.append(ts)
            val_out.append(values)
        counts_all = np.concatenate(counts_out) if counts_out else np.empty(0, np.int64)
        return Columns(counts_all.astype(np.int32, copy=False), np.concatenate(ts_out), [np.concatenate(val_out)])

    def pieces(
        self,
        local: I64,
        column: int = 0,
        start_ms: int | None = None,
        end_ms: int | None = None,
        cache: bool = True,
    ) -> list[tuple[I64, list[tuple[npt.NDArray[np.integer], I64, F64]]]]:
        """Per group of series: its wanted local series and, per time slice in time order, their
        (counts, timestamps, values), series after series.

        Pages are decoded only where they hold wanted series; with a window, only the time slices
        overlapping [start_ms, end_ms] and only the samples inside it, so a query for the last
        minutes decodes and copies little more than those minutes. Selects chain the slices per
        series in one gather with the other sources (no series-major copy per block).
        """
        if not len(local):
            return []
        window = None if start_ms is None or end_ms is None else (start_ms, end_ms)
        groups = np.searchsorted(self.group_series, local, side="right") - 1
        bounds = np.flatnonzero(np.diff(groups)) + 1
        found: list[tuple[I64, list[tuple[npt.NDArray[np.integer], I64, F64]]]] = []
        f: BinaryIO | None = None
        try:
            for a, b in zip([0, *bounds.tolist()], [*bounds.tolist(), len(local)], strict=True):
                group = int(groups[a])
                want = local[a:b] - int(self.group_series[group])
                pages: range | list[int] = range(self._group_pages[group], self._group_pages[group + 1])
                if window is not None:
                    spans = self._page_spans
                    pages = [p for p in pages if spans[p][1] >= window[0] and spans[p][0] <= window[1]]
                parts = []
                for p in pages:
                    page = PAGE_CACHE.get((self._token, column, p)) if cache and PAGE_CACHE.budget else None
                    if page is None:
                        f = f or open(self.path / "data", "rb")
                        parts.append(self._read_page(f, p, column, want, window, cache))
                    else:
                        parts.append(_picked(page, want, window))
                found.append((local[a:b], parts))
        finally:
            if f is not None:
                f.close()
        return found

    def _read_page(
        self, f: BinaryIO, page: int, column: int, want: I64, window: tuple[int, int] | None, cache: bool
    ) -> tuple[npt.NDArray[np.integer], I64, F64]:
        """The samples of the wanted series (indices within the page's group) in one page.

        With the page cache on, the whole page is decoded and kept; without, only the wanted runs.
        """
        lo, hi = int(self.page_offsets[column, page]), int(self.page_offsets[column, page + 1])
        f.seek(lo)
        raw = f.read(hi - lo)
        if cache and PAGE_CACHE.budget:
            decoded = DecodedPage.of(*decode_page(raw))
            PAGE_CACHE.put((self._token, column, page), decoded)
            return _picked(decoded, want, window)
        counts, ts, values = decode_page(raw, want)
        return _clipped(counts, ts, values, window)

    def read_all(self) -> list[Columns]:
        """Every series, every column (compaction, rewrites)."""
        everything = np.arange(len(self.counts), dtype=np.int64)
        return [self.read(everything, c) for c in range(len(self.meta.columns))]
