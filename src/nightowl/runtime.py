"""The running instance: the components one `nightowl serve` wires together, started and stopped as one."""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field

from sqlalchemy import Engine

from nightowl import __version__
from nightowl.alerting.evaluator import Evaluator
from nightowl.alerting.manager import RuleManager
from nightowl.auth.gate import Gate
from nightowl.auth.secrets import SecretBox
from nightowl.auth.sessions import TokenSigner
from nightowl.auth.users import ensure_first_admin
from nightowl.config import Settings
from nightowl.core import selfcheck
from nightowl.core.clock import Clock, SystemClock
from nightowl.core.errors import ConfigError
from nightowl.core.scheduler import Job, Scheduler
from nightowl.core.telemetry import Telemetry
from nightowl.db import migrate
from nightowl.db.engine import check_connection, create_state_engine, pool_stats, run_maintenance
from nightowl.demo.catalog import RULE_FILE as DEMO_RULE_FILE
from nightowl.demo.checks import demo_checks, demo_services
from nightowl.demo.simulation import Platform
from nightowl.health import manage, topology_store
from nightowl.health import store as health_store
from nightowl.health.overview import HealthOverview
from nightowl.health.runner import TICK, CheckRunner
from nightowl.ingest.limits import IngestLimits
from nightowl.ingest.pipeline import Ingestor, ProtocolAppender
from nightowl.integrations.hub import Hub, build_hub
from nightowl.metrics.api import LiveQuerier, QueryEngine, Storage
from nightowl.metrics.embedded import open_tsdb, tsdb_jobs
from nightowl.metrics.memory import MemoryStorage
from nightowl.metrics.remote import RemoteConfig, RemoteQueryEngine, RemoteStorage
from nightowl.notify.graph import AlertGraphs
from nightowl.notify.pipeline import Pipeline, build_pipeline
from nightowl.promql.engine import EngineLimits, PromQLEngine
from nightowl.routing.dispatcher import put_silence
from nightowl.routing.matchers import Matcher
from nightowl.routing.silences import Silence
from nightowl.scrape.scraper import Scraper
from nightowl.scrape.wiring import build_scraper, load_managed_targets, register_telemetry, scrape_jobs

log = logging.getLogger(__name__)


NO_SIGNAL_HANDLING = (NotImplementedError, RuntimeError, AttributeError, ValueError)
"""What asyncio raises where a loop cannot take signal handlers: Windows loops, a loop outside the main
thread (tests, embedding), platforms without SIGHUP."""


