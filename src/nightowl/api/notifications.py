"""/api/v1/notifications: the delivery log of the outbox, its dead letters and their replay."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from nightowl.api.deps import get_nightowl, requires
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/notifications", tags=["notifications"])
Runtime = Annotated[Nightowl, Depends(get_nightowl)]


@router.get("", summary="Delivery log, newest first", dependencies=[Depends(requires("read"))])
async def delivery_log(
    nightowl: Runtime,
    status: Literal["pending", "delivered", "dead"] | None = None,
    channel_id: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    return await run_in_threadpool(nightowl.pipeline.outbox.log, status, channel_id, limit)


@router.get("/{notification_id}", summary="One delivery log entry", dependencies=[Depends(requires("read"))])
async def get_notification(notification_id: str, nightowl: Runtime) -> dict[str, Any]:
    return await run_in_threadpool(nightowl.pipeline.outbox.get, notification_id)


@router.post(
    "/{notification_id}/replay", summary="Queue a dead letter again", dependencies=[Depends(requires("write"))]
)
async def replay(notification_id: str, nightowl: Runtime) -> dict[str, Any]:
    await run_in_threadpool(nightowl.pipeline.outbox.replay, notification_id)
    return await run_in_threadpool(nightowl.pipeline.outbox.get, notification_id)
