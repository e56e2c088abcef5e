"""Head flush, compaction and block rewrites: the slow work, done outside the append lock.

Flush: swap in an empty head, start a WAL segment, write the old head as one block per time window,
publish the blocks, drop the older WAL segments. Compaction merges the blocks of one window into one
(streaming a group of series at a time so memory stays bounded). Every new block names the blocks it
replaces (`parents`), so a crash between writing it and deleting them never double-counts.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from nightowl.core import allocator
from nightowl.metrics.model import Labels
from nightowl.tsdb.block import RAW_SLICE_MS, Block, BlockMeta, BlockWriter, Columns
from nightowl.tsdb.codec import take_ranges
from nightowl.tsdb.head import Head, Part, series_order

if TYPE_CHECKING:
    from nightowl.tsdb.db import TSDB

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
GROUP_SERIES = 1024
GROUP_SAMPLES = 131_072
"""Merges and downsampling hold one group of series at a time: at most this many samples (or one
series) and GROUP_SERIES series, ~10 MiB of arrays and copies; 1,024 series of a 2 h window at 15 s
(491 k samples) made a compaction add ~25 MiB to the server's peak RSS."""
OPEN_WINDOW_MAX_BLOCKS = 8
"""An open window with this many blocks is merged too, so selects never read dozens of small blocks."""


def next_block_id(db: TSDB, window_start: int, resolution_ms: int = 0) -> str:
    existing = [b.meta.id for b in [*db.blocks, *db.tier_blocks]]
    seq = max((int(i.rsplit("-", 1)[1]) for i in existing), default=0) + 1
    seq = max(seq, db.block_seq + 1)
    db.block_seq = seq
    prefix = f"t{resolution_ms}-" if resolution_ms else ""
    return f"{prefix}{window_start:015d}-{seq:08d}"


def label_order(db: TSDB, sids: I64) -> I64:
    labels = db.index.labels
    return np.array(sorted(sids.tolist(), key=labels.__getitem__), np.int64)


def runs(sids: I64) -> tuple[I64, I64, I64]:
    """(distinct ids, start, count) of the runs of a sorted id column."""
    if not len(sids):
        empty = np.empty(0, np.int64)
        return empty, empty, empty
    edges = np.flatnonzero(sids[1:] != sids[:-1]) + 1
    starts = np.concatenate([[0], edges]).astype(np.int64)
    counts = np.diff(np.append(starts, len(sids))).astype(np.int64)
    return sids[starts], starts, counts


def sample_groups(counts: I64, max_samples: int | None = None, max_series: int | None = None) -> list[slice]:
    """Consecutive ranges of series with at most `max_samples` samples (or one series) and `max_series` series."""
    max_samples = GROUP_SAMPLES if max_samples is None else max_samples
    max_series = GROUP_SERIES if max_series is None else max_series
    groups: list[slice] = []
    start, acc = 0, 0
    for i, count in enumerate(counts.tolist()):
        if i > start and (acc + count > max_samples or i - start >= max_series):
            groups.append(slice(start, i))
            start, acc = i, 0
        acc += count
    if start < len(counts):
        groups.append(slice(start, len(counts)))
    return groups


def add_in_label_order(
    db: TSDB, writer: BlockWriter, sids: I64, timestamps: I64, columns: list[F64]
) -> tuple[I64, int, int]:
    """Add samples sorted by (sid, ts) to `writer` with series in label order; returns (gids, min_ts, max_ts)."""
    uniq, starts, counts = runs(sids)
    ordered = label_order(db, uniq)
    pos = np.searchsorted(uniq, ordered)
    idx = take_ranges(starts[pos], counts[pos])
    labels: list[Labels] = [db.index.labels[s] for s in ordered.tolist()]
    writer.add(labels, Columns(counts[pos].astype(np.int32), timestamps[idx], [c[idx] for c in columns]))
    return ordered, int(timestamps.min()), int(timestamps.max())


def _publish(db: TSDB, writer: BlockWriter, meta: BlockMeta, gids: I64) -> Block:
    path = writer.finish(meta)
    return Block(path, meta, gids)


