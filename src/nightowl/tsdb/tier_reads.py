"""How a select reads downsampled tiers: the plan (which part of the window reads raw samples, which
a tier, and which aggregate) and the reading.

A select whose step and range windows only need a tier's buckets reads that tier wherever the tier
covers the window, even where raw samples still exist, as Thanos' auto-downsampling does; raw samples
around it are bucketed alike. Anything else reads raw samples, with tiers filling in only where raw
data is gone (retention). `at_most_resolution` caps the tier per query (`max_source_resolution`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

from nightowl.metrics.api import SelectHints
from nightowl.tsdb.block import Block
from nightowl.tsdb.gather import Runs, assemble, under_raw
from nightowl.tsdb.tiers import COLUMNS, downsample, downsampled_windows, head_floor

if TYPE_CHECKING:
    from nightowl.tsdb.db import TSDB

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

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

PREFERRED_COLUMN = {
    "": "last",
    "last_over_time": "last",
    "min_over_time": "min",
    "max_over_time": "max",
    "sum_over_time": "sum",
    "avg_over_time": "avg",
    "rate": "counter",
    "increase": "counter",
}
"""Functions (and plain selectors: "") a tier answers within tolerance, so it is read even where raw
samples exist. Not here: functions of individual samples (count_over_time counts points, irate,
changes, resets, quantiles, stddev...): PromQL would apply them to one point per bucket."""

MIN_BUCKETS_PER_WINDOW = {"counter": 12, "min": 4, "max": 4, "sum": 4, "avg": 4, "last": 4}
"""How many whole buckets a range window read from a tier holds at least, by column. Aligned
min/max/sum/avg windows are exact whatever the count; rate() extrapolates each window's first bucket
from the others, so counters need more: `rate(x[5m])` never reads 5 m buckets, `rate(x[1h])` reads them."""

P = ParamSpec("P")
R = TypeVar("R")
_MAX_SOURCE_RESOLUTION: ContextVar[int | None] = ContextVar("max_source_resolution", default=None)


def pick_resolution(tiers: list[int], hints: SelectHints | None) -> int:
    """Where raw data is gone: the coarsest tier no coarser than the step or range window, else the finest."""
    want = max(hints.step_ms, hints.range_ms) if hints else 0
    fitting = [r for r in tiers if r <= want]
    return max(fitting) if fitting else min(tiers)


def preferred_resolution(tiers: list[int], hints: SelectHints | None, end_ms: int, cap_ms: int | None) -> int:
    """The coarsest tier that answers this select within tolerance, or 0: read raw samples.

    Only range queries (instant ones, e.g. alerting rules, read raw samples, as Thanos' instant queries
    do by default). The tier must be no coarser than `cap_ms`; the step a multiple of its resolution;
    each range window at least `MIN_BUCKETS_PER_WINDOW` whole buckets; and the evaluation times
    (`end_ms` and every step before it) on bucket boundaries, so that every window covers whole
    buckets and nothing outside them.
    """
    if hints is None or not hints.step_ms or hints.func not in PREFERRED_COLUMN:
        return 0
    for resolution in sorted(tiers, reverse=True):
        if cap_ms is not None and resolution > cap_ms:
            continue
        if hints.step_ms % resolution or end_ms % resolution:
            continue
        column = PREFERRED_COLUMN[hints.func]
        # rate() takes a counter's first and last row in the window, so a window that starts inside a
        # bucket (Grafana's $__rate_interval: step + scrape interval) is as good as an aligned one.
        partial = hints.range_ms % resolution and column != "counter"
        if hints.range_ms and (partial or hints.range_ms < MIN_BUCKETS_PER_WINDOW[column] * resolution):
            continue
        return resolution
    return 0


def at_most_resolution(max_resolution_ms: int | None, fn: Callable[P, R]) -> Callable[P, R]:
    """`fn` with its selects reading tiers no coarser than `max_resolution_ms` (0: raw samples only,
    None: automatic), like Thanos' `max_source_resolution`; a per-query setting, so a context variable
    (the PromQL engine in between stays unaware of it)."""

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _MAX_SOURCE_RESOLUTION.set(max_resolution_ms)
        try:
            return fn(*args, **kwargs)
        finally:
            _MAX_SOURCE_RESOLUTION.reset(token)

    return run


@dataclass(frozen=True)
class ReadPlan:
    """Which part of a select's window reads raw samples and which reads a tier (windows inclusive).

    `tier`: read from the tier alone (raw samples there are not read); `fill`: the tier fills in only
    before each series' first raw sample (where retention dropped raw data).
    """

    raw: tuple[tuple[int, int], ...]
    tier: tuple[int, int] | None = None
    fill: tuple[int, int] | None = None
    resolution_ms: int = 0
    column: str = "last"
    blocks: tuple[Block, ...] = ()
    block_ms: int = 0


def plan_read(db: TSDB, start_ms: int, end_ms: int, hints: SelectHints | None) -> ReadPlan:
    """Decide how a select reads; call it holding `db.lock` (the plan snapshots the tier blocks)."""
    tier_blocks = db.tier_blocks
    if not tier_blocks:
        return ReadPlan(((start_ms, end_ms),))
    resolutions = sorted({b.meta.resolution_ms for b in tier_blocks})
    cap = _MAX_SOURCE_RESOLUTION.get()
    resolution = preferred_resolution(resolutions, hints, end_ms, cap) if db.options.auto_downsampling else 0
    if resolution:
        plan = _tier_plan(db, start_ms, end_ms, resolution, PREFERRED_COLUMN[hints.func if hints else ""])
        if plan is not None:
            return plan
    fill_end = end_ms if db.options.overrides else min(end_ms, db._raw_floor() - 1)
    if start_ms > fill_end:
        return ReadPlan(((start_ms, end_ms),))
    resolution = pick_resolution(resolutions, hints)
    column = FUNC_COLUMN.get(hints.func if hints else "", "last")
    blocks = _overlapping(tier_blocks, resolution, start_ms, fill_end)
    return ReadPlan(((start_ms, end_ms),), None, (start_ms, fill_end), resolution, column, blocks, db.options.block_ms)


def _overlapping(blocks: list[Block], resolution: int, start_ms: int, end_ms: int) -> tuple[Block, ...]:
    return tuple(
        b
        for b in blocks
        if b.meta.resolution_ms == resolution and b.meta.max_ts >= start_ms and b.meta.min_ts <= end_ms
    )


def _tier_plan(db: TSDB, start_ms: int, end_ms: int, resolution: int, column: str) -> ReadPlan | None:
    """Tier from its oldest bucket up to the first raw window not downsampled yet; raw around it."""
    block_ms = db.options.block_ms
    of_tier = [b for b in db.tier_blocks if b.meta.resolution_ms == resolution]
    covered_from = min(b.meta.min_ts for b in of_tier) // block_ms * block_ms
    done = downsampled_windows(db)
    pending = [
        b.meta.window_start
        for b in db.blocks
        if b.meta.window_start >= covered_from and b.meta.window_start not in done
    ]
    pending.append(head_floor(db) // block_ms * block_ms)
    lo, hi = max(start_ms, covered_from), min(end_ms, min(pending) - 1)
    if lo > hi:
        return None
    raw: tuple[tuple[int, int], ...] = ((start_ms, lo - 1),) if start_ms < lo else ()
    raw += ((hi + 1, end_ms),) if hi < end_ms else ()
    return ReadPlan(raw, (lo, hi), None, resolution, column, _overlapping(of_tier, resolution, lo, hi), block_ms)


Rows = dict[int, tuple[I64, I64, list[F64]]]
"""Per series id: bucket stamps, counter segments (rows whose reset offsets add up) and one array per
column read."""

_LEAD, _TAIL = np.iinfo(np.int64).min, np.iinfo(np.int64).max


def read_planned(db: TSDB, plan: ReadPlan, sids: I64) -> dict[int, tuple[I64, F64]]:
    """Per series id, its samples in time order as the plan says to read them."""
    raw = [assemble(db._sources(sids, lo, hi)) for lo, hi in plan.raw]
    if plan.fill is not None:
        return under_raw(raw[0], _values(tier_rows(plan, sids, *plan.fill), plan.column, anchor_end=True))
    if plan.tier is None:
        return raw[0]
    # Raw samples around the tier are bucketed here alike, so PromQL sees one evenly spaced series:
    # rate() extrapolates by the average spacing, avg_over_time() weighs every bucket the same.
    names = _column_names(plan.column)
    pieces: list[Rows] = []
    for (lo, _), found in zip(plan.raw, raw, strict=True):
        if lo < plan.tier[0]:
            pieces.append(_bucketed(found, plan.resolution_ms, names, _LEAD))
    pieces.append(tier_rows(plan, sids, *plan.tier))
    for (lo, _), found in zip(plan.raw, raw, strict=True):
        if lo > plan.tier[1]:
            pieces.append(_bucketed(found, plan.resolution_ms, names, _TAIL))
    return _values(_chain(pieces), plan.column)


def _column_names(column: str) -> tuple[str, ...]:
    return {"avg": ("sum", "count"), "counter": ("last", "reset_offset", "min")}.get(column, (column,))


def tier_rows(plan: ReadPlan, sids: I64, start_ms: int, end_ms: int) -> Rows:
    """Tier rows of `sids` in the window, per series, with the columns the plan's aggregate needs."""
    names = _column_names(plan.column)
    runs: list[list[Runs]] = [[] for _ in names]
    for block in plan.blocks:
        local = block.local(sids)
        if not len(local):
            continue
        for found, name in zip(runs, names, strict=True):
            data = block.read(local, block.meta.columns.index(name), start_ms, end_ms)
            found.append(Runs(block.gids[local], data.counts.astype(np.int64), data.timestamps, data.values[0]))
    first, *others = [assemble([r.without_empty() for r in found]) for found in runs]
    return {
        sid: (ts, ts // plan.block_ms, [values, *(other[sid][1] for other in others)])
        for sid, (ts, values) in first.items()
    }


def _bucketed(found: dict[int, tuple[I64, F64]], resolution_ms: int, names: tuple[str, ...], segment: int) -> Rows:
    """Raw samples downsampled on the fly into the tier's buckets (one counter segment)."""
    if not found:
        return {}
    order = sorted(found)
    counts = [len(found[sid][0]) for sid in order]
    sids = np.repeat(np.array(order, np.int64), counts)
    ts = np.concatenate([found[sid][0] for sid in order])
    values = np.concatenate([found[sid][1] for sid in order])
    row_sids, stamps, columns = downsample(sids, ts, values, resolution_ms)
    picked = [columns[COLUMNS.index(name)] for name in names]
    starts = np.flatnonzero(np.append(True, row_sids[1:] != row_sids[:-1]))
    ends = np.append(starts[1:], len(row_sids))
    return {
        int(row_sids[a]): (stamps[a:b], np.full(b - a, segment, np.int64), [c[a:b] for c in picked])
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True)
    }


