"""Downsampled tiers: per series and bucket (e.g. 5 m, 1 h) the min, max, sum, count, last value and the
counter-reset offset (last + offset = a counter that never drops), kept longer than raw samples.

A raw window is downsampled once it is closed (its end plus the out-of-order window is older than
the newest sample, and the head holds nothing of it) and compacted into one block. Tier blocks
cover `TIER_WINDOW_BUCKETS` buckets and are merged like raw blocks.

Queries read tiers as `tier_reads.py` plans.
"""

from __future__ import annotations

import json
import logging
import os
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import numpy as np
import numpy.typing as npt

from nightowl.metrics.model import is_stale
from nightowl.tsdb.block import Block, BlockMeta, BlockWriter

if TYPE_CHECKING:
    from nightowl.tsdb.db import TSDB

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
COLUMNS = ("min", "max", "sum", "count", "last", "reset_offset")
TIER_WINDOW_BUCKETS = 288


def downsample(sids: I64, timestamps: I64, values: F64, resolution_ms: int) -> tuple[I64, I64, list[F64]]:
    """Aggregate samples sorted by (sid, ts) into buckets; stamps are each bucket's last sample time."""
    live = ~is_stale(values)
    sids, timestamps, values = sids[live], timestamps[live], values[live]
    if not len(sids):
        return sids, timestamps, [np.empty(0, np.float64) for _ in COLUMNS]
    new_series = np.ones(len(sids), bool)
    new_series[1:] = sids[1:] != sids[:-1]
    # Counter resets (a drop) add the value before the drop, as rate() does, so the column only grows.
    lost = np.zeros(len(values))
    drop = ~new_series[1:] & (values[1:] < values[:-1])
    lost[1:][drop] = values[:-1][drop]
    cum = np.cumsum(lost)
    starts = np.flatnonzero(new_series)
    base = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
    base[0] = 0.0
    offset = cum - np.repeat(base, np.diff(np.append(starts, len(values))))
    bucket = timestamps // resolution_ms
    group = new_series.copy()
    group[1:] |= bucket[1:] != bucket[:-1]
    g_starts = np.flatnonzero(group)
    g_ends = np.append(g_starts[1:], len(values)) - 1
    columns = [
        np.minimum.reduceat(values, g_starts),
        np.maximum.reduceat(values, g_starts),
        np.add.reduceat(values, g_starts),
        (g_ends - g_starts + 1).astype(np.float64),
        values[g_ends],
        offset[g_ends],
    ]
    return sids[g_starts], timestamps[g_ends], columns


def _state_path(db: TSDB) -> str:
    return str(db.directory / "tiers.json")


def load_done(db: TSDB) -> set[int]:
    try:
        with open(_state_path(db)) as f:
            return set(json.load(f)["downsampled_windows"])
    except FileNotFoundError:
        return set()


def _save_done(db: TSDB, done: set[int]) -> None:
    tmp = _state_path(db) + ".tmp"
    with open(tmp, "w") as f:
        json.dump({"downsampled_windows": sorted(done)}, f)
    os.replace(tmp, _state_path(db))


_DOWNSAMPLED: WeakKeyDictionary[TSDB, frozenset[int]] = WeakKeyDictionary()


def downsampled_windows(db: TSDB) -> frozenset[int]:
    """Start times of the raw windows already in the tiers (read from disk once per open TSDB)."""
    found = _DOWNSAMPLED.get(db)
    if found is None:
        found = _DOWNSAMPLED[db] = frozenset(load_done(db))
    return found


def head_floor(db: TSDB) -> int:
    """The oldest sample time in the head and any head being flushed (int64 max when empty)."""
    with db.lock:
        parts, active = db.head.snapshot()
        chunks = [*(p.data for p in [*db.flushing, *parts]), active]
        return min((int(c.timestamps.min()) for c in chunks if len(c)), default=int(np.iinfo(np.int64).max))


def downsample_closed_windows(db: TSDB, newest: int) -> None:
    from nightowl.tsdb.maintenance import add_in_label_order, next_block_id, replace_blocks, sample_groups

    if not db.options.tiers_ms:
        return
    done = set(downsampled_windows(db))
    windows: dict[int, list[Block]] = {}
    for block in db.blocks:
        windows.setdefault(block.meta.window_start, []).append(block)
    changed = False
    in_head = head_floor(db)
    for start, blocks in sorted(windows.items()):
        # Samples of the window still in the head would be missing from its tiers: wait for the flush.
        closed = start + db.options.block_ms + db.options.out_of_order_window_ms <= newest
        closed = closed and start + db.options.block_ms <= in_head
        if start in done or len(blocks) != 1 or not closed:
            continue
        source = blocks[0]
        created: list[Block] = []
        for resolution in db.options.tiers_ms:
            span = resolution * TIER_WINDOW_BUCKETS
            tier_start = start // span * span
            block_id = next_block_id(db, tier_start, resolution)
            writer = BlockWriter(db.blocks_dir, block_id, len(COLUMNS), db.options.compression_level)
            gids_all: list[I64] = []
            lo, hi, samples = np.iinfo(np.int64).max, np.iinfo(np.int64).min, 0
            for group in sample_groups(source.counts.astype(np.int64)):
                local = np.arange(group.start, group.stop, dtype=np.int64)
                data = source.read(local)
                sids = np.repeat(source.gids[local], data.counts)
                order = np.argsort(sids, kind="stable")
                s, t, cols = downsample(sids[order], data.timestamps[order], data.values[0][order], resolution)
                if not len(s):
                    continue
                gids, a, b = add_in_label_order(db, writer, s, t, cols)
                gids_all.append(gids)
                lo, hi, samples = min(lo, a), max(hi, b), samples + len(s)
            if not gids_all:
                writer.abort()
                continue
            gids_cat = np.concatenate(gids_all)
            meta = BlockMeta(
                block_id, tier_start, tier_start + span, lo, hi, samples, len(gids_cat), resolution, COLUMNS
            )
            created.append(Block(writer.finish(meta), meta, gids_cat))
        replace_blocks(db, [], created)
        done.add(start)
        _DOWNSAMPLED[db] = frozenset(done)  # after the blocks are published: reads may now rely on them
        changed = True
    if changed:
        _save_done(db, done)


def compact_tiers(db: TSDB, newest: int, force: bool) -> None:
    from nightowl.tsdb.maintenance import merge_blocks, replace_blocks

    groups: dict[tuple[int, int], list[Block]] = {}
    for block in db.tier_blocks:
        groups.setdefault((block.meta.resolution_ms, block.meta.window_start), []).append(block)
    for blocks in groups.values():
        first = blocks[0].meta
        closed = first.window_end <= newest
        if len(blocks) < 2 or not (closed or force or len(blocks) >= 4):
            continue

        replace_blocks(db, blocks, [merge_blocks(db, blocks)])
