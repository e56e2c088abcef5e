"""Selects running while appends trigger background flushes and compactions see consistent series."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from nightowl.metrics.model import Matcher, SampleBatch
from nightowl.tsdb.db import TSDB
from tests.tsdb.conftest import T0, lbl


def test_selects_during_background_flushes_see_every_sample_once(open_tsdb: Callable[..., TSDB]) -> None:
    db = open_tsdb(head_max_samples=2_000, freeze_samples=300)
    series = [lbl("c", n=str(i)) for i in range(20)]
    done = threading.Event()
    problems: list[str] = []

    def writer() -> None:
        for step in range(400):
            ts = np.full(20, T0 + step * 1000, np.int64)
            db.append(SampleBatch(series, np.arange(20, dtype=np.int32), ts, np.full(20, float(step))))
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        for found in db.select([Matcher("__name__", "=", "c")], 0, 2**62):
            stamps = found.timestamps
            if len(stamps) and (stamps[0] != T0 or not (np.diff(stamps) == 1000).all()):
                problems.append(f"gap or duplicate in {found.labels}")
    thread.join()
    db.flush()
    assert not problems
    assert [len(s.timestamps) for s in db.select([], 0, 2**62)] == [400] * 20
