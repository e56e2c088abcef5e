"""The health overview: services with state, latency, last error and uptime; the platform's overall
state; and the suppression rule the runner asks before an alert goes out (maintenance, parent down)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nightowl.core.errors import Conflict, InvalidInput, NotFound
from nightowl.core.ids import new_id
from nightowl.health import maintenance_store, store, topology_store
from nightowl.health.maintenance import (
    Interval,
    MaintenanceSpec,
    MaintenanceWindow,
    active_window,
    covers,
    occurrences,
)
from nightowl.health.model import Check, State, worst
from nightowl.health.runner import CheckRunner
from nightowl.health.topology import (
    GroupSpec,
    Overall,
    ServiceSpec,
    Topology,
    TopologyError,
    down_dependency,
    overall,
    service_states,
)
from nightowl.health.uptime import (
    WINDOWS,
    Segment,
    Uptime,
    clip,
    daily,
    observed_seconds,
    timeline,
    uptime,
    worst_timeline,
)

REPORT_TTL = 10.0


@dataclass
class HealthOverview:
    runner: CheckRunner
    unhealthy_ratio: float = 0.5
    topology: Topology = field(default_factory=Topology)
    windows: list[MaintenanceWindow] = field(default_factory=list)
    _version: int = 0
    _cache: dict[tuple[frozenset[str] | None, int], tuple[tuple[int, int], float, dict[str, Any]]] = field(
        default_factory=dict
    )

    def load(self) -> None:
        self.topology = topology_store.load(self.runner.engine)
        self.windows = maintenance_store.load(self.runner.engine)

    def checks(self) -> list[Check]:
        return sorted(self.runner.checks.values(), key=lambda c: c.spec.name)

    def service_states(self) -> dict[str, State]:
        states = service_states(self.checks(), self.runner.states)
        return {**{name: "unknown" for name in self.topology.services}, **states}

    def suppression(self, check: Check, at: float) -> str | None:
        """Why an alert of `check` at `at` must not notify: a maintenance window or a dependency down."""
        window = active_window(self.windows, check, at)
        if window is not None:
            return f"maintenance window {window.spec.name!r}"
        parent = down_dependency(self.topology, check.spec.service, self.service_states())
        if parent is not None:
            return f"service {parent!r} it depends on is down"
        return None

    def maintenance_for(self, checks: list[Check], start: float, end: float) -> list[Interval]:
        """Periods in [start, end] when a window covers every one of `checks`."""
        found: list[Interval] = []
        for window in self.windows:
            if checks and all(covers(window.spec, c) for c in checks):
                found.extend(occurrences(window.spec, start, end))
        return found

    def in_maintenance(self, checks: list[Check], at: float) -> bool:
        return bool(self.maintenance_for(checks, at, at + 1e-6))

    def timelines(self, checks: list[Check], start: float, end: float) -> dict[str, list[Segment]]:
        changes = store.state_changes(self.runner.engine, [c.id for c in checks], start, end)
        return {cid: timeline(found, start, end) for cid, found in changes.items()}

    def uptimes(self, segments: list[Segment], checks: list[Check], now: float) -> dict[str, float | None]:
        return {label: figure.percent for label, figure in self._uptimes(segments, checks, now).items()}

    def _uptimes(self, segments: list[Segment], checks: list[Check], now: float) -> dict[str, Uptime]:
        result: dict[str, Uptime] = {}
        for label, span in WINDOWS.items():
            start = now - span
            result[label] = uptime(clip(segments, start, now), self.maintenance_for(checks, start, now))
        return result

    def check_uptime(self, check: Check, now: float) -> dict[str, float | None]:
        segments = self.timelines([check], now - WINDOWS["1y"], now)[check.id]
        return self.uptimes(segments, [check], now)

    def services_report(self, now: float, groups: set[str] | None = None, bars: int = 0) -> dict[str, Any]:
        """What `GET /api/v1/health/services` and status pages (`groups`, `bars` daily uptime bars) show.

        Reports are cached for `REPORT_TTL` seconds unless a state or a definition changes: a public
        status page must not recompute a year of uptime for every visitor.
        """
        key = (frozenset(groups) if groups is not None else None, bars)
        version = (self.runner.version, self._version)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == version and now - cached[1] < REPORT_TTL:
            return cached[2]
        report = self._report(now, groups, bars)
        self._cache[key] = (version, now, report)
        return report

    def _report(self, now: float, groups: set[str] | None, bars: int) -> dict[str, Any]:
        checks = [c for c in self.checks() if c.spec.enabled]
        by_service: dict[str, list[Check]] = {name: [] for name in self.topology.services}
        for check in checks:
            if check.spec.service:
                by_service.setdefault(check.spec.service, []).append(check)
        if groups is not None:
            members = {s.name for s in self.topology.services.values() if s.group in groups}
            by_service = {name: found for name, found in by_service.items() if name in members}
        start = now - WINDOWS["1y"]
        check_timelines = self.timelines([c for found in by_service.values() for c in found], start, now)
        states = self.service_states()
        services = []
        for name in sorted(by_service):
            services.append(self._service(name, by_service[name], check_timelines, states, now, bars))
        counted = {s["name"]: s["state"] for s in services if not s["in_maintenance"]}
        critical = {s["name"] for s in services if s["critical"]}
        return {
            "status": self._overall(counted, critical),
            "generated_at": now,
            "services": services,
            "groups": self._groups(services, groups),
        }

    def _overall(self, states: dict[str, State], critical: set[str]) -> Overall:
        return overall(states, critical, self.unhealthy_ratio)

    def _service(
        self,
        name: str,
        checks: list[Check],
        check_timelines: dict[str, list[Segment]],
        states: dict[str, State],
        now: float,
        bars: int,
    ) -> dict[str, Any]:
        spec = self.topology.services.get(name)
        check_states = {c.id: self.runner.state_of(c.id) for c in checks}
        state = worst([s.state for s in check_states.values()])
        latencies = [s.last_latency for s in check_states.values() if s.last_latency is not None]
        failing = sorted(
            (s for s in check_states.values() if s.last_error and s.state != "up"),
            key=lambda s: -(s.last_run_at or 0),
        )
        segments = worst_timeline([check_timelines[c.id] for c in checks], now - WINDOWS["1y"], now)
        figures = self._uptimes(segments, checks, now)
        report: dict[str, Any] = {
            "name": name,
            "group": spec.group if spec else None,
            "description": spec.description if spec else "",
            "critical": spec.critical if spec else False,
            "defined": spec is not None,
            "state": state,
            "latency": max(latencies) if latencies else None,
            "last_error": failing[0].last_error if failing else None,
            "depends_on_down": down_dependency(self.topology, name, states),
            "in_maintenance": self.in_maintenance(checks, now),
            "uptime": {label: figure.percent for label, figure in figures.items()},
            "uptime_observed": {label: observed_seconds(figure) for label, figure in figures.items()},
            "checks": [
                {
                    "id": c.id,
                    "name": c.spec.name,
                    "type": c.spec.type,
                    "state": check_states[c.id].state,
                    "latency": check_states[c.id].last_latency,
                    "last_error": check_states[c.id].last_error,
                    "last_run_at": check_states[c.id].last_run_at,
                }
                for c in checks
            ],
        }
        if bars:
            start = now - bars * 86400
            report["bars"] = daily(clip(segments, start, now), self.maintenance_for(checks, start, now), now, bars)
        return report

    def _groups(self, services: list[dict[str, Any]], only: set[str] | None) -> list[dict[str, Any]]:
        groups = []
        for name in sorted(self.topology.groups):
            if only is not None and name not in only:
                continue
            members = [s for s in services if s["group"] == name]
            groups.append(
                {
                    "name": name,
                    "parent": self.topology.groups[name].parent,
                    "description": self.topology.groups[name].description,
                    "state": worst([s["state"] for s in members]),
                    "services": [s["name"] for s in members],
                }
            )
        return groups

    # Changing services, groups and maintenance windows (API); the database first, then memory.

    def _editable(self, kind: str, name: str) -> None:
        if self.topology.sources.get(f"{kind}:{name}") == "config":
            raise Conflict(f"{kind} {name!r} is defined in the config file; change it there", field="name")

    def put_service(self, spec: ServiceSpec) -> None:
        self._editable("service", spec.name)
        try:
            self.topology.validate_service(spec)
        except TopologyError as exc:
            raise InvalidInput(str(exc), field=exc.field) from None
        topology_store.save_service(self.runner.engine, spec, "api")
        self.topology.services[spec.name] = spec
        self._version += 1
        self.topology.sources[f"service:{spec.name}"] = "api"

    def remove_service(self, name: str) -> None:
        if name not in self.topology.services:
            raise NotFound(f"no service named {name!r}", field="name")
        self._editable("service", name)
        children = sorted(s.name for s in self.topology.services.values() if name in s.parents)
        if children:
            raise Conflict(f"services {', '.join(children)} depend on {name!r}; change them first", field="name")
        topology_store.delete_service(self.runner.engine, name)
        self.topology.services.pop(name)
        self._version += 1
        self.topology.sources.pop(f"service:{name}", None)

    def put_group(self, spec: GroupSpec) -> None:
        self._editable("group", spec.name)
        try:
            self.topology.validate_group(spec)
        except TopologyError as exc:
            raise InvalidInput(str(exc), field=exc.field) from None
        topology_store.save_group(self.runner.engine, spec, "api")
        self.topology.groups[spec.name] = spec
        self._version += 1
        self.topology.sources[f"group:{spec.name}"] = "api"

    def remove_group(self, name: str) -> None:
        if name not in self.topology.groups:
            raise NotFound(f"no group named {name!r}", field="name")
        self._editable("group", name)
        users = sorted(
            [f"service {s.name}" for s in self.topology.services.values() if s.group == name]
            + [f"group {g.name}" for g in self.topology.groups.values() if g.parent == name]
        )
        if users:
            raise Conflict(f"{', '.join(users)} belong to group {name!r}; change them first", field="name")
        topology_store.delete_group(self.runner.engine, name)
        self.topology.groups.pop(name)
        self._version += 1
        self.topology.sources.pop(f"group:{name}", None)

    def add_window(self, spec: MaintenanceSpec) -> MaintenanceWindow:
        window = MaintenanceWindow(id=new_id(), spec=spec, created_at=self.runner.clock.now())
        maintenance_store.insert_window(self.runner.engine, window)
        self.windows.append(window)
        self._version += 1
        return window

    def remove_window(self, window_id: str) -> None:
        maintenance_store.delete_window(self.runner.engine, window_id)
        self.windows = [w for w in self.windows if w.id != window_id]
        self._version += 1
