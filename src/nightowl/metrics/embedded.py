"""The embedded metrics backend: Nightowl's TSDB in `data_dir/tsdb`, its settings and its scheduler jobs."""

from __future__ import annotations

from nightowl.config import Settings
from nightowl.core.clock import Clock
from nightowl.core.scheduler import Job
from nightowl.core.telemetry import Telemetry
from nightowl.tsdb.db import TSDB
from nightowl.tsdb.maintenance import compact, flush_head
from nightowl.tsdb.options import RetentionOverride, TSDBOptions, parse_duration_ms, parse_selector
from nightowl.tsdb.pagecache import PAGE_CACHE
from nightowl.tsdb.retention import apply_retention
from nightowl.tsdb.telemetry import TSDBMetrics

HEAD_FLUSH_AGE_S = 1800.0


def tsdb_options(settings: Settings) -> TSDBOptions:
    overrides = tuple(
        RetentionOverride(
            parse_selector(o.match),
            parse_duration_ms(o.retention),
            parse_duration_ms(o.tier_retention) if o.tier_retention else None,
        )
        for o in settings.tsdb_retention_overrides
    )
    return TSDBOptions(
        retention_raw_ms=parse_duration_ms(settings.tsdb_retention),
        retention_tiers_ms=parse_duration_ms(settings.tsdb_tier_retention),
        retention_size_bytes=settings.tsdb_retention_size_bytes,
        out_of_order_window_ms=parse_duration_ms(settings.tsdb_out_of_order_window),
        block_ms=parse_duration_ms(settings.tsdb_block_duration),
        head_max_samples=settings.tsdb_head_max_samples,
        fsync=settings.tsdb_wal_fsync,
        fsync_interval_s=settings.tsdb_wal_fsync_interval,
        tiers_ms=tuple(parse_duration_ms(t) for t in settings.tsdb_tiers),
        auto_downsampling=settings.tsdb_auto_downsampling,
        overrides=overrides,
    )


def open_tsdb(settings: Settings, clock: Clock, telemetry: Telemetry) -> TSDB:
    """Open (replaying the WAL) the TSDB of this data dir, its metrics registered on `telemetry`."""
    holder: list[TSDB] = []
    metrics = TSDBMetrics.on(telemetry, lambda: {**holder[0].status(), **PAGE_CACHE.status()} if holder else {})
    PAGE_CACHE.resize(settings.query_page_cache_bytes)
    db = TSDB(settings.data_dir / "tsdb", tsdb_options(settings), clock, metrics)
    holder.append(db)
    return db


class _HeadFlush:
    """Write the head out once it holds data older than `HEAD_FLUSH_AGE_S`, so WAL replay stays short."""

    def __init__(self, db: TSDB, clock: Clock) -> None:
        self.db, self.clock = db, clock
        self.last = clock.now()

    def __call__(self) -> None:
        if self.db.head.samples and self.clock.now() - self.last >= HEAD_FLUSH_AGE_S:
            flush_head(self.db)
            self.last = self.clock.now()


def _discard(_result: object) -> None:
    """Jobs return nothing; the counts these functions return are for tests and logs."""


def tsdb_jobs(db: TSDB, clock: Clock) -> list[Job]:
    jobs = [
        Job(
            "tsdb-head-flush",
            _HeadFlush(db, clock),
            interval=60,
            timeout=600,
            description=f"Write the TSDB head out as blocks every {HEAD_FLUSH_AGE_S / 60:.0f} min (bounds WAL replay).",
        ),
        Job(
            "tsdb-compaction",
            lambda: _discard(compact(db)),
            interval=300,
            timeout=1800,
            jitter=30,
            description="Merge each closed TSDB time window's blocks into one and build its downsampled tiers.",
        ),
        Job(
            "tsdb-retention",
            lambda: _discard(apply_retention(db)),
            interval=3600,
            timeout=1800,
            jitter=60,
            run_at_start=True,
            description="Drop TSDB blocks past retention (time, size, per-metric overrides).",
        ),
    ]
    if db.options.fsync == "interval":
        jobs.append(
            Job(
                "tsdb-wal-fsync",
                db.sync_wal,
                interval=db.options.fsync_interval_s,
                timeout=60,
                description="fsync the TSDB write-ahead log (the power-loss window of the `interval` policy).",
            )
        )
    return jobs