def _chain(pieces: list[Rows]) -> Rows:
    """Per series, the rows of successive, disjoint windows one after the other."""
    pieces = [p for p in pieces if p]
    if len(pieces) == 1:
        return pieces[0]
    merged: Rows = {}
    for piece in pieces:
        for sid, (ts, segments, columns) in piece.items():
            have = merged.get(sid)
            if have is not None:
                ts, segments = np.concatenate([have[0], ts]), np.concatenate([have[1], segments])
                columns = [np.concatenate([a, b]) for a, b in zip(have[2], columns, strict=True)]
            merged[sid] = (ts, segments, columns)
    return merged


def _values(rows: Rows, column: str, anchor_end: bool = False) -> dict[int, tuple[I64, F64]]:
    """One value per row: the column read, a bucket's mean, or a counter continuous across segments."""
    if column == "avg":
        return {sid: (ts, cols[0] / cols[1]) for sid, (ts, _, cols) in rows.items()}
    if column == "counter":
        return {
            sid: (ts, continuous_counter(seg, cols[0], cols[1], cols[2], anchor_end))
            for sid, (ts, seg, cols) in rows.items()
        }
    return {sid: (ts, cols[0]) for sid, (ts, _, cols) in rows.items()}


def continuous_counter(segments: I64, last: F64, offset: F64, low: F64, anchor_end: bool = False) -> F64:
    """One series' counter rows as a counter that never drops, for rate() and increase().

    `reset_offset` is summed one segment at a time (a raw window when downsampled, a raw piece
    bucketed at read time), so it restarts at 0 in each: the loss inside a row is its offset minus the
    previous row's of the same segment. A reset between two segments is in no offset: a segment's
    first row that lost nothing inside but whose smallest sample (`low`) is below the previous row's
    last value had one, and loses that value (what PromQL adds at a drop). No drop is left: PromQL's
    reset handling assumes a counter that restarted from 0, which a shifted value is not.

    The running total of the losses is added to each row, so values are never below the true ones
    (PromQL's extrapolation stops where a counter would reach 0); with `anchor_end` it is counted back
    from the last row instead, which keeps its true value, so raw samples after it follow on.
    """
    if not len(segments):
        return last
    lost = offset.copy()
    same = segments[1:] == segments[:-1]
    lost[1:][same] = offset[1:][same] - offset[:-1][same]
    edges = np.flatnonzero(~same) + 1
    missed = edges[(offset[edges] == 0) & (low[edges] < last[edges - 1])]
    lost[missed] += last[missed - 1]
    total = np.cumsum(lost)
    adjusted: F64 = last + (total - total[-1] if anchor_end else total)
    return adjusted
