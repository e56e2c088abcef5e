"""One scrape's parsed samples -> the batch to store: target labels, metric relabeling, limits,
staleness markers and the `up`/`scrape_*` report series. Pure: data and a timestamp in, data out.

The label work for a series is done once and remembered per target (`SeriesCache`), since a target
exposes the same series on every scrape; a scrape then costs a dict lookup per series.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from nightowl.metrics.model import METRIC_NAME, STALE_NAN, Labels, SampleBatch, metric_name
from nightowl.scrape.relabel import Rule, relabel

REPORT_NAMES = (
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",
    "scrape_series_added",
)
_CACHE_MAX = 200_000


class ScrapeFailure(Exception):
    """The scrape counts as failed (`up` 0): fetch error, bad payload, or a sample/label limit passed."""


@dataclass(frozen=True)
class ProcessOptions:
    """The per-job knobs of turning scraped samples into stored ones."""

    honor_labels: bool = False
    honor_timestamps: bool = True
    sample_limit: int = 0
    label_limit: int = 0
    metric_rules: tuple[Rule, ...] = ()


@dataclass
class SeriesCache:
    """Per-target memory: scraped labels -> stored labels (None when dropped), and last scrape's series."""

    final: dict[Labels, Labels | None] = field(default_factory=dict)
    previous: set[Labels] = field(default_factory=set)
    report_labels: tuple[Labels, ...] = ()
    last: _LastScrape | None = None


@dataclass
class _LastScrape:
    """The previous scrape's series, by identity: when a target answers the same series in the same
    order (the steady state), the decoder hands back the very same tuples and all label work is reused."""

    scraped: list[Labels]
    ids: list[int]
    remap: npt.NDArray[np.int32]
    series: list[Labels]


def merge_target_labels(scraped: Labels, target: Labels, honor_labels: bool) -> dict[str, str]:
    """Combine a scraped series' labels with its target's, resolving clashes as Prometheus does.

    honor_labels: the scraped value wins. Otherwise the target's wins and the scraped one is kept
    as `exported_<name>` (prefixed again while that name is taken too).
    """
    labels = dict(scraped)
    for name, value in target:
        if name not in labels:
            labels[name] = value
        elif not honor_labels:
            exported = "exported_" + name
            while exported in labels:
                exported = "exported_" + exported
            labels[exported] = labels[name]
            labels[name] = value
    return labels


def _final_labels(scraped: Labels, target: Labels, options: ProcessOptions) -> Labels | None:
    labels = merge_target_labels(scraped, target, options.honor_labels)
    if options.metric_rules:
        relabeled = relabel(labels, options.metric_rules)
        if relabeled is None:
            return None
        labels = relabeled
    if not labels.get(METRIC_NAME):
        return None
    return tuple(sorted((n, v) for n, v in labels.items() if v))


def report_labels(target: Labels) -> tuple[Labels, ...]:
    return tuple(tuple(sorted([*target, (METRIC_NAME, name)])) for name in REPORT_NAMES)


@dataclass(frozen=True)
class Report:
    up: bool
    duration: float
    scraped: int
    post_relabel: int
    series_added: int

    def values(self) -> tuple[float, ...]:
        return (1.0 if self.up else 0.0, self.duration, self.scraped, self.post_relabel, self.series_added)


def _with_rows(
    batch_series: list[Labels],
    index: npt.NDArray[np.int32],
    stamps: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    rows: Iterable[tuple[Labels, float]],
    ts_ms: int,
    metadata: dict[str, tuple[str, str, str]],
) -> SampleBatch:
    extra = list(rows)
    if not extra:
        return SampleBatch(batch_series, index, stamps, values, metadata)
    base = len(batch_series)
    series = batch_series + [labels for labels, _ in extra]
    return SampleBatch(
        series,
        np.concatenate([index, np.arange(base, base + len(extra), dtype=np.int32)]),
        np.concatenate([stamps, np.full(len(extra), ts_ms, np.int64)]),
        np.concatenate([values, np.array([v for _, v in extra], np.float64)]),
        metadata,
    )


