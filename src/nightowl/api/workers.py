"""GET /api/v1/workers: the scheduler's jobs, their schedule and their last run."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from nightowl.api.deps import get_nightowl, requires
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1", tags=["workers"])


@router.get(
    "/workers",
    dependencies=[Depends(requires("read"))],
    summary="Background jobs with their schedule, last run, duration and last error",
)
async def list_workers(nightowl: Annotated[Nightowl, Depends(get_nightowl)]) -> dict[str, Any]:
    return {
        "scheduler_running": nightowl.scheduler.running,
        "jobs": [asdict(s) for s in nightowl.scheduler.statuses()],
    }
