from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nightowl.metrics.model import Matcher, SampleBatch
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.wal import SamplesRecord, SeriesRecord, WriteAheadLog, read_segment, samples_frame, series_frame
from tests.tsdb.conftest import T0, lbl


def test_a_torn_last_record_is_skipped_and_the_rest_replays(open_tsdb: Callable[..., TSDB], tmp_path: Path) -> None:
    db = open_tsdb()
    for i in range(3):
        db.append(SampleBatch.from_rows([(lbl("x"), T0 + i, float(i))]))
    db.close()
    segment = max((tmp_path / "tsdb" / "wal").iterdir())
    data = segment.read_bytes()
    segment.write_bytes(data[:-5])  # the process died inside the last write
    [series] = open_tsdb().select([Matcher("__name__", "=", "x")], 0, T0 + 10)
    assert series.values.tolist() == [0.0, 1.0]


def test_records_round_trip(tmp_path: Path) -> None:
    import numpy as np

    wal = WriteAheadLog(tmp_path, fsync="always")
    sids = np.array([3, 1], np.int32)
    wal.write(series_frame(3, lbl("a", job="j")) + samples_frame(sids, np.array([5, 6]), np.array([0.5, -1.0])), 0)
    wal.close()
    [series, samples] = list(read_segment(next(tmp_path.iterdir())))
    assert isinstance(series, SeriesRecord) and series.labels == lbl("a", job="j")
    assert isinstance(samples, SamplesRecord) and samples.values.tolist() == [0.5, -1.0]
    assert samples.sids.tolist() == [3, 1] and samples.timestamps.tolist() == [5, 6]


def test_flush_truncates_the_wal(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb()
    db.append(SampleBatch.from_rows([(lbl("x", i=str(i)), T0, 1.0) for i in range(100)]))
    before = db.wal.size_bytes()
    db.flush()
    assert db.wal.size_bytes() == 0 < before
    db.append(SampleBatch.from_rows([(lbl("x", i="7"), T0 + 1, 2.0)]))
    db.close()
    [series] = open_tsdb().select([Matcher("i", "=", "7")], 0, T0 + 10)
    assert series.values.tolist() == [1.0, 2.0]
