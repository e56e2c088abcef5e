"""Aggregation groups and their timers, as a pure state machine: groups + now -> notifications due.

A group is born with the first alert routed to it and waits `group_wait` before its first
notification; after that it is flushed every `group_interval`. A flush notifies only when something
changed since the last notification to that receiver (new firing alerts, newly resolved ones) or
`repeat_interval` has passed, which is Alertmanager's notification-log dedup.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from nightowl.routing.alert import Alert, format_labels
from nightowl.routing.route import Route


@dataclass(frozen=True)
class NotifyRecord:
    """What a receiver was last told about a group: the notification log entry."""

    firing: frozenset[str]
    resolved: frozenset[str]
    timestamp: float


@dataclass(frozen=True)
class Notification:
    """One message due to one receiver about one group."""

    receiver: str
    route_id: str
    group_key: str
    group_labels: dict[str, str]
    firing: tuple[Alert, ...]
    resolved: tuple[Alert, ...]
    at: float

    @property
    def status(self) -> str:
        return "firing" if self.firing else "resolved"

    @property
    def alerts(self) -> tuple[Alert, ...]:
        return self.firing + self.resolved


@dataclass
class AggregationGroup:
    route: Route
    labels: dict[str, str]
    created_at: float
    next_flush: float
    alerts: dict[str, Alert] = field(default_factory=dict)
    has_flushed: bool = False

    @property
    def key(self) -> str:
        return group_key(self.route, self.labels)

    def insert(self, alert: Alert, now: float) -> None:
        self.alerts[alert.fingerprint] = alert
        # An alert that started longer than group_wait ago (e.g. after a restart) need not wait again.
        if not self.has_flushed and alert.starts_at + self.route.group_wait <= now:
            self.next_flush = min(self.next_flush, now)


def group_key(route: Route, labels: dict[str, str]) -> str:
    """`<route key>:<group labels>`, Alertmanager's groupKey (webhook payload, PagerDuty dedup)."""
    return f"{route.key}:{format_labels(labels)}"


def new_group(route: Route, alert: Alert, now: float) -> AggregationGroup:
    group = AggregationGroup(
        route=route, labels=route.group_labels(alert.labels), created_at=now, next_flush=now + route.group_wait
    )
    group.insert(alert, now)
    return group


def needs_update(
    record: NotifyRecord | None,
    firing: frozenset[str],
    resolved: frozenset[str],
    now: float,
    repeat_interval: float,
    send_resolved: bool = True,
) -> bool:
    """Whether a flush must notify, given what the receiver was told last (Alertmanager's DedupStage)."""
    if record is None:
        return bool(firing)
    if not firing <= record.firing:
        return True
    if not firing:
        # Everything resolved: tell the receiver only if it had been told something was firing.
        return bool(record.firing)
    if send_resolved and not resolved <= record.resolved:
        return True
    return record.timestamp <= now - repeat_interval


MuteCheck = Callable[[Alert], bool]


@dataclass(frozen=True)
class FlushResult:
    notification: Notification | None
    record: NotifyRecord | None
    removed: tuple[str, ...]


def flush(
    group: AggregationGroup,
    now: float,
    record: NotifyRecord | None,
    muted: MuteCheck,
    time_muted: bool = False,
) -> FlushResult:
    """Decide one flush of one group. The caller applies the result (stores the record, drops alerts).

    Resolved notices are never lost: a resolved alert the receiver was told was firing is always
    sent, even if it is silenced or inhibited now; while the route is time-muted it is kept until later.
    """
    group.has_flushed = True
    group.next_flush = now + group.route.group_interval
    told_firing = record.firing if record else frozenset()
    firing: list[Alert] = []
    resolved: list[Alert] = []
    for alert in sorted(group.alerts.values(), key=lambda a: (a.starts_at, a.fingerprint)):
        if alert.resolved(now):
            if alert.fingerprint in told_firing or not muted(alert):
                resolved.append(alert)
        elif not muted(alert):
            firing.append(alert)
    resolved_now = tuple(a.fingerprint for a in group.alerts.values() if a.resolved(now))
    if time_muted:
        keep = told_firing
        return FlushResult(None, record, tuple(fp for fp in resolved_now if fp not in keep))
    firing_fps = frozenset(a.fingerprint for a in firing)
    resolved_fps = frozenset(a.fingerprint for a in resolved)
    # A muted alert the receiver knows as firing stays "known firing", so its resolved notice comes later.
    still_known = frozenset(
        fp for fp, a in group.alerts.items() if fp in told_firing and not a.resolved(now) and fp not in firing_fps
    )
    known_firing = firing_fps | still_known
    if not needs_update(record, known_firing, resolved_fps, now, group.route.repeat_interval):
        return FlushResult(None, record, resolved_now)
    if not firing and not resolved:
        return FlushResult(None, record, resolved_now)
    notification = Notification(
        receiver=group.route.receiver,
        route_id=group.route.id,
        group_key=group.key,
        group_labels=dict(group.labels),
        firing=tuple(firing),
        resolved=tuple(resolved),
        at=now,
    )
    return FlushResult(notification, NotifyRecord(known_firing, resolved_fps, now), resolved_now)


def next_wake(groups: Iterable[AggregationGroup]) -> float | None:
    return min((g.next_flush for g in groups), default=None)
