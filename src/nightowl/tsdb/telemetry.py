"""The TSDB's own metrics on Nightowl's registry: series, head, WAL, compaction, retention, appends."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter

from nightowl.core.telemetry import Telemetry


class TSDBMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.appended = Counter(
            "nightowl_tsdb_samples_appended_total", "Samples stored by the TSDB.", registry=registry
        )
        self.rejected = Counter(
            "nightowl_tsdb_samples_rejected_total",
            "Samples refused by the TSDB, by reason (out_of_order, too_old, duplicate_sample_for_timestamp).",
            ["reason"],
            registry=registry,
        )
        self.compactions = Counter(
            "nightowl_tsdb_compactions_total", "Blocks written by merging blocks of one window.", registry=registry
        )
        self.retention_runs = Counter(
            "nightowl_tsdb_retention_runs_total", "Retention passes (time, size, overrides).", registry=registry
        )
        self.retention_dropped = Counter(
            "nightowl_tsdb_retention_blocks_dropped_total",
            "Blocks deleted or rewritten by retention.",
            registry=registry,
        )
        self.head_flushes = Counter(
            "nightowl_tsdb_head_flushes_total", "Head contents written out as blocks.", registry=registry
        )

    @classmethod
    def on(cls, telemetry: Telemetry, gauges: Callable[[], dict[str, float]]) -> TSDBMetrics:
        """Counters on the instance's registry plus gauges read at scrape time (`gauges()` by name)."""
        metrics = cls(telemetry.registry)
        telemetry.add_callback_gauges(
            "nightowl_tsdb_status",
            "TSDB state by quantity: active_series, head_samples, head_bytes, wal_bytes, blocks, block_bytes, "
            "page_cache_bytes, page_cache_hits, page_cache_misses (decoded pages kept for queries).",
            "quantity",
            gauges,
        )
        return metrics
