"""/api/v1/health: services with state, latency, last error and uptime; groups; maintenance windows."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import InvalidInput
from nightowl.health.maintenance import MaintenanceSpec, MaintenanceWindow, occurrences
from nightowl.health.topology import GroupSpec, ServiceSpec
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/health", tags=["health"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
READ = [Depends(requires("read"))]
WRITE = [Depends(requires("write"))]


def _same_name(path_name: str, body_name: str) -> None:
    if path_name != body_name:
        raise InvalidInput(f"name {body_name!r} in the body differs from {path_name!r} in the URL", field="name")


@router.get(
    "/services",
    summary="Every service with state, latency, last error and uptime (24h, 7d, 30d, 1y); the overall state",
    dependencies=READ,
)
async def list_services(nightowl: NightowlDep) -> dict[str, Any]:
    return nightowl.overview.services_report(nightowl.clock.now())


@router.put("/services/{name}", summary="Create or replace a service", dependencies=WRITE)
async def put_service(name: str, spec: ServiceSpec, nightowl: NightowlDep) -> dict[str, Any]:
    _same_name(name, spec.name)
    nightowl.overview.put_service(spec)
    return spec.model_dump(mode="json")


@router.delete("/services/{name}", status_code=204, summary="Delete a service", dependencies=WRITE)
async def delete_service(name: str, nightowl: NightowlDep) -> Response:
    nightowl.overview.remove_service(name)
    return Response(status_code=204)


@router.get("/groups", summary="Groups of services with their state", dependencies=READ)
async def list_groups(nightowl: NightowlDep) -> dict[str, Any]:
    return {"groups": nightowl.overview.services_report(nightowl.clock.now())["groups"]}


@router.put("/groups/{name}", summary="Create or replace a group", dependencies=WRITE)
async def put_group(name: str, spec: GroupSpec, nightowl: NightowlDep) -> dict[str, Any]:
    _same_name(name, spec.name)
    nightowl.overview.put_group(spec)
    return spec.model_dump(mode="json")


@router.delete("/groups/{name}", status_code=204, summary="Delete a group", dependencies=WRITE)
async def delete_group(name: str, nightowl: NightowlDep) -> Response:
    nightowl.overview.remove_group(name)
    return Response(status_code=204)


def window_view(window: MaintenanceWindow, now: float) -> dict[str, Any]:
    upcoming = occurrences(window.spec, now, now + 366 * 86400)
    return {
        "id": window.id,
        "created_at": window.created_at,
        **window.spec.model_dump(mode="json"),
        "active": bool(upcoming and upcoming[0][0] <= now),
        "next": {"starts_at": upcoming[0][0], "ends_at": upcoming[0][1]} if upcoming else None,
    }


@router.post(
    "/maintenance",
    status_code=201,
    summary="Create a maintenance window: one-off (starts_at, ends_at), recurring (cron, duration), or past",
    dependencies=WRITE,
)
async def create_window(spec: MaintenanceSpec, nightowl: NightowlDep) -> dict[str, Any]:
    window = nightowl.overview.add_window(spec)
    return window_view(window, nightowl.clock.now())


@router.get("/maintenance", summary="Maintenance windows, with whether each is active now", dependencies=READ)
async def list_windows(nightowl: NightowlDep) -> dict[str, Any]:
    now = nightowl.clock.now()
    return {"windows": [window_view(w, now) for w in nightowl.overview.windows]}


@router.delete("/maintenance/{window_id}", status_code=204, summary="Delete a maintenance window", dependencies=WRITE)
async def delete_window(window_id: str, nightowl: NightowlDep) -> Response:
    nightowl.overview.remove_window(window_id)
    return Response(status_code=204)
