"""/api/v1/channels: notification channels (secrets write-only, always masked) and their test message."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import Conflict, InvalidInput, NotFound
from nightowl.core.ids import new_id
from nightowl.notify import store
from nightowl.notify.channels import CHANNELS
from nightowl.notify.pipeline import FILE_SOURCE
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
Runtime = Annotated[Nightowl, Depends(get_nightowl)]


class ChannelIn(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    kind: str
    receiver: str = Field(min_length=1, max_length=200)
    config: dict[str, Any] = Field(default_factory=dict)
    min_severity: str | None = None
    rate_limit: int | None = Field(None, description="Most notifications per minute; more wait their turn.")
    send_resolved: bool = True
    enabled: bool = True


def _get(nightowl: Nightowl, channel_id: str) -> store.ChannelRecord:
    with nightowl.engine.connect() as conn:
        record = store.get_channel(conn, channel_id)
    if record is None:
        raise NotFound(f"channel {channel_id!r} not found", field="id")
    return record


def _save(nightowl: Nightowl, body: ChannelIn, channel_id: str, previous: store.ChannelRecord | None) -> dict[str, Any]:
    if previous is not None and previous.source == FILE_SOURCE:
        raise Conflict(f"channel {channel_id!r} comes from alertmanager_config; edit that file instead", field="id")
    if previous is not None and previous.kind != body.kind:
        raise InvalidInput("a channel's kind cannot change; create a new channel", field="kind")
    store.check_options(body.min_severity, body.rate_limit)
    config = store.prepare_config(body.kind, body.config, nightowl.secrets, previous.config if previous else None)
    record = store.ChannelRecord(
        id=channel_id,
        name=body.name,
        kind=body.kind,
        receiver=body.receiver,
        config=config,
        min_severity=body.min_severity,
        rate_limit=body.rate_limit,
        send_resolved=body.send_resolved,
        enabled=body.enabled,
        source="api",
        updated_at=nightowl.clock.now(),
    )
    with nightowl.engine.begin() as conn:
        store.save_channel(conn, record)
    return record.masked(nightowl.secrets)


@router.get("/kinds", summary="Channel kinds and their fields", dependencies=[Depends(requires("read"))])
async def channel_kinds() -> list[dict[str, Any]]:
    return [
        {
            "kind": cls.kind,
            "label": cls.label,
            "fields": [
                {
                    "name": f.name,
                    "type": f.kind,
                    "required": f.required,
                    "secret": f.rule is not None,
                    "redact": f.rule,
                    "default": f.default,
                    "choices": list(f.choices),
                    "help": f.help,
                }
                for f in cls.fields
            ],
        }
        for cls in CHANNELS.values()
    ]


@router.get("", summary="List channels (secrets masked)", dependencies=[Depends(requires("read"))])
async def list_channels(nightowl: Runtime) -> list[dict[str, Any]]:
    def read() -> list[dict[str, Any]]:
        with nightowl.engine.connect() as conn:
            return [c.masked(nightowl.secrets) for c in store.list_channels(conn)]

    return await run_in_threadpool(read)


@router.post("", status_code=201, summary="Create a channel", dependencies=[Depends(requires("admin"))])
async def create_channel(body: ChannelIn, nightowl: Runtime) -> dict[str, Any]:
    return await run_in_threadpool(_save, nightowl, body, new_id(), None)


@router.get("/{channel_id}", summary="One channel (secrets masked)", dependencies=[Depends(requires("read"))])
async def get_channel(channel_id: str, nightowl: Runtime) -> dict[str, Any]:
    return (await run_in_threadpool(_get, nightowl, channel_id)).masked(nightowl.secrets)


@router.put(
    "/{channel_id}",
    summary="Replace a channel; masked secrets keep their value",
    dependencies=[Depends(requires("admin"))],
)
async def update_channel(channel_id: str, body: ChannelIn, nightowl: Runtime) -> dict[str, Any]:
    previous = await run_in_threadpool(_get, nightowl, channel_id)
    return await run_in_threadpool(_save, nightowl, body, channel_id, previous)


@router.delete("/{channel_id}", status_code=204, summary="Delete a channel", dependencies=[Depends(requires("admin"))])
async def delete_channel(channel_id: str, nightowl: Runtime) -> None:
    record = await run_in_threadpool(_get, nightowl, channel_id)
    if record.source == FILE_SOURCE:
        raise Conflict(f"channel {channel_id!r} comes from alertmanager_config; edit that file instead", field="id")

    def delete() -> None:
        with nightowl.engine.begin() as conn:
            store.delete_channel(conn, channel_id)

    await run_in_threadpool(delete)


@router.post(
    "/{channel_id}/test",
    summary="Send a test message now; returns its delivery log entry",
    dependencies=[Depends(requires("write"))],
)
async def test_channel(channel_id: str, nightowl: Runtime) -> dict[str, Any]:
    record = await run_in_threadpool(_get, nightowl, channel_id)
    return await nightowl.pipeline.outbox.send_test(channel_id, record.receiver)
