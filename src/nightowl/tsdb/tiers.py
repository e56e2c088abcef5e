"""Downsampled tiers: per series and bucket (e.g. 5 m, 1 h) the min, max, sum, count, last value and the
counter-reset offset (last + offset = a counter that never drops), kept longer than raw samples.

A raw window is downsampled once it is closed (its end plus the out-of-order window is older than
the newest sample) and compacted into one block. Tier blocks cover `TIER_WINDOW_BUCKETS` buckets
and are merged like raw blocks. Reads use a tier only where raw samples are gone (see `tier_chunks`).
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from nightowl.metrics.api import SelectHints
from nightowl.metrics.model import is_stale
from nightowl.tsdb.block import Block, BlockMeta, BlockWriter
from nightowl.tsdb.gather import Runs

if TYPE_CHECKING:
    from nightowl.tsdb.db import TSDB

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
COLUMNS = ("min", "max", "sum", "count", "last", "reset_offset")
TIER_WINDOW_BUCKETS = 288

FUNC_COLUMN = {
    "min_over_time": "min",
    "max_over_time": "max",
    "sum_over_time": "sum",
    "count_over_time": "count",
    "avg_over_time": "avg",
    "rate": "counter",
    "increase": "counter",
    "irate": "counter",
}
"""Which aggregate a tier returns for a range function; anything else gets `last`."""


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
    with open(_state_path(db), "w") as f:
        json.dump({"downsampled_windows": sorted(done)}, f)


def downsample_closed_windows(db: TSDB, newest: int) -> None:
    from nightowl.tsdb.maintenance import add_in_label_order, next_block_id, replace_blocks, sample_groups

    if not db.options.tiers_ms:
        return
    done = load_done(db)
    windows: dict[int, list[Block]] = {}
    for block in db.blocks:
        windows.setdefault(block.meta.window_start, []).append(block)
    changed = False
    for start, blocks in sorted(windows.items()):
        closed = start + db.options.block_ms + db.options.out_of_order_window_ms <= newest
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


def pick_resolution(tiers: list[int], hints: SelectHints | None) -> int:
    """The coarsest tier no coarser than the query's step or range window, else the finest one."""
    want = max(hints.step_ms, hints.range_ms) if hints else 0
    fitting = [r for r in tiers if r <= want]
    return max(fitting) if fitting else min(tiers)


def tier_runs(db: TSDB, sids: I64, start_ms: int, end_ms: int, hints: SelectHints | None) -> list[Runs]:
    """Tier samples of `sids` in the window, as the aggregate the query's function needs."""
    resolutions = sorted({b.meta.resolution_ms for b in db.tier_blocks})
    if not resolutions:
        return []
    resolution = pick_resolution(resolutions, hints)
    column = FUNC_COLUMN.get(hints.func if hints else "", "last")
    found: list[Runs] = []
    for block in db.tier_blocks:
        meta = block.meta
        if meta.resolution_ms != resolution or meta.max_ts < start_ms or meta.min_ts > end_ms:
            continue
        local = block.local(sids)
        if not len(local):
            continue
        window = (start_ms, end_ms)
        if column == "avg":
            data = block.read(local, COLUMNS.index("sum"), *window)
            values = data.values[0] / block.read(local, COLUMNS.index("count"), *window).values[0]
        elif column == "counter":
            data = block.read(local, COLUMNS.index("last"), *window)
            values = data.values[0] + block.read(local, COLUMNS.index("reset_offset"), *window).values[0]
        else:
            data = block.read(local, COLUMNS.index(column), *window)
            values = data.values[0]
        found.append(Runs(block.gids[local], data.counts.astype(np.int64), data.timestamps, values).without_empty())
    return found