def write_part_blocks(db: TSDB, parts: list[Part]) -> list[Block]:
    """One raw block per time window for the head's parts, a group of series at a time."""
    if not parts:
        return []
    window = db.options.block_ms
    everyone = label_order(db, np.unique(np.concatenate([p.series for p in parts])))
    open_blocks: dict[int, tuple[BlockWriter, list[I64], list[int]]] = {}
    try:
        for g in range(0, len(everyone), GROUP_SERIES):
            want = np.sort(everyone[g : g + GROUP_SERIES])
            runs = [p.runs(want) for p in parts]
            s = np.concatenate([np.repeat(r.sids, r.counts) for r in runs])
            t = np.concatenate([r.timestamps for r in runs])
            v = np.concatenate([r.values for r in runs])
            order, keep = series_order(s, t)
            if keep is not None:
                order = order[keep]
            s, t, v = s[order], t[order], v[order]
            keys = t // window
            for w in np.unique(keys).tolist():
                if w not in open_blocks:
                    block_id = next_block_id(db, w * window)
                    writer = BlockWriter(db.blocks_dir, block_id, 1, db.options.compression_level, RAW_SLICE_MS)
                    open_blocks[w] = (writer, [], [np.iinfo(np.int64).max, np.iinfo(np.int64).min, 0])
                writer, gids, stats = open_blocks[w]
                inside = keys == w
                got, lo, hi = add_in_label_order(db, writer, s[inside], t[inside], [v[inside]])
                gids.append(got)
                stats[0], stats[1], stats[2] = min(stats[0], lo), max(stats[1], hi), stats[2] + int(inside.sum())
    except BaseException:
        for writer, _, _ in open_blocks.values():
            writer.abort()
        raise
    blocks = []
    for w, (writer, gids, (lo, hi, samples)) in sorted(open_blocks.items()):
        all_gids = np.concatenate(gids)
        meta = BlockMeta(writer.id, w * window, (w + 1) * window, lo, hi, samples, len(all_gids))
        blocks.append(_publish(db, writer, meta, all_gids))
    return blocks


def flush_head(db: TSDB) -> None:
    """Write the head out as blocks; the WAL keeps only what arrived meanwhile."""
    with db.maintenance_lock:
        with db.lock:
            db.head.freeze()
            if not db.head.parts:
                return
            db.flushing = list(db.head.parts)
            db.head = Head(db.options.freeze_samples)
            segment = db.start_wal_segment()
        blocks = write_part_blocks(db, db.flushing)
        with db.lock:
            db.blocks = sorted([*db.blocks, *blocks], key=_key)
            db.flushing = []
            db.wal.drop_segments_before(segment)
        db.metrics.head_flushes.inc()
        log.debug("flushed the head into %d blocks", len(blocks))


def merge_blocks(db: TSDB, sources: list[Block]) -> Block:
    """Merge blocks of one window (same columns) into one, a group of series at a time."""
    n_columns = len(sources[0].meta.columns)
    resolution = sources[0].meta.resolution_ms
    block_id = next_block_id(db, sources[0].meta.window_start, resolution)
    slice_ms = 0 if resolution else RAW_SLICE_MS
    writer = BlockWriter(db.blocks_dir, block_id, n_columns, db.options.compression_level, slice_ms)
    everyone = label_order(db, np.unique(np.concatenate([b.gids for b in sources])))
    per_series = np.zeros(int(everyone.max(initial=-1)) + 1, np.int64)
    for block in sources:
        np.add.at(per_series, block.gids, block.counts)
    all_gids: list[I64] = []
    lo, hi, samples = np.iinfo(np.int64).max, np.iinfo(np.int64).min, 0
    try:
        for group in sample_groups(per_series[everyone]):
            want = np.sort(everyone[group])
            sids: list[I64] = []
            stamps: list[I64] = []
            cols: list[list[F64]] = [[] for _ in range(n_columns)]
            for block in sources:
                local = block.local(want)
                if not len(local):
                    continue
                for c in range(n_columns):
                    data = block.read(local, c)
                    cols[c].append(data.values[0])
                    if c == 0:
                        sids.append(np.repeat(block.gids[local], data.counts))
                        stamps.append(data.timestamps)
            s, t = np.concatenate(sids), np.concatenate(stamps)
            order, keep = series_order(s, t)
            if keep is not None:
                order = order[keep]
            gids, a, b = add_in_label_order(db, writer, s[order], t[order], [np.concatenate(c)[order] for c in cols])
            all_gids.append(gids)
            lo, hi, samples = min(lo, a), max(hi, b), samples + len(order)
    except BaseException:
        writer.abort()
        raise
    gids_all = np.concatenate(all_gids) if all_gids else np.empty(0, np.int64)
    first = sources[0].meta
    meta = BlockMeta(
        block_id, first.window_start, first.window_end, lo, hi, samples, len(gids_all),
        first.resolution_ms, first.columns, tuple(b.meta.id for b in sources),
    )  # fmt: skip
    return _publish(db, writer, meta, gids_all)


