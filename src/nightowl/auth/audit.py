"""The audit log: who did what to which object, and when. Every capability records through `record`."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select

from nightowl.auth.principal import Principal
from nightowl.auth.tables import audit_log
from nightowl.core.clock import Clock, SystemClock

_system_clock = SystemClock()


@dataclass(frozen=True)
class AuditEntry:
    id: int
    ts: float
    actor: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]


def record(
    conn_or_engine: Connection | Engine,
    actor: Principal | str,
    action: str,
    object_type: str,
    object_id: str,
    detail: dict[str, Any] | None = None,
    *,
    clock: Clock | None = None,
) -> None:
    """Append one entry. Inside a caller's transaction (a Connection) it commits or rolls back with it.

    `action` is `<object>.<verb>` (e.g. `key.created`); `detail` must never hold a secret.
    """
    values = {
        "ts": (clock or _system_clock).now(),
        "actor": actor.actor if isinstance(actor, Principal) else actor,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "detail": json.dumps(detail or {}, default=str, sort_keys=True),
    }
    if isinstance(conn_or_engine, Engine):
        with conn_or_engine.begin() as conn:
            conn.execute(insert(audit_log).values(**values))
    else:
        conn_or_engine.execute(insert(audit_log).values(**values))


def query(
    engine: Engine,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    since: float | None = None,
    until: float | None = None,
    before_id: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """Newest first; page on with `before_id` = the last id seen."""
    stmt = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
    if actor is not None:
        stmt = stmt.where(audit_log.c.actor == actor)
    if action is not None:
        stmt = stmt.where(audit_log.c.action == action)
    if object_type is not None:
        stmt = stmt.where(audit_log.c.object_type == object_type)
    if since is not None:
        stmt = stmt.where(audit_log.c.ts >= since)
    if until is not None:
        stmt = stmt.where(audit_log.c.ts < until)
    if before_id is not None:
        stmt = stmt.where(audit_log.c.id < before_id)
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [
        AuditEntry(
            id=int(r["id"]),
            ts=float(r["ts"]),
            actor=r["actor"],
            action=r["action"],
            object_type=r["object_type"],
            object_id=r["object_id"],
            detail=json.loads(r["detail"]),
        )
        for r in rows
    ]


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(audit_log)).scalar_one())


def prune(engine: Engine, before: float) -> int:
    """Delete entries older than `before` (Unix seconds); returns how many."""
    with engine.begin() as conn:
        result = conn.execute(delete(audit_log).where(audit_log.c.ts < before))
    return int(result.rowcount or 0)
