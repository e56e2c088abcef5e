"""Selects of a sub-window read from blocks answer exactly what the head answered before the flush."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nightowl.metrics.model import STALE_NAN, Matcher, SampleBatch
from nightowl.tsdb.db import TSDB
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


def test_windowed_block_reads_equal_head_reads(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb(freeze_samples=500)
    _fill(db, series=200, steps=600)  # 2.5 h: the samples span two 2 h windows
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
    assert max(len(b.page_series) - 1 for b in db.blocks) > 1  # several pages: some read partly
    assert _answers(db, windows) == before
    assert any(len(series) for series in before) and [] in before
