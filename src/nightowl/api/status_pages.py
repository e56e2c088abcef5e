"""Status pages: managed under /api/v1/status-pages; shown at /status-pages/{slug} (HTML) and
/status-pages/{slug}/json, to everyone when the page is public, otherwise to readers."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import InvalidInput
from nightowl.health import statuspages
from nightowl.health.statuspage_html import render
from nightowl.health.statuspages import IncidentSpec, IncidentUpdate, StatusPageSpec
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/status-pages", tags=["status pages"])
public_router = APIRouter(prefix="/status-pages", tags=["status pages"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
READ = [Depends(requires("read"))]
WRITE = [Depends(requires("write"))]


def _check_group(nightowl: Nightowl, spec: StatusPageSpec) -> None:
    if spec.group not in nightowl.overview.topology.groups:
        raise InvalidInput(f"no group named {spec.group!r}", field="group")


@router.get("", summary="Every status page", dependencies=READ)
async def list_pages(nightowl: NightowlDep) -> dict[str, Any]:
    return {"pages": [p.model_dump() for p in statuspages.list_pages(nightowl.engine)]}


@router.post("", status_code=201, summary="Create a status page for a group", dependencies=WRITE)
async def create_page(spec: StatusPageSpec, nightowl: NightowlDep) -> dict[str, Any]:
    _check_group(nightowl, spec)
    statuspages.save_page(nightowl.engine, spec, nightowl.clock.now(), create=True)
    return spec.model_dump()


@router.put("/{slug}", summary="Replace a status page", dependencies=WRITE)
async def update_page(slug: str, spec: StatusPageSpec, nightowl: NightowlDep) -> dict[str, Any]:
    if spec.slug != slug:
        raise InvalidInput(f"slug {spec.slug!r} in the body differs from {slug!r} in the URL", field="slug")
    _check_group(nightowl, spec)
    statuspages.save_page(nightowl.engine, spec, nightowl.clock.now(), create=False)
    return spec.model_dump()


@router.delete("/{slug}", status_code=204, summary="Delete a status page and its incidents", dependencies=WRITE)
async def delete_page(slug: str, nightowl: NightowlDep) -> Response:
    statuspages.delete_page(nightowl.engine, slug)
    return Response(status_code=204)


@router.post("/{slug}/incidents", status_code=201, summary="Post an incident note", dependencies=WRITE)
async def add_incident(slug: str, spec: IncidentSpec, nightowl: NightowlDep) -> dict[str, Any]:
    return asdict(statuspages.add_incident(nightowl.engine, slug, spec, nightowl.clock.now()))


@router.patch("/{slug}/incidents/{incident_id}", summary="Update an incident note or resolve it", dependencies=WRITE)
async def update_incident(slug: str, incident_id: str, change: IncidentUpdate, nightowl: NightowlDep) -> dict[str, Any]:
    return asdict(statuspages.update_incident(nightowl.engine, slug, incident_id, change, nightowl.clock.now()))


def _view(nightowl: Nightowl, request: Request, slug: str) -> dict[str, Any]:
    page = statuspages.get_page(nightowl.engine, slug)
    if not page.public:
        requires("read")(request)
    groups = nightowl.overview.topology.descendants(page.group)
    report = nightowl.overview.services_report(nightowl.clock.now(), groups=groups, bars=statuspages.BAR_DAYS)
    return statuspages.public_view(page, report, statuspages.incidents(nightowl.engine, slug))


@public_router.get("/{slug}/json", summary="A status page as JSON (public pages need no sign-in)")
async def page_json(slug: str, request: Request, nightowl: NightowlDep) -> dict[str, Any]:
    return _view(nightowl, request, slug)


@public_router.get("/{slug}", response_class=HTMLResponse, summary="A status page (public pages need no sign-in)")
async def page_html(slug: str, request: Request, nightowl: NightowlDep) -> HTMLResponse:
    return HTMLResponse(render(_view(nightowl, request, slug)))
