"""Services and groups in the state database; config-file ones are synced at start and read-only,
the demo's are added at start and the API may change them."""

from __future__ import annotations

import json

from sqlalchemy import Engine, delete, insert, select, update

from nightowl.core.errors import ConfigError
from nightowl.health.tables import health_groups, health_services
from nightowl.health.topology import GroupSpec, ServiceSpec, Topology, TopologyError


def load(engine: Engine) -> Topology:
    topology = Topology()
    with engine.connect() as conn:
        for row in conn.execute(select(health_groups)).mappings():
            topology.groups[row["name"]] = GroupSpec(
                name=row["name"], parent=row["parent"], description=row["description"]
            )
            topology.sources[f"group:{row['name']}"] = row["source"]
        for row in conn.execute(select(health_services)).mappings():
            topology.services[row["name"]] = ServiceSpec(
                name=row["name"],
                group=row["group_name"],
                parents=json.loads(row["parents"]),
                critical=row["critical"],
                description=row["description"],
            )
            topology.sources[f"service:{row['name']}"] = row["source"]
    return topology


def save_service(engine: Engine, spec: ServiceSpec, source: str) -> None:
    values = {
        "group_name": spec.group,
        "parents": json.dumps(spec.parents),
        "critical": spec.critical,
        "description": spec.description,
        "source": source,
    }
    with engine.begin() as conn:
        where = health_services.c.name == spec.name
        if conn.execute(update(health_services).where(where).values(**values)).rowcount == 0:
            conn.execute(insert(health_services).values(name=spec.name, **values))


def save_group(engine: Engine, spec: GroupSpec, source: str) -> None:
    values = {"parent": spec.parent, "description": spec.description, "source": source}
    with engine.begin() as conn:
        where = health_groups.c.name == spec.name
        if conn.execute(update(health_groups).where(where).values(**values)).rowcount == 0:
            conn.execute(insert(health_groups).values(name=spec.name, **values))


def delete_service(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(health_services).where(health_services.c.name == name))


def delete_group(engine: Engine, name: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(health_groups).where(health_groups.c.name == name))


def sync_config(engine: Engine, groups: list[GroupSpec], services: list[ServiceSpec]) -> None:
    """Make config-file groups and services in the database match the config; API-made ones stay."""
    current = load(engine)
    for kind, specs, existing in (("group", groups, current.groups), ("service", services, current.services)):
        wanted = {s.name for s in specs}
        for name in existing:
            if current.sources.get(f"{kind}:{name}") == "config" and name not in wanted:
                (delete_group if kind == "group" else delete_service)(engine, name)
                if kind == "group":
                    current.groups.pop(name)
                else:
                    current.services.pop(name)
        for spec in specs:
            if current.sources.get(f"{kind}:{spec.name}") == "api":
                raise ConfigError(f"{kind}s: {spec.name!r} is also the name of a {kind} created through the API")
    trial = Topology()
    try:
        for group in _parents_first(groups):
            trial.validate_group(group)
            trial.groups[group.name] = group
        trial.groups.update({g: s for g, s in current.groups.items() if g not in trial.groups})
        for service in _services_in_order(services):
            trial.validate_service(service)
            trial.services[service.name] = service
    except TopologyError as exc:
        raise ConfigError(f"invalid services/groups in the config file: {exc.field}: {exc}") from None
    for group in groups:
        save_group(engine, group, "config")
    for service in services:
        save_service(engine, service, "config")


def add_missing(engine: Engine, groups: list[GroupSpec], services: list[ServiceSpec], source: str) -> None:
    """Store the groups and services not stored yet (the demo's), as `source`: the API may change them,
    and a changed one is kept as changed (it becomes the API's)."""
    current = load(engine)
    for group in groups:
        if group.name not in current.groups:
            save_group(engine, group, source)
    for service in services:
        if service.name not in current.services:
            save_service(engine, service, source)


def forget(engine: Engine, source: str) -> None:
    """Drop the unchanged services of `source` (the demo's, once `--demo` is off), then its empty groups."""
    with engine.begin() as conn:
        conn.execute(delete(health_services).where(health_services.c.source == source))
        used = {row[0] for row in conn.execute(select(health_services.c.group_name))}
        used |= {row[0] for row in conn.execute(select(health_groups.c.parent))}
        for (name,) in conn.execute(select(health_groups.c.name).where(health_groups.c.source == source)).all():
            if name not in used:
                conn.execute(delete(health_groups).where(health_groups.c.name == name))


def _parents_first(groups: list[GroupSpec]) -> list[GroupSpec]:
    ordered: list[GroupSpec] = []
    placed: set[str] = set()
    pending = list(groups)
    names = {g.name for g in groups}
    while pending:
        ready = [g for g in pending if g.parent is None or g.parent in placed or g.parent not in names]
        if not ready:
            return ordered + pending  # a cycle: validation reports it
        for g in ready:
            ordered.append(g)
            placed.add(g.name)
            pending.remove(g)
    return ordered


def _services_in_order(services: list[ServiceSpec]) -> list[ServiceSpec]:
    ordered: list[ServiceSpec] = []
    placed: set[str] = set()
    pending = list(services)
    names = {s.name for s in services}
    while pending:
        ready = [s for s in pending if all(p in placed or p not in names for p in s.parents)]
        if not ready:
            return ordered + pending
        for s in ready:
            ordered.append(s)
            placed.add(s.name)
            pending.remove(s)
    return ordered
