"""GET /api/v1/audit: who did what to which object, newest first (admin)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from nightowl.api.deps import get_nightowl, requires
from nightowl.api.keys import timestamp
from nightowl.auth import audit
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1", tags=["audit"])


@router.get("/audit", dependencies=[Depends(requires("admin"))], summary="The audit log, newest first, paginated")
async def list_audit(
    nightowl: Annotated[Nightowl, Depends(get_nightowl)],
    actor: Annotated[str | None, Query(description="e.g. `user:alice` or `key:ci`")] = None,
    action: Annotated[str | None, Query(description="e.g. `key.created`, `login.failed`")] = None,
    object_type: Annotated[str | None, Query(description="e.g. `user`, `api_key`")] = None,
    since: Annotated[datetime | None, Query(description="ISO 8601 or Unix seconds, inclusive")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601 or Unix seconds, exclusive")] = None,
    cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="`next_cursor` of the previous page")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    entries = await run_in_threadpool(
        lambda: audit.query(
            nightowl.engine,
            actor=actor,
            action=action,
            object_type=object_type,
            since=timestamp(since),
            until=timestamp(until),
            before_id=cursor,
            limit=limit,
        )
    )
    next_cursor = entries[-1].id if len(entries) == limit else None
    return {"items": [asdict(e) for e in entries], "next_cursor": next_cursor}
