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
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import zstandard

from nightowl.metrics.model import Labels
from nightowl.tsdb.codec import decode_page, encode_page

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
I32 = npt.NDArray[np.int32]
PAGE_SAMPLES = 65536


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


def take_ranges(starts: npt.NDArray[np.integer], counts: npt.NDArray[np.integer]) -> I64:
    """Indices of the concatenated ranges [starts[i], starts[i] + counts[i])."""
    total = int(counts.sum())
    if not total:
        return np.empty(0, np.int64)
    offsets = np.zeros(len(counts), np.int64)
    np.cumsum(counts[:-1], out=offsets[1:])
    idx: I64 = np.repeat(starts.astype(np.int64) - offsets, counts) + np.arange(total, dtype=np.int64)
    return idx


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlockWriter:
    """Writes a block group by group (bounded memory); `finish` makes it visible atomically."""

    def __init__(self, root: Path, block_id: str, n_columns: int, level: int = 3) -> None:
        self.root, self.id, self.level = root, block_id, level
        self.tmp = root / f".tmp-{block_id}"
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp.mkdir(parents=True)
        self._files = [open(self.tmp / f"data.{c}", "wb") for c in range(n_columns)]
        self._pos = [0] * n_columns
        self._offsets: list[list[int]] = [[0] for _ in range(n_columns)]
        self._page_series = [0]
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
        bounds = [0]
        acc = 0
        for i, c in enumerate(counts.tolist()):
            acc += c
            if acc >= PAGE_SAMPLES:
                bounds.append(i + 1)
                acc = 0
        if bounds[-1] != len(counts):
            bounds.append(len(counts))
        base = len(self._labels)
        for p in range(len(bounds) - 1):
            a, b = bounds[p], bounds[p + 1]
            lo, hi = int(starts[a]), int(starts[b])
            for col, out in enumerate(self._files):
                page = encode_page(counts[a:b], data.timestamps[lo:hi], data.values[col][lo:hi], self.level)
                out.write(page)
                self._pos[col] += len(page)
                self._offsets[col].append(self._pos[col])
            self._page_series.append(base + b)
        self._labels.extend(labels)
        self._counts.append(counts)
        self._first.append(data.timestamps[starts[:-1]])
        self._last.append(data.timestamps[starts[1:] - 1])

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
            page_series=np.array(self._page_series, np.int64),
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
            self.page_series: I64 = z["page_series"]
            self.page_offsets: I64 = z["page_offsets"]
        self.gids = gids
        self._order = np.argsort(gids, kind="stable")
        self._sorted_gids = gids[self._order]
        self.size_bytes = sum(p.stat().st_size for p in path.iterdir())

    def local(self, gids: I64) -> I64:
        """Local series indices (ascending) of the requested global ids present in this block."""
        if not len(self._sorted_gids) or not len(gids):
            return np.empty(0, np.int64)
        pos = np.searchsorted(self._sorted_gids, gids)
        pos[pos >= len(self._sorted_gids)] = 0
        hit = self._sorted_gids[pos] == gids
        local: I64 = np.sort(self._order[pos[hit]])
        return local

    def read(self, local: I64, column: int = 0) -> Columns:
        """Samples of the given local series (ascending), all columns' pages decoded as needed."""
        if not len(local):
            return Columns(np.empty(0, np.int32), np.empty(0, np.int64), [np.empty(0, np.float64)])
        pages = np.searchsorted(self.page_series, local, side="right") - 1
        counts_out: list[I32] = []
        ts_out: list[I64] = []
        val_out: list[F64] = []
        with open(self.path / "data", "rb") as f:
            for page in np.unique(pages).tolist():
                lo, hi = int(self.page_offsets[column, page]), int(self.page_offsets[column, page + 1])
                f.seek(lo)
                counts, ts, values = decode_page(f.read(hi - lo))
                first = int(self.page_series[page])
                want = local[pages == page] - first
                starts = np.zeros(len(counts), np.int64)
                np.cumsum(counts[:-1], out=starts[1:])
                idx = take_ranges(starts[want], counts[want])
                counts_out.append(counts[want])
                ts_out.append(ts[idx])
                val_out.append(values[idx])
        return Columns(np.concatenate(counts_out), np.concatenate(ts_out), [np.concatenate(val_out)])

    def read_all(self) -> list[Columns]:
        """Every series, every column (compaction, rewrites)."""
        everything = np.arange(len(self.counts), dtype=np.int64)
        return [self.read(everything, c) for c in range(len(self.meta.columns))]
