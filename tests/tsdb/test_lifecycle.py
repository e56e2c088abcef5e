"""Blocks, compaction, retention by time/size/override, and downsampled tiers, driven by a manual clock."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nightowl.core.clock import ManualClock
from nightowl.metrics.api import SelectHints
from nightowl.metrics.model import Matcher, SampleBatch
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.maintenance import compact
from nightowl.tsdb.options import DAY_MS, HOUR_MS, MINUTE_MS, RetentionOverride, parse_selector
from nightowl.tsdb.retention import apply_retention
from nightowl.tsdb.tier_reads import at_most_resolution
from nightowl.tsdb.tiers import downsample
from tests.tsdb.conftest import T0, lbl

WINDOW_START = (T0 // (2 * HOUR_MS) + 1) * (2 * HOUR_MS)


def fill(db: TSDB, names: list[str], start: int, hours: float, step_ms: int = 60_000, flush_every: int = 0) -> None:
    """One sample per minute per series, value = minutes since `start`."""
    steps = int(hours * HOUR_MS / step_ms)
    for i in range(steps):
        rows = [(lbl(n), start + i * step_ms, float(i)) for n in names]
        db.append(SampleBatch.from_rows(rows))
        if flush_every and i % flush_every == flush_every - 1:
            db.flush()


def test_head_flushes_into_one_compacted_block_per_window(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb(head_max_samples=10**9)
    fill(db, ["a", "b"], WINDOW_START, 4, flush_every=30)
    assert {b.meta.window_start for b in db.blocks} == {WINDOW_START, WINDOW_START + 2 * HOUR_MS}
    assert len(db.blocks) == 2
    assert db.wal.size_bytes() < 1000
    [a, _] = db.select([], WINDOW_START, WINDOW_START + 4 * HOUR_MS)
    assert a.values.tolist() == [float(i) for i in range(240)]


def test_closed_windows_are_compacted_and_downsampled(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb(head_max_samples=10**9)
    fill(db, ["c"], WINDOW_START, 2.5)
    db.flush()
    fill(db, ["c"], WINDOW_START + 150 * MINUTE_MS, 0.1)
    from nightowl.tsdb.maintenance import flush_head

    flush_head(db)
    compact(db)
    tiers = {(b.meta.resolution_ms, b.meta.columns) for b in db.tier_blocks}
    assert {r for r, _ in tiers} == {5 * MINUTE_MS, HOUR_MS}


def test_downsample_aggregates_and_adjusts_counter_resets() -> None:
    sids = np.zeros(6, np.int64)
    ts = np.array([0, 60, 120, 180, 240, 300], np.int64) * 1000
    values = np.array([5.0, 7.0, 2.0, 4.0, 9.0, 1.0])
    s, t, cols = downsample(sids, ts, values, 5 * MINUTE_MS)
    lo, hi, total, count, last, offset = (c.tolist() for c in cols)
    assert t.tolist() == [240_000, 300_000]
    assert (lo, hi, total, count, last) == ([2.0, 1.0], [9.0, 1.0], [27.0, 1.0], [5.0, 1.0], [9.0, 1.0])
    assert [a + b for a, b in zip(last, offset, strict=True)] == [16.0, 17.0]


def test_retention_drops_raw_and_tiers_serve_what_raw_lost(open_tsdb: Callable[..., TSDB], clock: ManualClock) -> None:
    clock.set(WINDOW_START / 1000)
    db = open_tsdb(retention_raw_ms=DAY_MS, retention_tiers_ms=10 * DAY_MS, head_max_samples=10**9)
    fill(db, ["m"], WINDOW_START, 2)
    clock.advance(2 * DAY_MS / 1000)
    fill(db, ["m"], WINDOW_START + 2 * DAY_MS, 2)
    db.flush()
    before = db.select([Matcher("__name__", "=", "m")], WINDOW_START, WINDOW_START + 3 * DAY_MS)
    assert len(before[0].timestamps) == 240  # raw wins where it exists
    assert apply_retention(db) == 1
    [after] = at_most_resolution(0, db.select)(  # raw where it exists: tiers only fill in what raw lost
        [Matcher("__name__", "=", "m")], WINDOW_START, WINDOW_START + 3 * DAY_MS, SelectHints(3_600_000, 0, "")
    )
    old = after.timestamps < WINDOW_START + DAY_MS
    assert after.timestamps[old].tolist() == [WINDOW_START + 59 * MINUTE_MS, WINDOW_START + 119 * MINUTE_MS]
    assert after.values[old].tolist() == [59.0, 119.0]
    assert int((~old).sum()) == 120
    [maxes] = db.select(
        [Matcher("__name__", "=", "m")], WINDOW_START, WINDOW_START + HOUR_MS, SelectHints(0, 300_000, "max_over_time")
    )
    assert maxes.values.tolist()[:2] == [4.0, 9.0]


def test_per_metric_override_and_size_cap(open_tsdb: Callable[..., TSDB], clock: ManualClock) -> None:
    clock.set(WINDOW_START / 1000)
    override = RetentionOverride(parse_selector('{__name__=~"debug_.*"}'), raw_ms=HOUR_MS)
    db = open_tsdb(overrides=(override,), tiers_ms=(), head_max_samples=10**9)
    fill(db, ["debug_x", "keep"], WINDOW_START, 2)
    db.flush()
    clock.advance(4 * HOUR_MS / 1000)
    apply_retention(db)
    assert [dict(s.labels)["__name__"] for s in db.select([], 0, 2**62)] == ["keep"]
    assert db.label_values("__name__", [], 0, 2**62) == ["keep"]
    sized = open_tsdb(tiers_ms=(), head_max_samples=10**9, retention_size_bytes=1)
    sized.close()


def test_size_cap_drops_oldest_blocks_first(tmp_path, clock: ManualClock) -> None:
    from nightowl.tsdb.options import TSDBOptions

    clock.set(WINDOW_START / 1000)
    db = TSDB(tmp_path / "s", TSDBOptions(tiers_ms=(), head_max_samples=10**9), clock)
    fill(db, ["a"], WINDOW_START, 6)
    db.flush()
    sizes = sorted(b.size_bytes for b in db.blocks)
    db.close()
    capped = TSDB(tmp_path / "s", TSDBOptions(tiers_ms=(), retention_size_bytes=sum(sizes[1:]) + 200), clock)
    apply_retention(capped)
    assert len(capped.blocks) == 2
    assert capped.select([], 0, 2**62)[0].timestamps[0] == WINDOW_START + 2 * HOUR_MS
    capped.close()


def test_an_override_can_keep_a_metric_longer_than_the_default(
    open_tsdb: Callable[..., TSDB], clock: ManualClock
) -> None:
    clock.set(WINDOW_START / 1000)
    override = RetentionOverride(parse_selector("billing_total"), raw_ms=400 * DAY_MS)
    db = open_tsdb(overrides=(override,), tiers_ms=(), retention_raw_ms=DAY_MS, head_max_samples=10**9)
    fill(db, ["billing_total", "other"], WINDOW_START, 2)
    db.flush()
    clock.advance(30 * DAY_MS / 1000)
    apply_retention(db)
    assert [dict(s.labels)["__name__"] for s in db.select([], 0, 2**62)] == ["billing_total"]


def test_tier_resolution_follows_step_and_range() -> None:
    from nightowl.tsdb.tier_reads import pick_resolution

    tiers = [5 * MINUTE_MS, HOUR_MS]
    assert pick_resolution(tiers, None) == 5 * MINUTE_MS
    assert pick_resolution(tiers, SelectHints(step_ms=60_000)) == 5 * MINUTE_MS
    assert pick_resolution(tiers, SelectHints(step_ms=2 * HOUR_MS)) == HOUR_MS
    assert pick_resolution(tiers, SelectHints(step_ms=60_000, range_ms=HOUR_MS, func="rate")) == HOUR_MS
