"""Maintenance windows in the state database."""

from __future__ import annotations

import json

from sqlalchemy import Engine, delete, insert, select

from nightowl.core.errors import NotFound
from nightowl.health.maintenance import MaintenanceSpec, MaintenanceWindow
from nightowl.health.tables import maintenance_windows


def load(engine: Engine) -> list[MaintenanceWindow]:
    with engine.connect() as conn:
        rows = conn.execute(select(maintenance_windows).order_by(maintenance_windows.c.starts_at)).mappings().all()
    return [
        MaintenanceWindow(
            id=r["id"],
            spec=MaintenanceSpec(
                name=r["name"],
                starts_at=r["starts_at"],
                ends_at=r["ends_at"],
                cron=r["cron"],
                duration=r["duration"],
                tz=r["tz"],
                services=json.loads(r["services"]),
                checks=json.loads(r["checks"]),
                note=r["note"],
            ),
            created_at=r["created_at"],
        )
        for r in rows
    ]


def insert_window(engine: Engine, window: MaintenanceWindow) -> None:
    spec = window.spec
    with engine.begin() as conn:
        conn.execute(
            insert(maintenance_windows).values(
                id=window.id,
                name=spec.name,
                starts_at=spec.starts_at,
                ends_at=spec.ends_at,
                cron=spec.cron,
                duration=spec.duration,
                tz=spec.tz,
                services=json.dumps(spec.services),
                checks=json.dumps(spec.checks),
                note=spec.note,
                created_at=window.created_at,
            )
        )


def delete_window(engine: Engine, window_id: str) -> None:
    with engine.begin() as conn:
        deleted = conn.execute(delete(maintenance_windows).where(maintenance_windows.c.id == window_id)).rowcount
    if deleted == 0:
        raise NotFound(f"no maintenance window with id {window_id!r}", field="id")
