"""From parsed samples to stored ones: label clashes, metric relabeling, limits and staleness markers."""

from __future__ import annotations

import math

import pytest

from nightowl.ingest.exposition import parse_exposition
from nightowl.metrics.model import STALE_NAN_BITS, Labels, SampleBatch
from nightowl.scrape.config import RelabelConfig
from nightowl.scrape.process import (
    ProcessOptions,
    Report,
    ScrapeFailure,
    SeriesCache,
    failed_scrape,
    merge_target_labels,
    process_scrape,
    target_gone,
    with_report,
)
from nightowl.scrape.relabel import compile_rules

TARGET: Labels = (("instance", "a:1"), ("job", "app"))
TS = 1_700_000_000_000


def rows(batch: SampleBatch) -> dict[Labels, float]:
    return {batch.series[int(i)]: float(v) for i, v in zip(batch.series_index, batch.values, strict=True)}


def stale(batch: SampleBatch) -> set[Labels]:
    return {
        batch.series[int(i)]
        for i, v in zip(batch.series_index, batch.values.view("uint64"), strict=True)
        if int(v) == STALE_NAN_BITS
    }


def scrape(text: str, cache: SeriesCache, options: ProcessOptions | None = None, ts: int = TS) -> SampleBatch:
    batch, _, _ = process_scrape(parse_exposition(text, ts), TARGET, options or ProcessOptions(), cache, ts)
    return batch


def test_target_labels_win_and_clashing_scraped_ones_become_exported() -> None:
    merged = merge_target_labels((("__name__", "m"), ("exported_job", "x"), ("job", "inner")), TARGET, False)
    assert merged == {
        "__name__": "m",
        "job": "app",
        "exported_job": "x",
        "exported_exported_job": "inner",
        "instance": "a:1",
    }


def test_honor_labels_keeps_scraped_values() -> None:
    merged = merge_target_labels((("__name__", "m"), ("job", "inner")), TARGET, True)
    assert merged == {"__name__": "m", "job": "inner", "instance": "a:1"}


def test_metric_relabeling_drops_and_rewrites_series() -> None:
    rules = compile_rules(
        [
            RelabelConfig(source_labels=["__name__"], regex="go_.*", action="drop"),
            RelabelConfig(source_labels=["path"], regex="/api/(.*)", target_label="path", replacement="$1"),
        ]
    )
    batch, kept, _ = process_scrape(
        parse_exposition('go_goroutines 5\nreqs{path="/api/x"} 3\n', TS),
        TARGET,
        ProcessOptions(metric_rules=rules),
        SeriesCache(),
        TS,
    )
    assert kept == 1
    assert rows(batch) == {(("__name__", "reqs"), ("instance", "a:1"), ("job", "app"), ("path", "x")): 3.0}


def test_sample_limit_and_label_limit_fail_the_scrape() -> None:
    with pytest.raises(ScrapeFailure, match="sample_limit exceeded: 3 samples"):
        scrape("a 1\nb 2\nc 3\n", SeriesCache(), ProcessOptions(sample_limit=2))
    with pytest.raises(ScrapeFailure, match="label_limit exceeded"):
        scrape('a{x="1",y="2"} 1\n', SeriesCache(), ProcessOptions(label_limit=4))


def test_vanished_series_get_a_staleness_marker_once() -> None:
    cache = SeriesCache()
    first = scrape("a 1\nb 2\n", cache)
    assert len(rows(first)) == 2 and not stale(first)
    second = scrape("a 1\n", cache, ts=TS + 15_000)
    b = (("__name__", "b"), ("instance", "a:1"), ("job", "app"))
    assert stale(second) == {b}
    assert int(second.timestamps[list(second.series).index(b)]) == TS + 15_000
    third = scrape("a 1\n", cache, ts=TS + 30_000)
    assert not stale(third)


def test_series_with_explicit_timestamps_are_not_marked_stale() -> None:
    cache = SeriesCache()
    scrape("a 1 1600000000000\nb 2\n", cache)
    assert {dict(s)["__name__"] for s in stale(scrape("", cache, ts=TS + 1))} == {"b"}


def test_honor_timestamps_false_uses_the_scrape_time() -> None:
    batch = scrape("a 1 1600000000000\n", SeriesCache(), ProcessOptions(honor_timestamps=False))
    assert batch.timestamps.tolist() == [TS]


def test_series_added_counts_new_series() -> None:
    cache = SeriesCache()
    _, _, added = process_scrape(parse_exposition("a 1\nb 1\n", TS), TARGET, ProcessOptions(), cache, TS)
    assert added == 2
    _, _, added = process_scrape(parse_exposition("a 1\nc 1\n", TS + 1), TARGET, ProcessOptions(), cache, TS + 1)
    assert added == 1


def test_failed_scrape_and_gone_target_mark_everything_stale() -> None:
    cache = SeriesCache()
    batch = with_report(scrape("a 1\n", cache), cache, TARGET, Report(True, 0.01, 1, 1, 1), TS)
    names = {dict(s)["__name__"]: v for s, v in rows(batch).items()}
    assert names == {
        "a": 1.0,
        "up": 1.0,
        "scrape_duration_seconds": 0.01,
        "scrape_samples_scraped": 1.0,
        "scrape_samples_post_metric_relabeling": 1.0,
        "scrape_series_added": 1.0,
    }
    down = with_report(failed_scrape(cache, TS + 1), cache, TARGET, Report(False, 0.5, 0, 0, 0), TS + 1)
    assert {dict(s)["__name__"] for s in stale(down)} == {"a"}
    assert {dict(s)["__name__"]: v for s, v in rows(down).items()}["up"] == 0.0
    scrape("a 1\n", cache, ts=TS + 2)
    gone = target_gone(cache, TS + 3)
    assert {dict(s)["__name__"] for s in stale(gone)} == {
        "a",
        "up",
        "scrape_duration_seconds",
        "scrape_samples_scraped",
        "scrape_samples_post_metric_relabeling",
        "scrape_series_added",
    }
    assert all(math.isnan(v) for v in gone.values)


def test_series_coming_back_after_a_failed_scrape_are_new_again() -> None:
    cache = SeriesCache()
    scrape("a 1\n", cache)
    scrape("a 1\n", cache, ts=TS + 1)
    failed_scrape(cache, TS + 2)
    _, _, added = process_scrape(parse_exposition("a 1\n", TS + 3), TARGET, ProcessOptions(), cache, TS + 3)
    assert added == 1
    assert not stale(scrape("a 1\n", cache, ts=TS + 4))
    assert {dict(s)["__name__"] for s in stale(scrape("", cache, ts=TS + 5))} == {"a"}


def test_a_repeated_scrape_gives_the_same_batch_as_a_fresh_one() -> None:
    text = 'a{x="1"} 1\nb 2\ngo_x 3\n'
    rules = compile_rules([RelabelConfig(source_labels=["__name__"], regex="go_.*", action="drop")])
    options = ProcessOptions(metric_rules=rules)
    warm = SeriesCache()
    process_scrape(parse_exposition(text, TS), TARGET, options, warm, TS)
    repeated, kept, added = process_scrape(parse_exposition(text, TS + 1), TARGET, options, warm, TS + 1)
    fresh, _, _ = process_scrape(parse_exposition(text, TS + 1), TARGET, options, SeriesCache(), TS + 1)
    assert rows(repeated) == rows(fresh)
    assert (kept, added) == (2, 0)
    with_ts = scrape('a{x="1"} 1 1600000000000\nb 2\ngo_x 3\n', warm, options, ts=TS + 2)
    assert with_ts.timestamps.tolist()[:2] == [1600000000000, TS + 2]
