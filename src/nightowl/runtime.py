"""The running instance: the components one `nightowl serve` wires together, started and stopped as one."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import Engine

from nightowl import __version__
from nightowl.auth.secrets import SecretBox
from nightowl.config import Settings
from nightowl.core import selfcheck
from nightowl.core.clock import Clock, SystemClock
from nightowl.core.scheduler import Job, Scheduler
from nightowl.core.telemetry import Telemetry
from nightowl.db import migrate
from nightowl.db.engine import check_connection, create_state_engine, pool_stats, run_maintenance
from nightowl.demo.simulation import Platform
from nightowl.ingest.limits import IngestLimits
from nightowl.ingest.pipeline import Ingestor
from nightowl.metrics.api import Storage
from nightowl.metrics.memory import MemoryStorage
from nightowl.scrape.scraper import Scraper
from nightowl.scrape.wiring import build_scraper, load_managed_targets, register_telemetry, scrape_jobs

log = logging.getLogger(__name__)


@dataclass
class Nightowl:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    telemetry: Telemetry = field(default_factory=Telemetry)
    engine: Engine = field(init=False)
    scheduler: Scheduler = field(init=False)
    storage: Storage = field(init=False)
    secrets: SecretBox = field(init=False)
    ingestor: Ingestor = field(init=False)
    scraper: Scraper = field(init=False)
    demo: Platform | None = None
    migrated: bool = False
    started_monotonic: float = 0.0

    def __post_init__(self) -> None:
        self.engine = create_state_engine(self.settings.state_database_url, self.settings.db_pool_size)
        self.scheduler = Scheduler(self.clock)
        self.storage = MemoryStorage()  # replaced by the embedded TSDB (issue #4)
        self.ingestor = Ingestor(
            lambda: self.storage,
            IngestLimits.from_settings(self.settings),
            self.telemetry.registry,
            self.settings.ingest_max_in_flight,
        )
        self.scraper = build_scraper(
            self.settings, self.clock, lambda batch: self.ingestor.append(batch, "scrape", allow_partial=True)
        )
        for job in scrape_jobs(self.scraper):
            self.scheduler.add(job)
        register_telemetry(self.scraper, self.telemetry)
        if self.settings.demo:
            self.demo = Platform(self.clock.now())
        self.scheduler.listeners.append(self._record_job_run)
        self.telemetry.build_info.labels(__version__).set(1)
        self.telemetry.add_callback_gauges(
            "nightowl_db_pool_connections",
            "State database connection pool, by state (size, checkedout, overflow, checkedin).",
            "state",
            lambda: {k: float(v) for k, v in pool_stats(self.engine).items()},
        )

        self.scheduler.add(
            Job(
                "self-health",
                self._record_health,
                interval=30,
                timeout=20,
                run_at_start=True,
                description="Check the database, scheduler and disk space; export nightowl_component_status.",
            )
        )
        self.scheduler.add(
            Job(
                "state-db-maintenance",
                lambda: run_maintenance(self.engine),
                interval=3600,
                timeout=600,
                jitter=60,
                description="Checkpoint the SQLite WAL and refresh query planner statistics.",
            )
        )

    def health(self) -> list[selfcheck.Component]:
        settings = self.settings
        return [
            selfcheck.check_database(self.engine),
            selfcheck.check_scheduler(self.scheduler),
            selfcheck.check_storage(
                settings.data_dir, settings.storage_min_free_bytes, settings.storage_critical_free_bytes
            ),
        ]

    def _record_health(self) -> None:
        for component in self.health():
            self.telemetry.component_status.labels(component.name).set(selfcheck.STATE_VALUES[component.status])

    def _record_job_run(self, name: str, duration: float, error: str | None) -> None:
        self.telemetry.job_runs.labels(name, "failure" if error else "success").inc()
        self.telemetry.job_duration.labels(name).observe(duration)
        self.telemetry.job_last_run.labels(name).set(self.clock.now())

    def prepare(self) -> None:
        """Synchronous start-up work: data dir, database reachable, migrations. Raises ConfigError."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.secrets = SecretBox.from_data_dir(self.settings.data_dir, self.settings.secret_key)
        check_connection(self.engine)
        migrate.upgrade(self.engine)
        load_managed_targets(self.scraper, self.engine)
        self.migrated = True

    async def start(self) -> None:
        self.started_monotonic = self.clock.monotonic()
        self.scheduler.start()
        log.info(
            "nightowl started",
            extra={
                "version": __version__,
                "database": self.engine.dialect.name,
                "jobs": len(self.scheduler.statuses()),
            },
        )

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.scraper.close()
        self.storage.close()
        self.engine.dispose()
