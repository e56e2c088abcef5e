"""Services and groups: checks roll up into services, services into groups; parents give dependencies.

A service depends on its `parents` (other services) and on every service of its group's ancestor
groups. When something a service depends on is down, the alerts of its checks are suppressed (still
recorded). Pure functions over plain data; the state database keeps the definitions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nightowl.health.model import Check, CheckState, State, worst

_NAME = re.compile(r"^[^\x00-\x1f/]{1,200}$")
Overall = Literal["healthy", "degraded", "unhealthy"]


def _valid_name(value: str) -> str:
    value = value.strip()
    if not _NAME.match(value):
        raise ValueError("must be 1 to 200 printable characters without '/'")
    return value


class ServiceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    group: str | None = Field(None, description="Group the service belongs to.")
    parents: list[str] = Field(default_factory=list, description="Services this one depends on.")
    critical: bool = Field(False, description="When down, the platform is unhealthy.")
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _valid_name(value)


class GroupSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    parent: str | None = Field(None, description="Parent group: its services are dependencies of this group's.")
    description: str = ""

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _valid_name(value)


@dataclass
class Topology:
    """Every defined service and group, with where each definition came from (`api` or `config`)."""

    services: dict[str, ServiceSpec] = field(default_factory=dict)
    groups: dict[str, GroupSpec] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    """`service:<name>` / `group:<name>` -> source."""

    def validate_service(self, spec: ServiceSpec) -> None:
        """Raise TopologyError (naming the field) for an unknown group or parent, or a dependency cycle."""
        if spec.group is not None and spec.group not in self.groups:
            raise TopologyError("group", f"no group named {spec.group!r}")
        for parent in spec.parents:
            if parent == spec.name:
                raise TopologyError("parents", "a service cannot depend on itself")
            if parent not in self.services:
                raise TopologyError("parents", f"no service named {parent!r}")
        trial = Topology({**self.services, spec.name: spec}, self.groups)
        if spec.name in trial.dependencies(spec.name):
            raise TopologyError("parents", f"service {spec.name!r} would depend on itself through its parents")

    def validate_group(self, spec: GroupSpec) -> None:
        if spec.parent is None:
            return
        if spec.parent not in self.groups:
            raise TopologyError("parent", f"no group named {spec.parent!r}")
        seen = {spec.name}
        current: str | None = spec.parent
        while current is not None:
            if current in seen:
                raise TopologyError("parent", f"group {spec.name!r} would be its own ancestor")
            seen.add(current)
            current = self.groups[current].parent if current in self.groups else None

    def group_ancestors(self, group: str | None) -> list[str]:
        chain: list[str] = []
        current = self.groups[group].parent if group in self.groups else None
        while current is not None and current not in chain:
            chain.append(current)
            current = self.groups[current].parent if current in self.groups else None
        return chain

    def descendants(self, group: str) -> set[str]:
        """`group` and every group below it."""
        found = {group}
        changed = True
        while changed:
            below = {g.name for g in self.groups.values() if g.parent in found}
            changed = not below <= found
            found |= below
        return found

    def dependencies(self, service: str) -> set[str]:
        """Every service `service` depends on, transitively (parents and services of ancestor groups)."""
        found: set[str] = set()
        pending = [service]
        while pending:
            current = pending.pop()
            spec = self.services.get(current)
            if spec is None:
                continue
            direct = set(spec.parents)
            for group in self.group_ancestors(spec.group):
                direct |= {s.name for s in self.services.values() if s.group == group}
            for name in direct - found:
                found.add(name)
                pending.append(name)
        return found


class TopologyError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def service_states(checks: list[Check], states: dict[str, CheckState]) -> dict[str, State]:
    """The worst state of each service's enabled checks."""
    by_service: dict[str, list[State]] = {}
    for check in checks:
        if check.spec.service and check.spec.enabled:
            state = states[check.id].state if check.id in states else "unknown"
            by_service.setdefault(check.spec.service, []).append(state)
    return {name: worst(found) for name, found in by_service.items()}


def down_dependency(topology: Topology, service: str | None, states: dict[str, State]) -> str | None:
    """The first (by name) service `service` depends on that is down, or None."""
    if service is None:
        return None
    down = sorted(name for name in topology.dependencies(service) if states.get(name) == "down")
    return down[0] if down else None


def overall(states: dict[str, State], critical: set[str], unhealthy_ratio: float) -> Overall:
    """healthy / degraded / unhealthy: unhealthy when a critical service is down or at least
    `unhealthy_ratio` of the known services are; degraded when any service is down or degraded."""
    known = {name: s for name, s in states.items() if s != "unknown"}
    down = [name for name, s in known.items() if s == "down"]
    if any(name in critical for name in down) or (known and len(down) / len(known) >= unhealthy_ratio):
        return "unhealthy"
    if down or any(s == "degraded" for s in known.values()):
        return "degraded"
    return "healthy"
