"""Long-range queries read downsampled tiers where their step and range windows only need them,
within a stated tolerance of the raw answer; short ranges and opted-out queries read raw samples."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from nightowl.core.clock import ManualClock
from nightowl.metrics.api import QueryResult, SelectHints
from nightowl.metrics.model import Matcher, SampleBatch
from nightowl.promql.engine import PromQLEngine
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.options import DAY_MS, HOUR_MS, MINUTE_MS, TSDBOptions
from nightowl.tsdb.tier_reads import at_most_resolution, continuous_counter, plan_read, preferred_resolution
from tests.tsdb.conftest import T0, lbl

START = (T0 // DAY_MS - 3) * DAY_MS
SCRAPE_MS = 60_000
JITTER_MS = 7_000  # scrapes land 7 s past the minute, as real ones never sit exactly on bucket edges
RESETS = (START + 26 * HOUR_MS, START + 30 * HOUR_MS + 3 * MINUTE_MS)  # at a raw window edge, mid-bucket
TEMPERATURE = lbl("temperature", room="a")
REQUESTS = lbl("requests_total", job="api")


def sample_times(hours: int) -> np.ndarray:
    return START + JITTER_MS + np.arange(hours * HOUR_MS // SCRAPE_MS, dtype=np.int64) * SCRAPE_MS


def counter_values(ts: np.ndarray) -> np.ndarray:
    """A request counter at a varying rate (5-15/s), restarting from 0 at each of `RESETS`."""
    per_second = 10 + 5 * np.sin(2 * np.pi * (ts - START) / (5 * HOUR_MS))
    increments = per_second * SCRAPE_MS / 1000
    values = np.cumsum(increments)
    for reset in RESETS:
        after = ts >= reset
        values[after] -= values[np.argmax(after) - 1]
    return values


def fill(db: TSDB, hours: int = 48) -> None:
    ts = sample_times(hours)
    gauge = 20 + 5 * np.sin(2 * np.pi * (ts - START) / (6 * HOUR_MS)) + np.cos(ts / 420_000.0)
    counter = counter_values(ts)
    for chunk in np.array_split(np.arange(len(ts)), hours):
        n = len(chunk)
        db.append(
            SampleBatch(
                [TEMPERATURE, REQUESTS],
                np.repeat(np.array([0, 1], np.int32), n),
                np.concatenate([ts[chunk], ts[chunk]]),
                np.concatenate([gauge[chunk], counter[chunk]]),
            )
        )
    db.flush()  # writes the head out, merges each window and downsamples the closed ones


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TSDB]:
    """Two days of a gauge and a counter, every window but the last downsampled; tests only read it."""
    store = TSDB(tmp_path_factory.mktemp("tiers"), TSDBOptions(head_max_samples=10**9), ManualClock(T0 / 1000))
    fill(store)
    yield store
    store.close()


def query(
    db: TSDB,
    expr: str,
    max_resolution_ms: int | None = None,
    step_ms: int = HOUR_MS,
    first_hour: int = 4,
    last_hour: int = 46,
) -> QueryResult:
    engine = PromQLEngine(db)
    run = at_most_resolution(max_resolution_ms, engine.range)
    return run(expr, START + first_hour * HOUR_MS, START + last_hour * HOUR_MS, step_ms)


def values(result: QueryResult) -> np.ndarray:
    [series] = result.series
    return np.asarray(series.values)


def test_a_long_range_query_reads_the_tier_where_raw_samples_still_exist(db: TSDB) -> None:
    hints = SelectHints(step_ms=HOUR_MS, range_ms=HOUR_MS, func="max_over_time")
    start, end = START + 3 * HOUR_MS + 1, START + 46 * HOUR_MS
    with db.lock:
        plan = plan_read(db, start, end, hints)
    assert plan.resolution_ms == 5 * MINUTE_MS and plan.tier == (start, START + 46 * HOUR_MS - 1)
    assert plan.raw == ((START + 46 * HOUR_MS, end),)  # the window not downsampled yet stays raw
    [tiered] = db.select([Matcher("__name__", "=", "temperature")], start, end, hints)
    [raw] = at_most_resolution(0, db.select)([Matcher("__name__", "=", "temperature")], start, end, hints)
    assert len(raw.timestamps) == 43 * 60
    assert len(tiered.timestamps) == 43 * 12  # one row per 5-minute bucket, stamped at its last sample
    assert set(tiered.timestamps.tolist()) <= set(raw.timestamps.tolist())


@pytest.mark.parametrize("func", ["avg_over_time", "max_over_time", "min_over_time", "sum_over_time"])
def test_aggregations_over_time_from_the_tier_match_raw(db: TSDB, func: str) -> None:
    tiered, raw = query(db, f"{func}(temperature[1h])"), query(db, f"{func}(temperature[1h])", 0)
    assert tiered.samples_loaded * 4 < raw.samples_loaded
    np.testing.assert_allclose(values(tiered), values(raw), rtol=1e-9)


def test_count_over_time_counts_raw_samples(db: TSDB) -> None:
    tiered, raw = query(db, "count_over_time(temperature[1h])"), query(db, "count_over_time(temperature[1h])", 0)
    assert tiered.samples_loaded == raw.samples_loaded
    assert values(tiered).tolist() == values(raw).tolist() == [60.0] * 43


@pytest.mark.parametrize(
    "expr", ["rate(requests_total[1h])", "increase(requests_total[1h])", "rate(requests_total[61m])"]
)
def test_rate_and_increase_from_the_tier_stay_within_tolerance_across_counter_resets(db: TSDB, expr: str) -> None:
    tiered, raw = query(db, expr), query(db, expr, 0)
    assert tiered.samples_loaded * 4 < raw.samples_loaded
    assert (values(raw) > 0).all()  # no reset turned into a drop
    # Each window's first bucket is extrapolated from the rest; this counter's rate swings +-50 % in 2.5 h.
    np.testing.assert_allclose(values(tiered), values(raw), rtol=0.05)


@pytest.mark.parametrize("expr", ["temperature", "requests_total", "last_over_time(temperature[4h])"])
def test_plain_selectors_at_an_hourly_step_read_the_hourly_tier(db: TSDB, expr: str) -> None:
    tiered, raw = query(db, expr), query(db, expr, 0)
    assert tiered.samples_loaded * 10 < raw.samples_loaded
    np.testing.assert_array_equal(values(tiered), values(raw))


def test_increase_over_half_a_day_reads_the_hourly_tier(db: TSDB) -> None:
    expr = "sum(increase(requests_total[12h]))"
    tiered, raw = query(db, expr, first_hour=12), query(db, expr, 0, first_hour=12)
    assert tiered.samples_loaded * 50 < raw.samples_loaded
    np.testing.assert_allclose(values(tiered), values(raw), rtol=0.05)


@pytest.mark.parametrize(
    ("expr", "rtol"), [("avg_over_time(temperature[4h])", 1e-9), ("increase(requests_total[12h])", 0.05)]
)
def test_windows_reaching_past_the_tier_into_raw_samples_stay_within_tolerance(
    db: TSDB, expr: str, rtol: float
) -> None:
    # The last window (46-48 h) is not downsampled: the final steps' windows take raw samples, bucketed alike.
    tiered, raw = query(db, expr, first_hour=12, last_hour=47), query(db, expr, 0, first_hour=12, last_hour=47)
    assert tiered.samples_loaded * 4 < raw.samples_loaded
    np.testing.assert_allclose(values(tiered), values(raw), rtol=rtol)


def test_short_windows_fine_steps_and_unaligned_times_read_raw() -> None:
    tiers = [5 * MINUTE_MS, HOUR_MS]
    aligned = START + 10 * HOUR_MS

    def pick(step: int, rng: int, func: str, end: int = aligned) -> int:
        return preferred_resolution(tiers, SelectHints(step, rng, func), end, None)

    assert pick(HOUR_MS, 5 * MINUTE_MS, "rate") == 0  # a [5m] rate never reads 5-minute buckets
    assert pick(HOUR_MS, 15 * MINUTE_MS, "rate") == 0
    assert pick(HOUR_MS, 30 * MINUTE_MS, "rate") == 0
    assert pick(HOUR_MS, HOUR_MS, "rate") == 5 * MINUTE_MS
    assert pick(HOUR_MS, 4 * HOUR_MS, "rate") == 5 * MINUTE_MS
    assert pick(HOUR_MS, 12 * HOUR_MS, "increase") == HOUR_MS
    assert pick(HOUR_MS, HOUR_MS + 15_000, "rate") == 5 * MINUTE_MS  # Grafana's $__rate_interval at step 1h
    assert pick(HOUR_MS, HOUR_MS + 15_000, "max_over_time") == 0  # would take in a bucket mostly outside
    assert pick(HOUR_MS, 20 * MINUTE_MS, "max_over_time") == 5 * MINUTE_MS
    assert pick(HOUR_MS, 4 * HOUR_MS, "max_over_time") == HOUR_MS
    assert pick(MINUTE_MS, HOUR_MS, "avg_over_time") == 0  # a step finer than any bucket
    assert pick(HOUR_MS, HOUR_MS, "avg_over_time", aligned + 30_000) == 0  # steps off bucket edges
    assert pick(HOUR_MS, 0, "") == HOUR_MS
    assert pick(30 * MINUTE_MS, 0, "") == 5 * MINUTE_MS
    assert pick(0, 0, "") == 0  # instant queries (alerting rules among them) read raw samples
    assert pick(0, DAY_MS, "increase") == 0
    assert pick(HOUR_MS, HOUR_MS, "count_over_time") == 0
    assert pick(HOUR_MS, HOUR_MS, "quantile_over_time") == 0
    assert preferred_resolution(tiers, SelectHints(HOUR_MS, 0, ""), aligned, 5 * MINUTE_MS) == 5 * MINUTE_MS


def test_a_short_range_query_reads_raw_samples(db: TSDB) -> None:
    tiered, raw = query(db, "rate(requests_total[5m])"), query(db, "rate(requests_total[5m])", 0)
    assert tiered.samples_loaded == raw.samples_loaded
    fine = query(db, "temperature", step_ms=MINUTE_MS)
    assert fine.samples_loaded == query(db, "temperature", 0, step_ms=MINUTE_MS).samples_loaded


def test_the_setting_turns_tier_reads_off(db: TSDB) -> None:
    tiered = query(db, "avg_over_time(temperature[1h])")
    options = db.options
    db.options = dataclasses.replace(options, auto_downsampling=False)
    try:
        raw = query(db, "avg_over_time(temperature[1h])")
    finally:
        db.options = options
    assert raw.samples_loaded == query(db, "avg_over_time(temperature[1h])", 0).samples_loaded
    assert tiered.samples_loaded * 4 < raw.samples_loaded


def test_a_window_still_partly_in_the_head_is_not_downsampled(open_tsdb: Callable[..., TSDB]) -> None:
    from nightowl.tsdb.maintenance import compact, flush_head
    from nightowl.tsdb.tiers import downsampled_windows

    db = open_tsdb(head_max_samples=10**9)
    ts = sample_times(5)
    rows = [(TEMPERATURE, int(t), 1.0) for t in ts]
    db.append(SampleBatch.from_rows(rows[:60]))
    flush_head(db)  # the first hour of the first window is on disk, its second hour will stay in the head
    db.append(SampleBatch.from_rows(rows[60:]))
    compact(db)
    assert START not in downsampled_windows(db)
    flush_head(db)
    compact(db)
    assert START in downsampled_windows(db)


def test_counter_rows_continue_across_raw_windows() -> None:
    windows = np.array([0, 0, 1, 1], np.int64)
    last = np.array([10.0, 2.0, 5.0, 8.0])  # a reset inside the first window lost 40, none in the second
    offset = np.array([0.0, 40.0, 0.0, 0.0])
    low = np.array([1.0, 0.0, 3.0, 6.0])
    assert continuous_counter(windows, last, offset, low).tolist() == [10.0, 42.0, 45.0, 48.0]
    assert continuous_counter(windows, last, offset, low, anchor_end=True).tolist() == [-30.0, 2.0, 5.0, 8.0]
    with_later_loss = continuous_counter(windows, last, np.array([0.0, 40.0, 0.0, 8.0]), low)
    assert with_later_loss.tolist() == [10.0, 42.0, 45.0, 56.0]
    # The second window starts below the first one's last value: a reset between the windows lost 2.
    at_the_edge = continuous_counter(windows, last, offset, np.array([1.0, 0.0, 1.0, 6.0]))
    assert at_the_edge.tolist() == [10.0, 42.0, 47.0, 50.0]
