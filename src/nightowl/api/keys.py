"""/api/v1/keys: create, list, revoke and rotate API keys (admin). The key is in the answer once, never again."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl.api.deps import get_nightowl, requires
from nightowl.auth import keys
from nightowl.auth.principal import Principal
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/keys", tags=["keys"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
Admin = Annotated[Principal, Depends(requires("admin"))]


class KeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="What the key is for, e.g. `prometheus-eu`.")
    scopes: list[str] = Field(min_length=1, description="Permissions: `read`, `write`, `ingest`, `admin`.")
    expires_at: datetime | None = Field(None, description="ISO 8601 time or Unix seconds; unset: never.")
    rate_limit: int | None = Field(None, ge=1, le=100_000_000, description="Requests per hour; unset: default.")


def timestamp(value: datetime | None) -> float | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()


def key_view(key: keys.ApiKey, now: float) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "scopes": list(key.scopes),
        "rate_limit": key.rate_limit,
        "created_at": key.created_at,
        "created_by": key.created_by,
        "expires_at": key.expires_at,
        "revoked_at": key.revoked_at,
        "last_used_at": key.last_used_at,
        "state": key.state(now),
    }


@router.post("", status_code=201, summary="Create an API key; the answer holds the key, shown only this once")
async def create_key(body: KeyCreate, nightowl: NightowlDep, principal: Admin) -> dict[str, Any]:
    key, secret = await run_in_threadpool(
        lambda: keys.create_key(
            nightowl.engine,
            nightowl.clock,
            name=body.name,
            scopes=body.scopes,
            actor=principal,
            expires_at=timestamp(body.expires_at),
            rate_limit=body.rate_limit,
        )
    )
    return {**key_view(key, nightowl.clock.now()), "key": secret}


@router.get("", summary="List API keys (never the keys themselves)")
async def list_keys(nightowl: NightowlDep, _principal: Admin) -> dict[str, Any]:
    found = await run_in_threadpool(keys.list_keys, nightowl.engine)
    now = nightowl.clock.now()
    return {"items": [key_view(k, now) for k in found]}


@router.get("/{key_id}", summary="One API key (never the key itself)")
async def get_key(key_id: str, nightowl: NightowlDep, _principal: Admin) -> dict[str, Any]:
    key = await run_in_threadpool(keys.get_key, nightowl.engine, key_id)
    return key_view(key, nightowl.clock.now())


@router.delete("/{key_id}", summary="Revoke an API key; it stops working at once")
async def revoke_key(key_id: str, nightowl: NightowlDep, principal: Admin) -> dict[str, Any]:
    key = await run_in_threadpool(lambda: keys.revoke_key(nightowl.engine, nightowl.clock, key_id, actor=principal))
    return key_view(key, nightowl.clock.now())


@router.post("/{key_id}/rotate", summary="Replace the key's secret; the old one stops working at once")
async def rotate_key(key_id: str, nightowl: NightowlDep, principal: Admin) -> dict[str, Any]:
    key, secret = await run_in_threadpool(
        lambda: keys.rotate_key(nightowl.engine, nightowl.clock, key_id, actor=principal)
    )
    return {**key_view(key, nightowl.clock.now()), "key": secret}
