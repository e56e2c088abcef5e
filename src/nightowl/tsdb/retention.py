"""Retention: raw blocks by age (per-metric overrides by matcher), tier blocks by age, everything by size.

Age is measured from the clock: a block goes once its newest sample is older than the retention.
A block holding series with different retentions is rewritten keeping only the series still due.
By size, the oldest raw blocks go first, then the oldest tier blocks.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from nightowl.tsdb.block import Block
from nightowl.tsdb.maintenance import replace_blocks, rewrite_block

if TYPE_CHECKING:
    from nightowl.tsdb.db import TSDB

log = logging.getLogger(__name__)

I64 = npt.NDArray[np.int64]


def series_retention(db: TSDB, gids: I64, tiers: bool) -> I64:
    """Retention in ms of each series: the first matching override, else the default."""
    default = db.options.retention_tiers_ms if tiers else db.options.retention_raw_ms
    result = np.full(len(gids), default, np.int64)
    overrides = [o for o in db.options.overrides if (o.tiers_ms if tiers else o.raw_ms) is not None]
    if not overrides:
        return result
    for i, gid in enumerate(gids.tolist()):
        labels = db.index.labels[gid]
        for override in overrides:
            if override.matches(labels):
                chosen = override.tiers_ms if tiers else override.raw_ms
                result[i] = chosen if chosen is not None else default
                break
    return result


def _apply_age(db: TSDB, blocks: list[Block], now_ms: int, tiers: bool) -> int:
    changed = 0
    default = db.options.retention_tiers_ms if tiers else db.options.retention_raw_ms
    shortest = min([default, *[(o.tiers_ms or default) if tiers else o.raw_ms for o in db.options.overrides]])
    for block in blocks:
        age = now_ms - block.meta.max_ts
        if age <= shortest:
            continue
        keep_series = series_retention(db, block.gids, tiers) >= age
        if keep_series.all():
            continue
        if not keep_series.any():
            replace_blocks(db, [block], [])
        else:
            kept = block.gids[keep_series]

            def keep(gids: I64, ts: I64, kept: I64 = kept) -> npt.NDArray[np.bool_]:
                return np.isin(gids, kept)

            replacement = rewrite_block(db, block, keep)
            replace_blocks(db, [block], [replacement] if replacement is not None else [])
        changed += 1
    return changed


def _apply_size(db: TSDB) -> int:
    limit = db.options.retention_size_bytes
    if not limit:
        return 0
    dropped = 0
    for pool in (db.blocks, db.tier_blocks):
        for block in sorted(pool, key=lambda b: b.meta.max_ts):
            total = sum(b.size_bytes for b in [*db.blocks, *db.tier_blocks]) + db.wal.size_bytes()
            if total <= limit:
                return dropped
            replace_blocks(db, [block], [])
            dropped += 1
    return dropped


def apply_retention(db: TSDB) -> int:
    """Drop or trim blocks past retention; returns how many blocks were deleted or rewritten."""
    with db.maintenance_lock:
        now_ms = int(db.clock.now() * 1000)
        changed = _apply_age(db, list(db.blocks), now_ms, tiers=False)
        changed += _apply_age(db, list(db.tier_blocks), now_ms, tiers=True)
        changed += _apply_size(db)
        if changed:
            with db.lock:
                db.refresh_time_bounds()
            log.info("retention: %d blocks deleted or trimmed", changed)
            db.metrics.retention_dropped.inc(changed)
        db.metrics.retention_runs.inc()
    return changed