@dataclass
class Nightowl:
    settings: Settings
    clock: Clock = field(default_factory=SystemClock)
    telemetry: Telemetry = field(default_factory=Telemetry)
    engine: Engine = field(init=False)
    scheduler: Scheduler = field(init=False)
    storage: Storage = field(init=False)
    query_engine: QueryEngine = field(init=False)
    secrets: SecretBox = field(init=False)
    gate: Gate = field(init=False)
    ingestor: Ingestor = field(init=False)
    checks: CheckRunner = field(init=False)
    overview: HealthOverview = field(init=False)
    pipeline: Pipeline = field(init=False)
    scraper: Scraper = field(init=False)
    demo: Platform | None = None
    integrations: Hub = field(init=False)
    rules: RuleManager = field(init=False)
    migrated: bool = False
    started_monotonic: float = 0.0

    def __post_init__(self) -> None:
        self.engine = create_state_engine(self.settings.state_database_url, self.settings.db_pool_size)
        self.scheduler = Scheduler(self.clock)
        self.storage = MemoryStorage()  # the embedded TSDB replaces it in prepare() (metrics_storage=tsdb)
        self.query_engine = PromQLEngine(
            LiveQuerier(lambda: self.storage),
            EngineLimits(
                lookback_ms=round(self.settings.lookback_delta * 1000),
                max_samples=self.settings.query_max_samples,
                max_series=self.settings.query_max_series,
                timeout_s=self.settings.query_timeout,
                max_length=self.settings.query_max_length,
            ),
        )
        self.ingestor = Ingestor(
            lambda: self.storage,
            IngestLimits.from_settings(self.settings),
            self.telemetry.registry,
            self.settings.ingest_max_in_flight,
        )
        if self.settings.metrics_url:
            remote = RemoteStorage(RemoteConfig.from_settings(self.settings), registry=self.telemetry.registry)
            self.storage, self.query_engine = remote, RemoteQueryEngine(remote.api)
        self.scraper = build_scraper(
            self.settings, self.clock, lambda batch: self.ingestor.append(batch, "scrape", allow_partial=True)
        )
        for job in scrape_jobs(self.scraper):
            self.scheduler.add(job)
        register_telemetry(self.scraper, self.telemetry)
        if self.settings.demo:
            self.demo = Platform(self.clock.now(), seed=self.settings.demo_seed)
        self.scheduler.listeners.append(self._record_job_run)
        self.checks = CheckRunner(
            self.engine,
            ProtocolAppender(self.ingestor, "checks"),
            self.clock,
            max_concurrency=self.settings.health_max_concurrency,
        )
        self.overview = HealthOverview(self.checks, unhealthy_ratio=self.settings.health_unhealthy_ratio)
        self.checks.suppression = self.overview.suppression
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

        self.scheduler.add(
            Job(
                "health-checks",
                self.checks.tick,
                interval=TICK,
                timeout=30,
                description="Start the health checks that are due, judge heartbeats, record results and states.",
            )
        )

        self.scheduler.add(
            Job(
                "health-retention",
                self._prune_health_transitions,
                interval=86400,
                timeout=600,
                jitter=600,
                description="Delete health-check state transitions older than 400 days.",
            )
        )

    def health(self) -> list[selfcheck.Component]:
        settings = self.settings
        components = [
            selfcheck.check_database(self.engine),
            selfcheck.check_scheduler(self.scheduler),
            selfcheck.check_storage(
                settings.data_dir, settings.storage_min_free_bytes, settings.storage_critical_free_bytes
            ),
        ]
        if isinstance(self.storage, RemoteStorage):
            components.append(self.storage.health())
        return components

    def _prune_health_transitions(self) -> None:
        health_store.prune_transitions(self.engine, self.clock.now())

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
        signer = TokenSigner(
            self.secrets.derive("jwt"), self.settings.access_token_ttl, self.settings.refresh_token_ttl
        )
        self.gate = Gate(self.settings, self.engine, self.clock, signer)
        for job in self.gate.jobs():
            self.scheduler.remove(job.name)
            self.scheduler.add(job)
        ensure_first_admin(self.engine, self.clock, self.settings)
        self.checks.secrets = self.secrets
        services, checks = list(self.settings.services), list(self.settings.checks)
        if self.settings.demo:
            services += demo_services()
            checks += demo_checks(self.settings)
        topology_store.sync_config(self.engine, self.settings.groups, services)
        manage.sync_config(self.checks, checks)
        self.checks.load()
        self.overview.load()
        load_managed_targets(self.scraper, self.engine)
        self.migrated = True
        if self.settings.metrics_storage == "tsdb" and not self.settings.metrics_url:
            tsdb = open_tsdb(self.settings, self.clock, self.telemetry)
            self.storage = tsdb
            for job in tsdb_jobs(tsdb, self.clock):
                self.scheduler.add(job)
        self.pipeline = build_pipeline(self.settings, self.engine, self.clock, self.secrets, self.telemetry)
        for job in self.pipeline.jobs():
            self.scheduler.add(job)
        self.pipeline.wake_with(self.scheduler)
        self.integrations = build_hub(
            self.engine,
            self.clock,
            self.secrets,
            self.pipeline.outbox.client,
            self.telemetry,
            self.scheduler,
            self.settings.data_dir,
            self.settings.notify_timeout,
        )
        self.ingestor.listeners.append(self.integrations.on_samples)
        self.checks.events.subscribe(self.integrations.on_check_event)
        self.pipeline.outbox.graphs = AlertGraphs(lambda: self.query_engine, self.clock).render
        self.pipeline.dispatcher.listeners.append(self.integrations.on_alert)
        self.pipeline.escalations.ack_listeners.append(self.integrations.on_acknowledged)
        for job in self.integrations.jobs():
            self.scheduler.add(job)
        self.rules = self._rule_manager()
        for job in self.rules.jobs():
            self.scheduler.add(job)
        self.rules.reload()

    def _rule_manager(self) -> RuleManager:
        evaluator = Evaluator(
            engine=self.engine,
            clock=self.clock,
            query_engine=lambda: self.query_engine,
            append=lambda batch: self.ingestor.append(batch, "rules"),
            dispatch=lambda alerts: self.pipeline.dispatcher.receive(alerts),
            acknowledge_escalation=lambda fp, by: self.pipeline.escalations.acknowledge(fp, by),
            silence=self._snooze_silence,
            default_interval=self.settings.rules_evaluation_interval,
            external_url=self.settings.external_url,
        )
        return RuleManager(
            evaluator,
            self.scheduler,
            self.engine,
            self.clock,
            [*self.settings.rule_files, *([str(DEMO_RULE_FILE)] if self.settings.demo else [])],
            self.settings.alert_history_retention,
        )

    async def start(self) -> None:
        self.started_monotonic = self.clock.monotonic()
        self.pipeline.start()
        self.scheduler.start()
        self._watch_sighup()
        if isinstance(self.storage, RemoteStorage):
            self.storage.start()
        log.info(
            "nightowl started",
            extra={
                "version": __version__,
                "database": self.engine.dialect.name,
                "jobs": len(self.scheduler.statuses()),
            },
        )

    def _snooze_silence(self, labels: dict[str, str], until: float, by: str, note: str) -> str:
        """A snoozed alert is muted by a silence on exactly its labels (visible in /api/v2/silences)."""
        now = self.clock.now()
        matchers = tuple(Matcher(name, "=", value) for name, value in sorted(labels.items()))
        silence = put_silence(self.engine, Silence("", matchers, now, until, by, note), now)
        self.pipeline.dispatcher.reload_silences()
        return silence.id

    def reload_configuration(self) -> list[str]:
        """Re-read the rule files and alertmanager_config (SIGHUP, POST /-/reload); returns what failed.

        What fails keeps running with its previous configuration.
        """
        errors: list[str] = []
        self.rules.reload()
        if self.rules.last_error:
            errors.append(f"rule files: {self.rules.last_error}")
        try:
            self.pipeline.reload()
        except ConfigError as exc:
            errors.append(str(exc))
        return errors

    def _watch_sighup(self) -> None:
        """SIGHUP reloads rule files and alertmanager_config, as it does for Prometheus and Alertmanager."""
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self.reload_configuration)
        except NO_SIGNAL_HANDLING:
            log.debug("SIGHUP reload not available here")

    async def stop(self) -> None:
        try:
            asyncio.get_running_loop().remove_signal_handler(signal.SIGHUP)
        except NO_SIGNAL_HANDLING:
            pass
        await self.scheduler.stop()
        await asyncio.to_thread(self.rules.close)
        await self.checks.close()
        await self.pipeline.stop()
        await self.scraper.close()
        self.storage.close()
        self.engine.dispose()
