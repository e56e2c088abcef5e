from __future__ import annotations

from collections.abc import Callable

import numpy as np

from nightowl.metrics.api import MetricMetadata
from nightowl.metrics.model import STALE_NAN, Matcher, SampleBatch, is_stale
from nightowl.tsdb.db import TSDB
from tests.tsdb.conftest import T0, lbl


def test_samples_survive_reopen_with_staleness_markers_bit_exact(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb()
    rows = [(lbl("up", job="api"), T0 + i * 15_000, float(i)) for i in range(10)]
    rows.append((lbl("up", job="api"), T0 + 10 * 15_000, STALE_NAN))
    result = db.append(SampleBatch.from_rows(rows))
    assert result.accepted == 11 and result.series_created == 1
    db.close()
    again = open_tsdb()
    [series] = again.select([Matcher("job", "=", "api")], T0, T0 + 10**6)
    assert series.values[:10].tolist() == [float(i) for i in range(10)]
    assert is_stale(series.values).tolist() == [False] * 10 + [True]


def test_every_matcher_kind_resolves_through_the_index(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb()
    db.append(
        SampleBatch.from_rows(
            [
                (lbl("up", job="api", instance="a:1"), T0, 1.0),
                (lbl("up", job="api", instance="b:1"), T0, 0.0),
                (lbl("up", job="web", instance="c:1"), T0, 1.0),
                (lbl("load", instance="c:1"), T0, 1.0),
            ]
        )
    )
    names = lambda ms: [dict(s.labels).get("instance") for s in db.select(ms, T0, T0)]  # noqa: E731
    assert names([Matcher("job", "=", "api")]) == ["a:1", "b:1"]
    assert names([Matcher("__name__", "=", "up"), Matcher("job", "!=", "api")]) == ["c:1"]
    assert len(db.select([Matcher("instance", "=~", "a.*|c.*")], T0, T0)) == 3
    assert len(db.select([Matcher("job", "=", "")], T0, T0)) == 1
    assert len(db.select([Matcher("job", "!~", "a.*")], T0, T0)) == 2
    assert len(db.select([Matcher("instance", "=~", "a")], T0, T0)) == 0
    assert db.label_values("job", [], T0, T0) == ["api", "web"]
    assert db.label_names([[Matcher("__name__", "=", "load")]], T0, T0) == ["__name__", "instance"]
    assert db.label_values("job", [], T0 + 1, T0 + 2) == []


def test_select_merges_blocks_head_and_buffer_in_time_order(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb(freeze_samples=5)
    series = lbl("x")
    for i in range(0, 30):
        db.append(SampleBatch.from_rows([(series, T0 + i * 1000, float(i))]))
        if i == 12:
            db.flush()
    [got] = db.select([Matcher("__name__", "=", "x")], T0 + 5000, T0 + 25_000)
    assert got.timestamps.tolist() == [T0 + i * 1000 for i in range(5, 26)]
    assert got.values.tolist() == [float(i) for i in range(5, 26)]


def test_out_of_order_within_window_accepted_beyond_rejected(open_tsdb: Callable[..., TSDB], clock) -> None:
    clock.set(T0 / 1000)
    db = open_tsdb(out_of_order_window_ms=60_000)
    s = lbl("x")
    db.append(SampleBatch.from_rows([(s, T0, 1.0)]))
    ok = db.append(SampleBatch.from_rows([(s, T0 - 30_000, 2.0)]))
    late = db.append(SampleBatch.from_rows([(s, T0 - 120_000, 3.0)]))
    ancient = db.append(SampleBatch.from_rows([(lbl("y"), T0 - 40 * 86_400_000, 3.0)]))
    assert ok.accepted == 1 and not ok.rejected
    assert late.rejected == {"out_of_order": 1}
    assert ancient.rejected == {"too_old": 1}
    [got] = db.select([Matcher("__name__", "=", "x")], 0, T0)
    assert got.timestamps.tolist() == [T0 - 30_000, T0]


def test_duplicates_as_prometheus(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb(freeze_samples=1)
    s = lbl("x")
    db.append(SampleBatch.from_rows([(s, T0, 1.0), (s, T0 + 1000, 2.0)]))
    same = db.append(SampleBatch.from_rows([(s, T0 + 1000, 2.0), (s, T0, 1.0)]))
    different = db.append(SampleBatch.from_rows([(s, T0 + 1000, 5.0), (s, T0, 7.0)]))
    within = db.append(SampleBatch.from_rows([(s, T0 + 2000, 1.0), (s, T0 + 2000, 9.0)]))
    assert same.rejected == {} and same.accepted == 2
    assert different.rejected == {"duplicate_sample_for_timestamp": 2}
    assert within.rejected == {"duplicate_sample_for_timestamp": 1}
    [got] = db.select([], 0, T0 + 10_000)
    assert got.values.tolist() == [1.0, 2.0, 1.0]
    db.flush()
    on_disk = db.append(SampleBatch.from_rows([(s, T0 + 1000, 2.0), (s, T0, 3.0), (s, T0 + 1500, 4.0)]))
    assert on_disk.rejected == {"duplicate_sample_for_timestamp": 1} and on_disk.accepted == 2


def test_delete_series_by_matcher_and_window(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb()
    rows = [(lbl("x", job=j), T0 + i * 1000, float(i)) for j in ("a", "b") for i in range(10)]
    db.append(SampleBatch.from_rows(rows[:10]))
    db.flush()
    db.append(SampleBatch.from_rows(rows[10:]))
    assert db.delete_series([Matcher("job", "=", "a")], T0, T0 + 4000) == 1
    assert db.delete_series([Matcher("job", "=", "b")]) == 1
    [a] = db.select([], 0, T0 + 10**6)
    assert a.timestamps.tolist() == [T0 + i * 1000 for i in range(5, 10)]
    assert db.label_values("job", [], 0, T0 + 10**6) == ["a"]
    db.close()
    reopened = open_tsdb()
    assert [s.timestamps.tolist()[0] for s in reopened.select([], 0, T0 + 10**6)] == [T0 + 5000]
    assert reopened.label_values("job", [], 0, T0 + 10**6) == ["a"]


def test_metadata_is_kept_across_restarts(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb()
    batch = SampleBatch.from_rows([(lbl("x_total"), T0, 1.0)])
    batch.metadata["x_total"] = ("counter", "Things done.", "")
    db.append(batch)
    db.close()
    assert open_tsdb().metadata("x_total") == {"x_total": [MetricMetadata("counter", "Things done.", "")]}


def test_a_deleted_series_appended_again_by_the_same_labels_object_is_a_new_series(
    open_tsdb: Callable[..., TSDB],
) -> None:
    # The append path looks series up by object identity first (a scraper hands the same tuples).
    db = open_tsdb()
    labels = lbl("x", job="a")
    assert db.append(SampleBatch([labels], np.zeros(1, np.int32), np.array([T0]), np.array([1.0]))).series_created == 1
    assert (
        db.append(SampleBatch([labels], np.zeros(1, np.int32), np.array([T0 + 1000]), np.array([2.0]))).series_created
        == 0
    )
    assert db.delete_series([Matcher("job", "=", "a")]) == 1
    again = db.append(SampleBatch([labels], np.zeros(1, np.int32), np.array([T0 + 2000]), np.array([3.0])))
    assert again.accepted == 1 and again.series_created == 1
    [series] = db.select([Matcher("job", "=", "a")], 0, T0 + 10**6)
    assert series.timestamps.tolist() == [T0 + 2000] and series.values.tolist() == [3.0]
