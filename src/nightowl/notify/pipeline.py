"""The alert delivery pipeline of one instance: routing config, dispatcher, outbox and their jobs."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from nightowl.auth.secrets import SecretBox
from nightowl.config import Settings
from nightowl.core.clock import Clock
from nightowl.core.errors import ConfigError
from nightowl.core.scheduler import Job, Scheduler
from nightowl.core.telemetry import Telemetry
from nightowl.notify import store
from nightowl.notify.metrics import DeliveryMetrics
from nightowl.notify.outbox import Outbox, OutboxSettings
from nightowl.outbound import OutboundPolicy
from nightowl.routing.config import RoutingConfig, default_config, load_alertmanager_config
from nightowl.routing.dispatcher import Dispatcher
from nightowl.routing.escalations import Escalations

log = logging.getLogger(__name__)

FILE_SOURCE = "alertmanager.yml"
NOTIFY_LOG_RETENTION = 5 * 86400.0  # Alertmanager keeps its notification log 120h


@dataclass
class Pipeline:
    config: RoutingConfig
    dispatcher: Dispatcher
    outbox: Outbox
    escalations: Escalations
    clock: Clock
    box: SecretBox
    config_path: Path | None = None
    last_reload_error: str = ""
    _signature: tuple[float, int] | None = field(default=None, repr=False)

    def jobs(self) -> list[Job]:
        watch = (
            [
                Job(
                    "alertmanager-config-watch",
                    self.check_config_file,
                    interval=10,
                    timeout=30,
                    description="Reload alertmanager_config when the file changes.",
                )
            ]
            if self.config_path is not None
            else []
        )
        return [
            *watch,
            Job(
                "alert-dispatch",
                self.dispatcher.run,
                interval=1,
                timeout=30,
                description="Flush due alert groups: silences, inhibition, grouping timers -> outbox.",
            ),
            Job(
                "notify-outbox",
                self.outbox.run,
                interval=1,
                timeout=30,
                description="Send due notifications from the outbox, one worker per channel, with retries.",
            ),
            Job(
                "escalations",
                self.escalations.run,
                interval=5,
                timeout=30,
                description="Start, advance and close escalations of firing alerts until acknowledged.",
            ),
            Job(
                "notify-prune",
                self.prune,
                interval=3600,
                timeout=300,
                jitter=60,
                description="Forget old delivery log entries, notification log entries and expired silences.",
            ),
        ]

    def wake_with(self, scheduler: Scheduler) -> None:
        """Alerts that are due at once (group_wait 0) are flushed and delivered right away, not at the next
        one-second tick of each job: the rule-to-notification latency is the work, not the polling."""
        self.dispatcher.on_due.append(lambda: scheduler.trigger("alert-dispatch"))
        self.dispatcher.on_sent.append(lambda: scheduler.trigger("notify-outbox"))

    def prune(self) -> None:
        self.outbox.prune()
        self.dispatcher.prune(max(self.outbox.settings.log_retention, NOTIFY_LOG_RETENTION))

    def start(self) -> None:
        for note in self.config.unsupported:
            log.warning("alertmanager_config: %s", note)
        self._signature = self._file_signature()
        self.sync_file_channels()
        self.dispatcher.load()
        self.escalations.seed()

    def reload(self) -> None:
        """Read alertmanager_config again (SIGHUP, POST /-/reload, a changed file), as Alertmanager does.

        A broken file keeps the running configuration and raises a ConfigError naming the problem. Groups
        are rebuilt from the stored alerts and the notification log, so nothing is notified twice.
        """
        if self.config_path is None:
            return
        self._signature = self._file_signature()
        try:
            config = load_alertmanager_config(self.config_path)
        except ConfigError as exc:
            self.last_reload_error = str(exc)
            log.error("alertmanager_config not reloaded: %s", exc)
            raise
        self.last_reload_error = ""
        for note in config.unsupported:
            log.warning("alertmanager_config: %s", note)
        self.config = config
        self.dispatcher.config = config
        self.sync_file_channels()
        self.dispatcher.load()
        log.info("alertmanager_config reloaded", extra={"path": str(self.config_path)})

    def check_config_file(self) -> None:
        """The watcher job: reload when the file changed; a broken file is logged and retried on the next change."""
        if self._file_signature() != self._signature:
            try:
                self.reload()
            except ConfigError:
                pass

    def _file_signature(self) -> tuple[float, int] | None:
        if self.config_path is None:
            return None
        try:
            stat = self.config_path.stat()
        except OSError:
            return None
        return (stat.st_mtime, stat.st_size)

    async def stop(self) -> None:
        await self.outbox.close()

    def sync_file_channels(self) -> None:
        """Receivers of alertmanager.yml become stored channels (read-only through the API)."""
        now = self.clock.now()
        wanted = {spec.id: spec for spec in self.config.channels}
        with self.dispatcher.engine.begin() as conn:
            for existing in store.list_channels(conn):
                if existing.source == FILE_SOURCE and existing.id not in wanted:
                    store.delete_channel(conn, existing.id)
            for spec in wanted.values():
                record = store.ChannelRecord(
                    id=spec.id,
                    name=f"{spec.receiver} {spec.kind} #{spec.index}",
                    kind=spec.kind,
                    receiver=spec.receiver,
                    config=store.prepare_config(spec.kind, spec.config, self.box),
                    min_severity=None,
                    rate_limit=None,
                    send_resolved=spec.send_resolved,
                    enabled=True,
                    source=FILE_SOURCE,
                    updated_at=now,
                )
                store.save_channel(conn, record)


def build_pipeline(
    settings: Settings,
    engine: Engine,
    clock: Clock,
    box: SecretBox,
    telemetry: Telemetry | None = None,
    policy: OutboundPolicy | None = None,
) -> Pipeline:
    path = settings.alertmanager_config
    config = load_alertmanager_config(path) if path else default_config()
    outbox = Outbox(
        engine,
        clock,
        box,
        OutboxSettings(
            timeout=settings.notify_timeout,
            max_age=settings.notify_max_age,
            external_url=settings.external_url,
        ),
        metrics=DeliveryMetrics(telemetry) if telemetry is not None else None,
        policy=policy or OutboundPolicy.from_settings(settings),
    )
    dispatcher = Dispatcher(engine, clock, config)
    dispatcher.sinks.append(outbox.enqueue_notification)
    escalations = Escalations(engine, clock, dispatcher.alerts)
    escalations.sinks.append(outbox.enqueue_notice)
    if telemetry is not None:
        telemetry.add_callback_gauges(
            "nightowl_alerts", "Alerts held by the router, by state.", "state", dispatcher.counts
        )
        telemetry.add_callback_gauges(
            "nightowl_outbox_notifications", "Notifications in the outbox, by status.", "status", outbox.counts
        )
        telemetry.add_callback_gauge(
            "nightowl_outbox_oldest_pending_age_seconds",
            "Age of the oldest notification still waiting for delivery (0: none waits).",
            outbox.oldest_pending_age,
        )
    return Pipeline(config, dispatcher, outbox, escalations, clock, box, config_path=path)