def process_scrape(
    parsed: SampleBatch, target: Labels, options: ProcessOptions, cache: SeriesCache, ts_ms: int
) -> tuple[SampleBatch, int, int]:
    """Stored samples (with staleness markers for vanished series), samples after relabeling, series added.

    Raises `ScrapeFailure` when a limit is passed; the caller then reports the scrape as failed.
    """
    last = cache.last
    if last is not None and parsed.series is last.scraped:  # a body read by `reshape.reuse`
        return _repeat_scrape(parsed, target, last, options, cache, ts_ms)
    ids = list(map(id, parsed.series))
    if last is not None and last.ids == ids:
        return _repeat_scrape(parsed, target, last, options, cache, ts_ms)
    finals = cache.final
    if len(finals) > _CACHE_MAX:
        finals.clear()
    remap = np.empty(len(parsed.series), np.int32)
    out_series: dict[Labels, int] = {}
    for i, scraped in enumerate(parsed.series):
        try:
            final = finals[scraped]
        except KeyError:
            final = finals[scraped] = _final_labels(scraped, target, options)
        if final is None:
            remap[i] = -1
            continue
        if options.label_limit and len(final) > options.label_limit:
            raise ScrapeFailure(
                f"label_limit exceeded: {metric_name(final)} has {len(final)} labels (limit {options.label_limit})"
            )
        remap[i] = out_series.setdefault(final, len(out_series))
    index = remap[parsed.series_index]
    keep = index >= 0
    kept = int(keep.sum())
    if options.sample_limit and kept > options.sample_limit:
        raise ScrapeFailure(f"sample_limit exceeded: {kept} samples after relabeling (limit {options.sample_limit})")
    stamps = parsed.timestamps[keep]
    if not options.honor_timestamps:
        stamps = np.full(kept, ts_ms, np.int64)
    index = index[keep]
    series = list(out_series)
    explicit = stamps != ts_ms
    if explicit.any():
        # Series with their own timestamps get no staleness markers (Prometheus does the same).
        untracked = {series[i] for i in np.unique(index[explicit])}
        seen = set(series) - untracked
    else:
        seen = set(series)
    stale = cache.previous - seen
    added = len(seen - cache.previous)
    cache.previous = seen
    cache.last = None if explicit.any() else _LastScrape(parsed.series, ids, remap, series)
    batch = _with_rows(
        series,
        index.astype(np.int32),
        stamps,
        parsed.values[keep],
        ((labels, STALE_NAN) for labels in stale),
        ts_ms,
        parsed.metadata,
    )
    return batch, kept, added


def _repeat_scrape(
    parsed: SampleBatch, target: Labels, last: _LastScrape, options: ProcessOptions, cache: SeriesCache, ts_ms: int
) -> tuple[SampleBatch, int, int]:
    """The same series as last time: no staleness, nothing added; only the samples are new."""
    index = last.remap[parsed.series_index]
    keep = index >= 0
    kept = len(index) if keep.all() else int(keep.sum())
    if options.sample_limit and kept > options.sample_limit:
        raise ScrapeFailure(f"sample_limit exceeded: {kept} samples after relabeling (limit {options.sample_limit})")
    stamps = parsed.timestamps if kept == len(index) else parsed.timestamps[keep]
    if not options.honor_timestamps:
        stamps = np.full(kept, ts_ms, np.int64)
    elif (stamps != ts_ms).any():
        cache.last = None
        return process_scrape(parsed, target, options, cache, ts_ms)
    values = parsed.values if kept == len(index) else parsed.values[keep]
    batch = SampleBatch(last.series, index if kept == len(index) else index[keep], stamps, values, parsed.metadata)
    return batch, kept, 0


def failed_scrape(cache: SeriesCache, ts_ms: int) -> SampleBatch:
    """A failed scrape stores nothing but staleness markers for every series of the last good one."""
    stale = cache.previous
    cache.previous = set()
    cache.last = None
    return SampleBatch.from_rows([(labels, ts_ms, STALE_NAN) for labels in stale])


def with_report(batch: SampleBatch, cache: SeriesCache, target: Labels, report: Report, ts_ms: int) -> SampleBatch:
    if not cache.report_labels:
        cache.report_labels = report_labels(target)
    rows = zip(cache.report_labels, report.values(), strict=True)
    return _with_rows(batch.series, batch.series_index, batch.timestamps, batch.values, rows, ts_ms, batch.metadata)


def target_gone(cache: SeriesCache, ts_ms: int) -> SampleBatch:
    """A target that is no longer discovered: staleness markers for its series and its report series."""
    rows = [(labels, ts_ms, STALE_NAN) for labels in cache.previous]
    rows += [(labels, ts_ms, STALE_NAN) for labels in cache.report_labels]
    cache.previous = set()
    cache.last = None
    return SampleBatch.from_rows(rows)
