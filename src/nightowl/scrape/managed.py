"""Targets managed through the API: validated, stored in the state database, turned into target groups.

Each one is a target group of its job whose labels carry `__scheme__`, `__metrics_path__` and
`__scrape_interval__`, so it goes through the same target building (and the job's relabeling) as
a target from a config file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Engine, delete, insert, select, update

from nightowl.core.errors import InvalidInput, NotFound
from nightowl.core.ids import new_id
from nightowl.scrape.config import LABEL_NAME, format_duration, parse_duration
from nightowl.scrape.tables import scrape_targets
from nightowl.scrape.targets import ADDRESS, METRICS_PATH, SCHEME, SCRAPE_INTERVAL, TargetGroup

API_SOURCE = "api/"
"""The source of targets added through `/api/v1/targets`: editors chose them, so the outbound policy applies."""


@dataclass(frozen=True)
class ManagedTarget:
    id: str
    job: str
    address: str
    labels: dict[str, str] = field(default_factory=dict)
    scheme: str = "http"
    metrics_path: str = "/metrics"
    scrape_interval: float | None = None
    created_at: float = 0.0
    updated_at: float = 0.0

    def group(self) -> TargetGroup:
        labels = {**self.labels, SCHEME: self.scheme, METRICS_PATH: self.metrics_path}
        if self.scrape_interval is not None:
            labels[SCRAPE_INTERVAL] = format_duration(self.scrape_interval)
        return TargetGroup(({ADDRESS: self.address},), labels, f"{API_SOURCE}{self.id}")


def validate(
    job: str, address: str, labels: dict[str, str], scheme: str, metrics_path: str, interval: str | None
) -> float | None:
    """Check a target's fields; returns the interval in seconds. Raises InvalidInput naming the field."""
    if not job.strip():
        raise InvalidInput("job must not be empty", field="job")
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or "/" in address or not 0 < int(port) < 65536:
        raise InvalidInput(f"address {address!r} must be host:port (port 1-65535)", field="address")
    for name in labels:
        if not LABEL_NAME.match(name) or name.startswith("__"):
            raise InvalidInput(
                f"label name {name!r} is invalid: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with '__'",
                field=f"labels.{name}",
            )
    if scheme not in ("http", "https"):
        raise InvalidInput(f"scheme {scheme!r} must be http or https", field="scheme")
    if not metrics_path.startswith("/"):
        raise InvalidInput(f"metrics_path {metrics_path!r} must start with '/'", field="metrics_path")
    if interval is None:
        return None
    try:
        return parse_duration(interval)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="scrape_interval") from None


def _row(row: object) -> ManagedTarget:
    m = row._mapping  # type: ignore[attr-defined]
    return ManagedTarget(
        m["id"],
        m["job"],
        m["address"],
        json.loads(m["labels"]),
        m["scheme"],
        m["metrics_path"],
        m["scrape_interval"],
        m["created_at"],
        m["updated_at"],
    )


def list_targets(engine: Engine) -> list[ManagedTarget]:
    with engine.connect() as conn:
        rows = conn.execute(select(scrape_targets).order_by(scrape_targets.c.created_at, scrape_targets.c.id))
        return [_row(r) for r in rows]


def get_target(engine: Engine, target_id: str) -> ManagedTarget:
    with engine.connect() as conn:
        row = conn.execute(select(scrape_targets).where(scrape_targets.c.id == target_id)).first()
    if row is None:
        raise NotFound(f"no scrape target with id {target_id!r}", field="id")
    return _row(row)


def save_target(engine: Engine, target: ManagedTarget, *, new: bool) -> ManagedTarget:
    values = {
        "job": target.job,
        "address": target.address,
        "labels": json.dumps(target.labels, sort_keys=True),
        "scheme": target.scheme,
        "metrics_path": target.metrics_path,
        "scrape_interval": target.scrape_interval,
        "updated_at": target.updated_at,
    }
    with engine.begin() as conn:
        if new:
            conn.execute(insert(scrape_targets).values(id=target.id, created_at=target.created_at, **values))
        elif (
            conn.execute(update(scrape_targets).where(scrape_targets.c.id == target.id).values(**values)).rowcount == 0
        ):
            raise NotFound(f"no scrape target with id {target.id!r}", field="id")
    return target


def delete_target(engine: Engine, target_id: str) -> None:
    with engine.begin() as conn:
        if conn.execute(delete(scrape_targets).where(scrape_targets.c.id == target_id)).rowcount == 0:
            raise NotFound(f"no scrape target with id {target_id!r}", field="id")


def groups_by_job(targets: list[ManagedTarget]) -> dict[str, list[TargetGroup]]:
    out: dict[str, list[TargetGroup]] = {}
    for target in targets:
        out.setdefault(target.job, []).append(target.group())
    return out


def create_id() -> str:
    return new_id()[:16]