def replace_blocks(db: TSDB, old: list[Block], new: list[Block]) -> None:
    """Publish `new` in place of `old`, then delete the old directories."""
    gone = {b.meta.id for b in old}
    with db.lock:
        db.blocks = sorted([b for b in [*db.blocks, *new] if b.meta.id not in gone and not b.meta.is_tier], key=_key)
        db.tier_blocks = sorted(
            [b for b in [*db.tier_blocks, *new] if b.meta.id not in gone and b.meta.is_tier], key=_key
        )
    for block in old:
        shutil.rmtree(block.path, ignore_errors=True)


def _key(block: Block) -> tuple[int, str]:
    return block.meta.window_start, block.meta.id


def flush_and_compact(db: TSDB) -> None:
    """What a full head triggers in the background: write it out, then merge what needs merging."""
    flush_head(db)
    compact(db)
    allocator.release()  # the old head and the merge buffers were freed in this thread's heap


def compact(db: TSDB, force: bool = False) -> int:
    """Merge each window's blocks into one: closed windows, open ones with many blocks, all when `force`."""
    from nightowl.tsdb.tiers import compact_tiers, downsample_closed_windows

    merged = 0
    with db.maintenance_lock:
        newest = db.newest_ts()
        windows: dict[int, list[Block]] = {}
        for block in db.blocks:
            windows.setdefault(block.meta.window_start, []).append(block)
        for start, blocks in sorted(windows.items()):
            closed = start + db.options.block_ms + db.options.out_of_order_window_ms <= newest
            if len(blocks) < 2 or not (closed or force or len(blocks) >= OPEN_WINDOW_MAX_BLOCKS):
                continue
            block = merge_blocks(db, blocks)
            replace_blocks(db, blocks, [block])
            db.metrics.compactions.inc()
            merged += 1
        downsample_closed_windows(db, newest)
        compact_tiers(db, newest, force)
    return merged


def rewrite_block(db: TSDB, block: Block, keep: Callable[[I64, I64], npt.NDArray[np.bool_]]) -> Block | None:
    """A copy of `block` with only the samples for which keep(gids, timestamps) holds; None if nothing is left."""
    columns = block.read_all()
    sids = np.repeat(block.gids, block.counts)
    mask = keep(sids, columns[0].timestamps)
    if mask.all():
        return block
    if not mask.any():
        return None
    s, t = sids[mask], columns[0].timestamps[mask]
    order = np.argsort(s, kind="stable")
    meta = block.meta
    block_id = next_block_id(db, meta.window_start, meta.resolution_ms)
    slice_ms = 0 if meta.is_tier else RAW_SLICE_MS
    writer = BlockWriter(db.blocks_dir, block_id, len(meta.columns), db.options.compression_level, slice_ms)
    gids, lo, hi = add_in_label_order(db, writer, s[order], t[order], [c.values[0][mask][order] for c in columns])
    new_meta = BlockMeta(
        block_id,
        meta.window_start,
        meta.window_end,
        lo,
        hi,
        int(mask.sum()),
        len(gids),
        meta.resolution_ms,
        meta.columns,
        (meta.id,),
    )
    return _publish(db, writer, new_meta, gids)


def rewrite_blocks_without(db: TSDB, sids: I64, start_ms: int, end_ms: int) -> None:
    """Remove the samples of `sids` in [start_ms, end_ms] from every block holding some (deletion)."""
    for block in [*db.blocks, *db.tier_blocks]:
        if block.meta.max_ts < start_ms or block.meta.min_ts > end_ms or not len(block.local(sids)):
            continue

        def keep(gids: I64, ts: I64) -> npt.NDArray[np.bool_]:
            return ~(np.isin(gids, sids) & (ts >= start_ms) & (ts <= end_ms))

        replacement = rewrite_block(db, block, keep)
        replace_blocks(db, [block], [replacement] if replacement is not None else [])
