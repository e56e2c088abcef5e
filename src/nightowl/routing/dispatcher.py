"""The dispatcher: the router with its state in the database, fed by receivers and the `alert-dispatch` job.

Alerts and the notification log are stored, so a restart rebuilds the groups and, thanks to the log,
neither repeats nor loses a notification. Each flush stores its log entry and hands its notification
to the sinks (the outbox, escalation) in one transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from sqlalchemy import Connection, Engine, delete, select

from nightowl.core.clock import Clock
from nightowl.core.errors import InvalidInput, NotFound
from nightowl.core.ids import new_id
from nightowl.routing import store, tables
from nightowl.routing.alert import Alert
from nightowl.routing.config import RoutingConfig
from nightowl.routing.grouping import Notification
from nightowl.routing.router import AlertStatus, Router
from nightowl.routing.silences import Silence, validate_silence

log = logging.getLogger(__name__)

NotificationSink = Callable[[Connection, Notification], object]
AlertListener = Callable[[str, Alert], object]
"""Told ("firing" | "resolved", alert) when an alert starts or stops firing (the integration event bus)."""
Wakeup = Callable[[], object]


class Dispatcher:
    def __init__(self, engine: Engine, clock: Clock, config: RoutingConfig) -> None:
        self.engine = engine
        self.clock = clock
        self.config = config
        self.router = Router(config)
        self.sinks: list[NotificationSink] = []
        self.listeners: list[AlertListener] = []
        self.on_due: list[Wakeup] = []
        """Called when received alerts left a group due now (group_wait 0): flush without waiting a tick."""
        self.on_sent: list[Wakeup] = []
        """Called when a flush handed a notification to the sinks: deliver it without waiting a tick."""
        self._firing: set[str] = set()
        self._lock = threading.RLock()

    def load(self) -> None:
        """Rebuild the groups from the stored alerts (after a start or restart)."""
        now = self.clock.now()
        with self.engine.connect() as conn:
            alerts = store.load_alerts(conn)
            silences = store.load_silences(conn)
        with self._lock:
            self.router = Router(self.config, silences=silences)
            for alert in alerts:
                self.router.insert(alert, now)
            self._firing = {a.fingerprint for a in self.router.firing(now)}

    def receive(self, alerts: Sequence[Alert]) -> list[Alert]:
        """Take alerts from a producer (API v2, the rule evaluator); missing ends get resolve_timeout."""
        now = self.clock.now()
        stored: list[Alert] = []
        with self._lock, self.engine.begin() as conn:
            for alert in alerts:
                if alert.ends_at is not None and alert.ends_at < alert.starts_at:
                    raise InvalidInput(f"alert {alert.labels}: endsAt is before startsAt", field="endsAt")
            for alert in alerts:
                ends = alert.ends_at if alert.ends_at is not None else now + self.config.resolve_timeout
                stored.append(self.router.insert(replace(alert, ends_at=ends, updated_at=now), now))
            store.save_alerts(conn, stored)
            wake = self.router.next_wake()
        self._announce(now)
        if wake is not None and wake <= now:
            _call(self.on_due)
        return stored

    def _announce(self, now: float) -> None:
        """Tell the listeners which alerts started or stopped firing since the last look (under the lock, so
        concurrent ticks announce each change once and in order)."""
        with self._lock:
            firing = {a.fingerprint: a for a in self.router.firing(now)}
            started = [a for fp, a in firing.items() if fp not in self._firing]
            stopped = [self.router.alerts[fp] for fp in self._firing - firing.keys() if fp in self.router.alerts]
            self._firing = set(firing)
            for status, changed in (("firing", started), ("resolved", stopped)):
                for alert in changed:
                    for listener in self.listeners:
                        try:
                            listener(status, alert)
                        except Exception:
                            log.exception("alert listener failed", extra={"fingerprint": alert.fingerprint})

    def reload_silences(self) -> None:
        with self.engine.connect() as conn:
            silences = store.load_silences(conn)
        with self._lock:
            self.router.silences = silences

    def tick(self) -> list[Notification]:
        """Flush every due group; run by the `alert-dispatch` job."""
        self.reload_silences()
        now = self.clock.now()
        self._announce(now)
        sent: list[Notification] = []
        with self._lock:
            firing = self.router.firing(now)
            for group in self.router.due(now):
                receiver = group.route.receiver
                snapshot = (group.next_flush, group.has_flushed, dict(group.alerts))
                try:
                    with self.engine.begin() as conn:
                        record = store.load_record(conn, group.key, receiver)
                        result = self.router.flush(group, now, record, firing)
                        if result.record is not None and result.record != record:
                            store.save_record(conn, group.key, receiver, result.record)
                        if result.notification is not None:
                            for sink in self.sinks:
                                sink(conn, result.notification)
                            sent.append(result.notification)
                    if result.notification is not None:
                        _call(self.on_sent)  # committed: delivery may start while later groups flush
                except Exception:
                    # nothing was stored: put the group back as it was, the next tick tries again
                    group.next_flush, group.has_flushed, group.alerts = snapshot
                    self.router.groups[(group.route.id, group.key)] = group
                    log.exception("flushing an alert group failed", extra={"group": group.key})
            gone = self.router.collect_garbage(now)
            if gone:
                with self.engine.begin() as conn:
                    store.delete_alerts(conn, gone)
        if sent:
            log.info("notifications dispatched", extra={"count": len(sent)})
        return sent

    def run(self) -> None:
        """The `alert-dispatch` job."""
        self.tick()

    def prune(self, retention: float) -> None:
        """Drop notification log entries of groups not notified for `retention` seconds, and old silences."""
        cutoff = self.clock.now() - retention
        with self.engine.begin() as conn:
            conn.execute(delete(tables.notify_log).where(tables.notify_log.c.timestamp < cutoff))
            conn.execute(delete(tables.silences).where(tables.silences.c.ends_at < cutoff))

    def groups(self) -> list[tuple[dict[str, str], str, list[tuple[Alert, AlertStatus]]]]:
        """Aggregation groups as `GET /api/v2/alerts/groups` shows them: labels, receiver, alerts."""
        now = self.clock.now()
        with self._lock:
            return [
                (dict(g.labels), g.route.receiver, [(a, self.router.status(a, now)) for a in g.alerts.values()])
                for g in self.router.groups.values()
            ]

    def counts(self) -> dict[str, float]:
        """Alerts by state (firing active, suppressed, resolved awaiting notice), for the metrics endpoint."""
        now = self.clock.now()
        counts = {"active": 0.0, "suppressed": 0.0, "resolved": 0.0}
        for alert, status in self.alerts():
            counts["resolved" if alert.resolved(now) else status.state] += 1
        return counts

    def alerts(self) -> list[tuple[Alert, AlertStatus]]:
        now = self.clock.now()
        with self._lock:
            return [(a, self.router.status(a, now)) for a in self.router.alerts.values()]


def _call(wakeups: list[Wakeup]) -> None:
    for wakeup in wakeups:
        try:
            wakeup()
        except Exception:
            log.exception("dispatcher wake-up failed")


def put_silence(engine: Engine, silence: Silence, now: float) -> Silence:
    """Create a silence, or update one by id; an expired silence is never revived (a new one is made)."""
    validate_silence(silence)
    with engine.begin() as conn:
        existing = None
        if silence.id:
            row = conn.execute(select(tables.silences).where(tables.silences.c.id == silence.id)).mappings().first()
            if row is None:
                raise NotFound(f"silence {silence.id!r} not found", field="id")
            existing = store.row_to_silence(row)
        if existing is None or existing.state(now) == "expired":
            silence = replace(silence, id=new_id())
        if silence.ends_at <= now:
            raise InvalidInput("endsAt must be in the future", field="endsAt")
        silence = replace(silence, updated_at=now)
        store.save_silence(conn, silence)
    return silence


def get_silence(engine: Engine, silence_id: str) -> Silence:
    with engine.connect() as conn:
        row = conn.execute(select(tables.silences).where(tables.silences.c.id == silence_id)).mappings().first()
    if row is None:
        raise NotFound(f"silence {silence_id!r} not found", field="id")
    return store.row_to_silence(row)


def expire_silence(engine: Engine, silence_id: str, now: float) -> Silence:
    silence = get_silence(engine, silence_id)
    if silence.state(now) == "expired":
        return silence
    expired = replace(silence, starts_at=min(silence.starts_at, now), ends_at=now, updated_at=now)
    with engine.begin() as conn:
        store.save_silence(conn, expired)
    return expired


def list_silences(engine: Engine) -> list[Silence]:
    with engine.connect() as conn:
        return store.load_silences(conn)
