"""The decoded-page cache: answers equal uncached ones, repeated selects decode nothing, memory stays bounded."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from nightowl.app import create_app
from nightowl.core.clock import ManualClock
from nightowl.metrics.model import Matcher, SampleBatch
from nightowl.tsdb import block
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.pagecache import PAGE_CACHE, DecodedPage, PageCache
from tests.support.apps import admin_client
from tests.tsdb.conftest import T0, lbl


@pytest.fixture
def cache_budget() -> Iterator[Callable[[int], None]]:
    before = PAGE_CACHE.budget
    yield PAGE_CACHE.resize
    PAGE_CACHE.resize(before)


def _filled(open_tsdb: Callable[..., TSDB]) -> TSDB:
    db = open_tsdb()
    rng = np.random.default_rng(5)
    for step in range(480):  # 2 h at 15 s: 12 time slices per group
        rows = [(lbl("m", i=f"{s:02d}", odd=str(s % 2)), T0 + step * 15_000, float(rng.normal())) for s in range(40)]
        db.append(SampleBatch.from_rows(rows))
    db.flush()
    return db


def _answers(db: TSDB) -> list[tuple[object, list[int], list[int]]]:
    out = []
    end = T0 + 479 * 15_000
    for lo, hi in [(end - 300_000, end), (T0, end), (T0 + 1_000_000, T0 + 2_000_000)]:
        for matchers in ([Matcher("__name__", "=", "m")], [Matcher("odd", "=", "1")], [Matcher("i", "=", "07")]):
            for s in db.select(matchers, lo, hi):
                out.append((s.labels, s.timestamps.tolist(), s.values.view(np.uint64).tolist()))
    return out


def test_cached_answers_equal_uncached_ones(
    open_tsdb: Callable[..., TSDB], cache_budget: Callable[[int], None], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(block, "PAGE_SAMPLES", 2048)  # several groups of series
    db = _filled(open_tsdb)
    cache_budget(0)
    uncached = _answers(db)
    cache_budget(64 * 2**20)
    first, hits = _answers(db), PAGE_CACHE.hits
    again = _answers(db)
    assert uncached == first == again
    assert PAGE_CACHE.hits > hits  # the second round read decoded pages


def test_pages_of_a_closed_block_are_dropped(
    open_tsdb: Callable[..., TSDB], cache_budget: Callable[[int], None]
) -> None:
    cache_budget(64 * 2**20)
    db = _filled(open_tsdb)
    _answers(db)
    tokens = [b._token for b in db.blocks]
    assert sum(PAGE_CACHE.pages_of(t) for t in tokens) > 0
    db.close()
    db.blocks.clear()
    gc.collect()
    assert sum(PAGE_CACHE.pages_of(t) for t in tokens) == 0


def test_the_budget_bounds_the_cache() -> None:
    cache = PageCache(budget=10_000)
    page = DecodedPage.of(np.array([100], np.int32), np.arange(100, dtype=np.int64), np.zeros(100))
    for n in range(20):
        cache.put((1, 0, n), page)
    assert cache.used <= 10_000 and cache.get((1, 0, 19)) is page and cache.get((1, 0, 0)) is None
    cache.resize(0)
    assert cache.used == 0 and cache.get((1, 0, 19)) is None


async def test_the_setting_sizes_the_cache_and_the_status_shows_it(make_settings: Any, clock: ManualClock) -> None:
    before = PAGE_CACHE.budget
    try:
        app = create_app(make_settings(query_page_cache_bytes=3 * 2**20), clock=clock)
        async with app.router.lifespan_context(app):
            assert PAGE_CACHE.budget == 3 * 2**20
            async with admin_client(app) as client:
                text = (await client.get("/metrics")).text
        assert 'nightowl_tsdb_status{quantity="page_cache_bytes"}' in text
        assert 'nightowl_tsdb_status{quantity="page_cache_hits"}' in text
    finally:
        PAGE_CACHE.resize(before)
