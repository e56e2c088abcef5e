"""/api/v1/integrations: event webhook subscriptions (with a test send) and metric forwarders."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import Conflict
from nightowl.integrations.events import EVENT_TYPES
from nightowl.integrations.forward import manage
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])
Runtime = Annotated[Nightowl, Depends(get_nightowl)]


class WebhookIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000)
    events: list[str] = Field(description="Event types to receive, or ['*'] for all.")
    headers: dict[str, str] = Field(default_factory=dict)
    secret: str | None = Field(None, description="HMAC-SHA256 signing secret; write-only, shown masked.")
    enabled: bool = True


@router.get("/events", summary="Event types a webhook can subscribe to", dependencies=[Depends(requires("read"))])
async def event_types() -> list[str]:
    return list(EVENT_TYPES)


@router.get("/webhooks", summary="List event webhooks (secrets masked)", dependencies=[Depends(requires("read"))])
async def list_webhooks(nightowl: Runtime) -> list[dict[str, Any]]:
    subs = await run_in_threadpool(nightowl.integrations.webhooks.all)
    return [s.public() for s in subs]


@router.post("/webhooks", status_code=201, summary="Create an event webhook", dependencies=[Depends(requires("admin"))])
async def create_webhook(body: WebhookIn, nightowl: Runtime) -> dict[str, Any]:
    sub = await run_in_threadpool(lambda: nightowl.integrations.webhooks.save(None, **body.model_dump()))
    return sub.public()


@router.get("/webhooks/{webhook_id}", summary="One event webhook", dependencies=[Depends(requires("read"))])
async def get_webhook(webhook_id: str, nightowl: Runtime) -> dict[str, Any]:
    return (await run_in_threadpool(nightowl.integrations.webhooks.get, webhook_id)).public()


@router.put(
    "/webhooks/{webhook_id}",
    summary="Replace an event webhook; an omitted or masked secret keeps its value",
    dependencies=[Depends(requires("admin"))],
)
async def update_webhook(webhook_id: str, body: WebhookIn, nightowl: Runtime) -> dict[str, Any]:
    sub = await run_in_threadpool(lambda: nightowl.integrations.webhooks.save(webhook_id, **body.model_dump()))
    return sub.public()


@router.delete(
    "/webhooks/{webhook_id}",
    status_code=204,
    summary="Delete an event webhook",
    dependencies=[Depends(requires("admin"))],
)
async def delete_webhook(webhook_id: str, nightowl: Runtime) -> None:
    await run_in_threadpool(nightowl.integrations.webhooks.delete, webhook_id)


@router.get(
    "/webhooks/{webhook_id}/deliveries",
    summary="Recent deliveries of an event webhook, newest first",
    dependencies=[Depends(requires("read"))],
)
async def webhook_deliveries(webhook_id: str, nightowl: Runtime) -> list[dict[str, Any]]:
    return await run_in_threadpool(nightowl.integrations.webhooks.deliveries, webhook_id)


@router.post(
    "/webhooks/{webhook_id}/test",
    summary="Send a signed integration.test event now and report the receiver's answer",
    dependencies=[Depends(requires("admin"))],
)
async def test_webhook(webhook_id: str, nightowl: Runtime) -> dict[str, Any]:
    return await nightowl.integrations.webhooks.send_test(webhook_id)


class ForwarderIn(BaseModel):
    url: str | None = Field(
        None, description="remote_write: the full write URL; datadog/newrelic: the API base URL (default: US site)."
    )
    api_key: str | None = Field(
        None, description="DD-API-KEY / Api-Key / remote write bearer token (or basic password); write-only."
    )
    username: str | None = Field(None, description="remote_write only: basic auth user (e.g. Grafana Cloud).")
    match: list[str] = Field(default_factory=list, description="Series selectors to forward; none: everything.")
    batch_size: int | None = Field(None, description="Samples per request (default 500).")
    max_buffer_bytes: int | None = Field(None, description="Disk buffer cap; the oldest samples go first.")
    enabled: bool = True


@router.get("/external", summary="Configured metric forwarders", dependencies=[Depends(requires("read"))])
async def list_forwarders(nightowl: Runtime) -> list[dict[str, Any]]:
    hub = nightowl.integrations
    return [hub.describe(f) for f in await run_in_threadpool(manage.load, nightowl.engine)]


@router.get("/external/{kind}", summary="One metric forwarder", dependencies=[Depends(requires("read"))])
async def get_forwarder(kind: str, nightowl: Runtime) -> dict[str, Any]:
    return nightowl.integrations.describe(await run_in_threadpool(manage.get, nightowl.engine, kind))


@router.put(
    "/external/{kind}",
    summary="Configure a metric forwarder (remote_write, datadog, newrelic); a masked api_key keeps its value",
    dependencies=[Depends(requires("admin"))],
)
async def put_forwarder(kind: str, body: ForwarderIn, nightowl: Runtime) -> dict[str, Any]:
    stored = await run_in_threadpool(nightowl.integrations.store, kind, body.model_dump())
    return nightowl.integrations.install(stored)


@router.delete(
    "/external/{kind}",
    status_code=204,
    summary="Stop and forget a metric forwarder",
    dependencies=[Depends(requires("admin"))],
)
async def delete_forwarder(kind: str, nightowl: Runtime) -> None:
    await run_in_threadpool(manage.remove, nightowl.engine, kind)
    nightowl.integrations.uninstall(kind)


@router.post(
    "/external/{kind}/test",
    summary="Send one nightowl_forward_test sample through a forwarder now and report the answer",
    dependencies=[Depends(requires("admin"))],
)
async def test_forwarder(kind: str, nightowl: Runtime) -> dict[str, Any]:
    await run_in_threadpool(manage.get, nightowl.engine, kind)
    forwarder = nightowl.integrations.forwarders.get(kind)
    if forwarder is None:
        raise Conflict(f"forwarder {kind!r} is disabled", field="type")
    return await forwarder.send_test()
