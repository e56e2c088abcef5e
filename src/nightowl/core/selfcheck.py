"""Nightowl's own health: each component reports ok/degraded/down and the worst one decides."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, text

from nightowl.core.scheduler import Scheduler

ComponentState = Literal["ok", "degraded", "down"]
OverallState = Literal["healthy", "degraded", "unhealthy"]
STATE_VALUES: dict[ComponentState, float] = {"ok": 0.0, "degraded": 1.0, "down": 2.0}


@dataclass(frozen=True)
class Component:
    name: str
    status: ComponentState
    detail: str
    latency_ms: float | None = None


def overall(components: list[Component]) -> OverallState:
    states = {c.status for c in components}
    if "down" in states:
        return "unhealthy"
    if "degraded" in states:
        return "degraded"
    return "healthy"


def check_database(engine: Engine) -> Component:
    started = time.perf_counter()
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database is a "down" answer, not an error
        return Component("database", "down", f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    latency = (time.perf_counter() - started) * 1000
    return Component("database", "ok", engine.dialect.name, round(latency, 2))


def check_scheduler(scheduler: Scheduler) -> Component:
    if not scheduler.running:
        return Component("scheduler", "down", "the scheduler loop is not running")
    failing = [s.name for s in scheduler.statuses() if s.last_error is not None]
    if failing:
        return Component("scheduler", "degraded", "last run failed: " + ", ".join(failing))
    return Component("scheduler", "ok", f"{len(scheduler.statuses())} jobs")


def check_storage(data_dir: Path, min_free: int, critical_free: int) -> Component:
    try:
        usage = shutil.disk_usage(data_dir)
    except OSError as exc:
        return Component("storage", "down", f"cannot stat {data_dir}: {exc.strerror}")
    detail = f"{usage.free / 1024**3:.2f} GiB free of {usage.total / 1024**3:.2f} GiB"
    if usage.free < critical_free:
        return Component("storage", "down", detail)
    if usage.free < min_free:
        return Component("storage", "degraded", detail)
    return Component("storage", "ok", detail)
