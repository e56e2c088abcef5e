"""Creating, changing and deleting checks: the state database first, then the running set."""

from __future__ import annotations

import uuid

from nightowl.core.errors import ConfigError, Conflict, InvalidInput
from nightowl.core.ids import new_id
from nightowl.health import store
from nightowl.health.model import Check
from nightowl.health.redact import restore
from nightowl.health.runner import CheckRunner
from nightowl.health.spec import CheckSpec


def create_check(runner: CheckRunner, spec: CheckSpec, source: str = "api") -> Check:
    now = runner.clock.now()
    ping_uuid = str(uuid.uuid4()) if spec.type == "heartbeat" else None
    check = Check(id=new_id(), spec=spec, source=source, ping_uuid=ping_uuid, created_at=now)
    store.insert_check(runner.engine, check, now, runner.secrets)
    runner.put(check)
    return check


def _editable(runner: CheckRunner, check_id: str) -> Check:
    check = runner.checks.get(check_id) or store.get_check(runner.engine, check_id, runner.secrets)
    if check.source == "config":
        raise Conflict(f"check {check.spec.name!r} is defined in the config file; change it there", field="id")
    return check


def update_check(runner: CheckRunner, check_id: str, spec: CheckSpec) -> Check:
    current = _editable(runner, check_id)
    if (spec.type == "heartbeat") != (current.spec.type == "heartbeat"):
        raise InvalidInput("a heartbeat cannot become an active check or the reverse; create a new check", field="type")
    spec = restore(spec, current.spec)
    store.update_check(runner.engine, check_id, spec, runner.clock.now(), runner.secrets)
    check = Check(current.id, spec, current.source, current.ping_uuid, current.created_at)
    runner.put(check)
    return check


def delete_check(runner: CheckRunner, check_id: str) -> None:
    _editable(runner, check_id)
    store.delete_check(runner.engine, check_id)
    runner.forget(check_id)


def sync_config(runner: CheckRunner, specs: list[CheckSpec]) -> None:
    """Make the config-file checks in the database match `specs` (by name), keeping ids, states and
    ping URLs of the ones that stay. Checks created through the API are left alone."""
    existing = {c.spec.name: c for c in store.load_checks(runner.engine, runner.secrets)}
    now = runner.clock.now()
    wanted = {s.name for s in specs}
    for spec in specs:
        current = existing.get(spec.name)
        if (
            current is not None
            and current.source == "config"
            and (current.ping_uuid is None) != (spec.type != "heartbeat")
        ):
            store.delete_check(runner.engine, current.id)
            current = None
        if current is None:
            ping_uuid = str(uuid.uuid4()) if spec.type == "heartbeat" else None
            store.insert_check(runner.engine, Check(new_id(), spec, "config", ping_uuid, now), now, runner.secrets)
        elif current.source != "config":
            raise ConfigError(f"checks: {spec.name!r} is also the name of a check created through the API; rename one")
        elif current.spec != spec:
            store.update_check(runner.engine, current.id, spec, now, runner.secrets)
    for name, current in existing.items():
        if current.source == "config" and name not in wanted:
            store.delete_check(runner.engine, current.id)
