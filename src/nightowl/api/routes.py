"""/api/v1/routes: the routing tree in use, and a simulator of which receivers get what, when."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import InvalidInput
from nightowl.notify.message import iso
from nightowl.routing import dispatcher as ops
from nightowl.routing.alert import Alert
from nightowl.routing.matchers import parse_matchers
from nightowl.routing.router import TimedAlert, simulate
from nightowl.routing.silences import Silence
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/routes", tags=["routes"])
Runtime = Annotated[Nightowl, Depends(get_nightowl)]
MAX_SIMULATED_ALERTS = 1000


class SimulatedAlert(BaseModel):
    labels: dict[str, str] = Field(min_length=1)
    annotations: dict[str, str] = Field(default_factory=dict)
    at: float = Field(0, ge=0, description="Seconds from now when the alert arrives (and starts).")
    resolve_at: float | None = Field(None, ge=0, description="Seconds from now when it resolves; unset: never.")


class SimulatedSilence(BaseModel):
    matchers: str = Field(description='e.g. {instance=~"db-.*"}')
    starts_at: float = Field(0, ge=0)
    ends_at: float = Field(gt=0)


class SimulateRequest(BaseModel):
    alerts: list[SimulatedAlert]
    silences: list[SimulatedSilence] = Field(default_factory=list)
    duration: float = Field(3600, gt=0, le=7 * 86400, description="How far to look ahead, in seconds.")
    use_stored_silences: bool = True


@router.get(
    "",
    summary="The routing tree, receivers, inhibition rules and time intervals in use",
    dependencies=[Depends(requires("read"))],
)
async def get_routes(nightowl: Runtime) -> dict[str, Any]:
    config = nightowl.pipeline.config
    return {
        "source": config.source,
        "route": config.route.to_dict(),
        "receivers": config.receivers,
        "inhibit_rules": [
            {"source": [str(m) for m in r.source], "target": [str(m) for m in r.target], "equal": list(r.equal)}
            for r in config.inhibit_rules
        ],
        "time_intervals": sorted(config.time_intervals),
        "resolve_timeout": config.resolve_timeout,
        "unsupported": config.unsupported,
    }


@router.post(
    "/simulate",
    summary="Which receivers get which notification when, for a set of alerts",
    dependencies=[Depends(requires("read"))],
)
async def simulate_routes(body: SimulateRequest, nightowl: Runtime) -> dict[str, Any]:
    if len(body.alerts) > MAX_SIMULATED_ALERTS:
        raise InvalidInput(f"at most {MAX_SIMULATED_ALERTS} alerts can be simulated", field="alerts")
    now = nightowl.clock.now()
    arrivals = []
    for i, a in enumerate(body.alerts):
        if a.resolve_at is not None and a.resolve_at < a.at:
            raise InvalidInput(f"alerts[{i}]: resolve_at is before at", field=f"alerts[{i}].resolve_at")
        ends = now + a.resolve_at if a.resolve_at is not None else None
        arrivals.append(TimedAlert(now + a.at, Alert(a.labels, a.annotations, now + a.at, None, "", now + a.at)))
        if ends is not None:
            arrivals.append(TimedAlert(ends, Alert(a.labels, a.annotations, now + a.at, ends, "", ends)))
    silences = await run_in_threadpool(ops.list_silences, nightowl.engine) if body.use_stored_silences else []
    for i, s in enumerate(body.silences):
        matchers = tuple(parse_matchers(s.matchers))
        silences.append(Silence(f"simulated-{i}", matchers, now + s.starts_at, now + s.ends_at, "simulate", ""))
    results = await run_in_threadpool(simulate, nightowl.pipeline.config, arrivals, silences, now + body.duration)
    notifications = []
    for at, result in results:
        n = result.notification
        assert n is not None
        notifications.append(
            {
                "after_seconds": round(at - now, 3),
                "at": iso(at),
                "receiver": n.receiver,
                "route": n.route_id,
                "group_key": n.group_key,
                "status": n.status,
                "firing": [a.labels for a in n.firing],
                "resolved": [a.labels for a in n.resolved],
            }
        )
    return {"notifications": notifications}
