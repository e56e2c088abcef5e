"""The select path: windowed block reads equal head reads; the index's cached postings follow every change."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from nightowl.metrics.model import STALE_NAN, Matcher, SampleBatch
from nightowl.tsdb import block
from nightowl.tsdb.block import Block, BlockMeta, BlockWriter, Columns
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.gather import Runs, assemble
from tests.tsdb.conftest import T0, lbl


def _fill(db: TSDB, series: int, steps: int) -> None:
    rng = np.random.default_rng(7)
    for step in range(steps):
        rows = []
        for s in range(series):
            if (s + step) % 7 == 0:
                continue  # gaps: some series have no sample in some windows
            value = STALE_NAN if (s, step) == (3, 40) else float(rng.normal())
            rows.append((lbl("m", i=str(s), kind="odd" if s % 2 else "even"), T0 + step * 15_000 + s, value))
        db.append(SampleBatch.from_rows(rows))


def _answers(db: TSDB, windows: list[tuple[int, int]]) -> list[list[tuple[object, list[int], list[int]]]]:
    out = []
    for lo, hi in windows:
        for matchers in ([Matcher("__name__", "=", "m")], [Matcher("kind", "=", "odd")]):
            found = db.select(matchers, lo, hi)
            out.append([(s.labels, s.timestamps.tolist(), s.values.view(np.uint64).tolist()) for s in found])
    return out


def test_windowed_block_reads_equal_head_reads(open_tsdb: Callable[..., TSDB], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(block, "PAGE_SAMPLES", 4096)  # several groups of series with this little data
    db = open_tsdb(freeze_samples=500)
    _fill(db, series=100, steps=600)  # 2.5 h: the samples span two 2 h windows
    end = T0 + 600 * 15_000
    windows = [
        (end - 300_000, end),
        (T0 + 3_600_000, T0 + 3_900_000),
        (T0 - 10, T0 + 20),
        (T0, end),
        (end + 1, end + 9),
    ]
    before = _answers(db, windows)
    db.flush()
    assert not db.head.samples and len(db.blocks) == 2
    assert max(len(b.group_series) - 1 for b in db.blocks) > 1  # several groups: some read partly
    assert max(len(b.page_group) for b in db.blocks) > 4  # and time slices
    assert _answers(db, windows) == before
    assert any(len(series) for series in before) and [] in before


def test_blocks_written_before_time_slices_read_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    counts = rng.integers(1, 900, 300).astype(np.int32)
    ts = np.concatenate([T0 + np.arange(c, dtype=np.int64) * 15_000 for c in counts.tolist()])
    values = rng.normal(size=len(ts))
    writer = BlockWriter(tmp_path, "b", 1)
    writer.add([lbl("m", i=f"{i:03d}") for i in range(len(counts))], Columns(counts, ts, [values]))
    meta = BlockMeta("b", T0, T0 + 2 * 3_600_000, int(ts.min()), int(ts.max()), len(ts), len(counts))
    path = writer.finish(meta)
    local = np.array([0, 5, 6, 150, 299], np.int64)
    window = (T0 + 600_000, T0 + 900_000)
    before = Block(path, meta, np.arange(len(counts))).read(local, 0, *window)
    with np.load(path / "index.npz") as z:
        arrays = {k: z[k] for k in ("counts", "min_ts", "max_ts", "page_offsets")}
        arrays["page_series"] = z["group_series"]  # the layout of blocks from before time slices
    np.savez_compressed(path / "index.npz", **arrays)
    old = Block(path, meta, np.arange(len(counts)))
    after = old.read(local, 0, *window)
    assert len(old.group_series) > 2
    assert after.counts.tolist() == before.counts.tolist() and sum(after.counts) > 0
    assert after.timestamps.tolist() == before.timestamps.tolist()
    assert after.values[0].tolist() == before.values[0].tolist()


def test_cached_postings_follow_new_and_deleted_series(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb()
    db.append(SampleBatch.from_rows([(lbl("up", job="a"), T0, 1.0), (lbl("up", job="b"), T0, 1.0)]))
    jobs = lambda ms: [dict(s.labels)["job"] for s in db.select(ms, T0, T0 + 10)]  # noqa: E731
    assert jobs([Matcher("__name__", "=", "up")]) == ["a", "b"]
    assert jobs([Matcher("job", "=~", "a|c")]) == ["a"]
    not_b = [Matcher("__name__", "=", "up"), Matcher("job", "!=", "b")]
    assert jobs(not_b) == ["a"] and jobs(not_b) == ["a"]  # the second answer is the remembered one
    db.append(SampleBatch.from_rows([(lbl("up", job="c"), T0 + 1, 1.0)]))
    assert jobs([Matcher("__name__", "=", "up")]) == ["a", "b", "c"]
    assert jobs([Matcher("job", "=~", "a|c")]) == ["a", "c"]
    assert jobs(not_b) == ["a", "c"]
    assert db.delete_series([Matcher("job", "=", "a")]) == 1
    assert jobs([Matcher("__name__", "=", "up")]) == ["b", "c"]
    assert jobs([Matcher("job", "=~", "a|c")]) == ["c"]
    assert jobs([Matcher("job", "!=", "b")]) == ["c"]


def test_assemble_sorts_only_series_whose_pieces_overlap() -> None:
    def runs(sids: list[int], counts: list[int], ts: list[int]) -> Runs:
        return Runs(np.array(sids), np.array(counts), np.array(ts), np.array(ts, np.float64) / 10)

    first = runs([1, 2, 3], [3, 2, 1], [10, 20, 30, 5, 6, 7])
    second = runs([1, 2, 4], [2, 2, 0], [40, 50, 6, 8])  # series 2 overlaps (6 again, then 8)
    third = runs([2, 3], [1, 1], [1, 7])  # series 2 gets an older sample; series 3 a duplicate time
    found = assemble([first, second, third])
    assert {sid: ts.tolist() for sid, (ts, _) in found.items()} == {1: [10, 20, 30, 40, 50], 2: [1, 5, 6, 8], 3: [7]}
    assert found[2][1].tolist() == [0.1, 0.5, 0.6, 0.8]
