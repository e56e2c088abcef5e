"""/api/v1/demo/incidents: start an incident on a demo service on demand, to watch an alert travel end to end.

The simulated services themselves are public under /demo/; starting an incident changes what the
platform reports, so it needs the `write` permission and is audited.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from nightowl.api.deps import Principal, get_nightowl, requires
from nightowl.auth import audit
from nightowl.core.errors import InvalidInput, NotFound
from nightowl.demo.simulation import Incident, Platform
from nightowl.routing.durations import parse_duration
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/demo", tags=["demo"])
Runtime = Annotated[Nightowl, Depends(get_nightowl)]

MAX_INCIDENT_SECONDS = 6 * 3600.0


class IncidentIn(BaseModel):
    service: str = Field(description="A demo service, e.g. `payment` (see GET /demo/).")
    kind: Literal["latency_spike", "failure_burst", "down"]
    duration: str | float = Field("5m", description="How long it lasts: seconds or a duration such as `5m`.")


def _platform(nightowl: Nightowl) -> Platform:
    if nightowl.demo is None:
        raise NotFound("the demo platform is not running (start with --demo)", field="demo")
    return nightowl.demo


def _view(incident: Incident) -> dict[str, Any]:
    return {"service": incident.service, "kind": incident.kind, "start": incident.start, "end": incident.end}


@router.get("/incidents", dependencies=[Depends(requires("read"))])
def list_incidents(nightowl: Runtime) -> list[dict[str, Any]]:
    """Incidents under way, random and started by hand alike."""
    platform = _platform(nightowl)
    return [_view(i) for i in platform.active_incidents(nightowl.clock.now())]


@router.post("/incidents", status_code=201)
def start_incident(
    body: IncidentIn, nightowl: Runtime, principal: Annotated[Principal, Depends(requires("write"))]
) -> dict[str, Any]:
    """Start an incident now on one service; it replaces an incident already under way there."""
    platform = _platform(nightowl)
    if body.service not in platform.services:
        known = ", ".join(sorted(platform.services))
        raise InvalidInput(f"service: {body.service!r} is not a demo service ({known})", field="service")
    seconds = parse_duration(body.duration, field="duration")
    if not 0 < seconds <= MAX_INCIDENT_SECONDS:
        raise InvalidInput("duration: must be more than 0 and at most 6h", field="duration")
    incident = platform.start_incident(body.service, body.kind, nightowl.clock.now(), seconds)
    audit.record(
        nightowl.engine,
        principal,
        "demo.incident_started",
        "demo_service",
        body.service,
        _view(incident),
        clock=nightowl.clock,
    )
    return _view(incident)
