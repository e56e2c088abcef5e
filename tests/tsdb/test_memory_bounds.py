"""Merges work a bounded group of series at a time."""

from __future__ import annotations

import numpy as np

from nightowl.core.clock import ManualClock
from nightowl.metrics.model import Matcher, SampleBatch, labels_from_dict
from nightowl.tsdb import block as block_module
from nightowl.tsdb import maintenance
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.options import TSDBOptions


def test_groups_hold_at_most_the_sample_budget_or_one_series() -> None:
    counts = np.array([3, 3, 3, 10, 1, 1, 1, 1], np.int64)
    groups = maintenance.sample_groups(counts, max_samples=6, max_series=3)
    assert [(g.start, g.stop) for g in groups] == [(0, 2), (2, 3), (3, 4), (4, 7), (7, 8)]
    assert maintenance.sample_groups(np.empty(0, np.int64)) == []


def test_a_merge_in_small_groups_keeps_every_sample(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(block_module, "PAGE_SAMPLES", 50)
    clock = ManualClock(1_700_000_000.0)
    db = TSDB(tmp_path / "tsdb", TSDBOptions(tiers_ms=()), clock)
    series = [labels_from_dict({"__name__": "m", "i": f"{i:03d}"}) for i in range(40)]
    start = 1_700_000_000_000 - 3_600_000
    for flush in range(3):
        for step in range(10):
            ts = start + (flush * 10 + step) * 15_000
            db.append(SampleBatch(series, np.arange(40, dtype=np.int32), np.full(40, ts, np.int64), np.full(40, 1.0)))
        maintenance.flush_head(db)  # one block per flush, not merged yet
    monkeypatch.setattr(maintenance, "GROUP_SAMPLES", 25)
    blocks = list(db.blocks)
    assert len(blocks) == 3
    merged = maintenance.merge_blocks(db, blocks)
    maintenance.replace_blocks(db, blocks, [merged])
    assert merged.meta.samples == 40 * 30
    found = db.select([Matcher("__name__", "=", "m")], start, start + 3_600_000)
    assert sum(len(s.values) for s in found) == 40 * 30
    db.close()
