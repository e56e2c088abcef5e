"""The router in memory: alerts in, aggregation groups per route, flushes with silences and inhibition.

No I/O: the dispatcher persists around it, the simulate endpoint runs it on a virtual clock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from nightowl.routing.alert import Alert, merge
from nightowl.routing.config import RoutingConfig
from nightowl.routing.grouping import AggregationGroup, FlushResult, NotifyRecord, flush, group_key, new_group
from nightowl.routing.inhibit import inhibitors
from nightowl.routing.route import Route
from nightowl.routing.silences import Silence, silenced_by
from nightowl.routing.timeintervals import in_any


@dataclass(frozen=True)
class AlertStatus:
    state: str  # active | suppressed
    silenced_by: list[str]
    inhibited_by: list[str]
    receivers: list[str]


@dataclass
class Router:
    config: RoutingConfig
    alerts: dict[str, Alert] = field(default_factory=dict)
    groups: dict[tuple[str, str], AggregationGroup] = field(default_factory=dict)
    silences: list[Silence] = field(default_factory=list)

    def insert(self, alert: Alert, now: float) -> Alert:
        old = self.alerts.get(alert.fingerprint)
        current = merge(old, alert) if old is not None else alert
        self.alerts[current.fingerprint] = current
        for route in self.config.route.match(current.labels):
            key = (route.id, group_key(route, route.group_labels(current.labels)))
            group = self.groups.get(key)
            if group is None:
                # a resolved alert opens a group too: after a restart its resolved notice may still be owed;
                # the flush sends it only to receivers that were told the alert fired
                self.groups[key] = new_group(route, current, now)
            else:
                group.insert(current, now)
        return current

    def firing(self, now: float) -> list[Alert]:
        return [a for a in self.alerts.values() if not a.resolved(now)]

    def status(self, alert: Alert, now: float) -> AlertStatus:
        silenced = silenced_by(alert, self.silences, now)
        inhibited = inhibitors(alert, self.config.inhibit_rules, self.firing(now)) if not alert.resolved(now) else []
        receivers = list(dict.fromkeys(r.receiver for r in self.config.route.match(alert.labels)))
        state = "suppressed" if silenced or inhibited else "active"
        return AlertStatus(state, silenced, inhibited, receivers)

    def time_muted(self, route: Route, now: float) -> bool:
        intervals = self.config.time_intervals
        if any(in_any(intervals.get(name, []), now) for name in route.mute_time_intervals):
            return True
        active = route.active_time_intervals
        return bool(active) and not any(in_any(intervals.get(name, []), now) for name in active)

    def due(self, now: float) -> list[AggregationGroup]:
        return [g for g in self.groups.values() if g.next_flush <= now]

    def flush(
        self, group: AggregationGroup, now: float, record: NotifyRecord | None, firing: list[Alert] | None = None
    ) -> FlushResult:
        """Flush one group; `firing` (the inhibition sources) may be computed once for many flushes."""
        firing = self.firing(now) if firing is None else firing
        rules = self.config.inhibit_rules

        def muted(alert: Alert) -> bool:
            return bool(silenced_by(alert, self.silences, now)) or bool(inhibitors(alert, rules, firing))

        result = flush(group, now, record, muted, self.time_muted(group.route, now))
        for fp in result.removed:
            group.alerts.pop(fp, None)
        if not group.alerts:
            self.groups.pop((group.route.id, group.key), None)
        return result

    def collect_garbage(self, now: float) -> list[str]:
        """Forget resolved alerts no group holds any more; returns their fingerprints."""
        held = {fp for g in self.groups.values() for fp in g.alerts}
        gone = [fp for fp, a in self.alerts.items() if a.resolved(now) and fp not in held]
        for fp in gone:
            del self.alerts[fp]
        return gone

    def next_wake(self) -> float | None:
        return min((g.next_flush for g in self.groups.values()), default=None)


@dataclass(frozen=True)
class TimedAlert:
    at: float
    alert: Alert


MAX_SIMULATION_STEPS = 100_000


def simulate(
    config: RoutingConfig,
    arrivals: Sequence[TimedAlert],
    silences: Sequence[Silence],
    until: float,
    max_steps: int = MAX_SIMULATION_STEPS,
) -> list[tuple[float, FlushResult]]:
    """Run the router on a virtual clock: which receiver gets which notification when.

    Stops after `max_steps` wake-ups, so a tiny group_interval over a long duration stays cheap.
    """
    router = Router(config, silences=list(silences))
    records: dict[tuple[str, str], NotifyRecord] = {}
    pending = sorted(arrivals, key=lambda t: t.at)
    sent: list[tuple[float, FlushResult]] = []
    now = pending[0].at if pending else until
    steps = 0
    while now <= until and steps < max_steps:
        steps += 1
        while pending and pending[0].at <= now:
            router.insert(pending.pop(0).alert, now)
        for group in sorted(router.due(now), key=lambda g: (g.route.id, g.key)):
            key = (group.key, group.route.receiver)
            result = router.flush(group, now, records.get(key))
            if result.record is not None:
                records[key] = result.record
            if result.notification is not None:
                sent.append((now, result))
        router.collect_garbage(now)
        candidates = [t for t in (router.next_wake(), pending[0].at if pending else None) if t is not None]
        if not candidates:
            break
        now = max(min(candidates), now + 1e-6)
    return sent
