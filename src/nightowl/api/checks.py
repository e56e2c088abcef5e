"""/api/v1/checks: CRUD of health checks, run one now, its transitions and heartbeat pings."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import InvalidInput, NotFound
from nightowl.health import manage, store
from nightowl.health.heartbeat import LastPings, judge
from nightowl.health.model import Check
from nightowl.health.redact import masked, restore
from nightowl.health.runner import CheckRunner, schedule_of
from nightowl.health.spec import CheckSpec
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/checks", tags=["checks"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
READ = [Depends(requires("read"))]
WRITE = [Depends(requires("write"))]


def check_view(runner: CheckRunner, check: Check, base_url: str) -> dict[str, Any]:
    state = runner.state_of(check.id)
    view: dict[str, Any] = {
        "id": check.id,
        "name": check.spec.name,
        "type": check.spec.type,
        "source": check.source,
        "created_at": check.created_at,
        "spec": masked(check.spec),
        "state": asdict(state),
    }
    if check.ping_uuid is not None:
        view["ping_url"] = f"{base_url.rstrip('/')}/ping/{check.ping_uuid}"
        verdict = judge(schedule_of(check), runner.pings.get(check.id, LastPings()), runner.clock.now())
        view["heartbeat"] = {"status": verdict.status, "reason": verdict.reason, "next_due": verdict.next_due}
    return view


def _check(runner: CheckRunner, check_id: str) -> Check:
    check = runner.checks.get(check_id)
    if check is None:
        raise NotFound(f"no check with id {check_id!r}", field="id")
    return check


@router.get("", summary="Every check with its current state", dependencies=READ)
async def list_checks(nightowl: NightowlDep, request: Request) -> dict[str, Any]:
    runner = nightowl.checks
    checks = sorted(runner.checks.values(), key=lambda c: c.spec.name)
    return {"checks": [check_view(runner, c, str(request.base_url)) for c in checks]}


@router.post("", status_code=201, summary="Create a check", dependencies=WRITE)
async def create_check(spec: CheckSpec, nightowl: NightowlDep, request: Request) -> dict[str, Any]:
    check = manage.create_check(nightowl.checks, restore(spec, None))
    return check_view(nightowl.checks, check, str(request.base_url))


@router.get("/{check_id}", summary="One check with its current state", dependencies=READ)
async def get_check(check_id: str, nightowl: NightowlDep, request: Request) -> dict[str, Any]:
    return check_view(nightowl.checks, _check(nightowl.checks, check_id), str(request.base_url))


@router.put("/{check_id}", summary="Replace a check's definition (its state is kept)", dependencies=WRITE)
async def update_check(check_id: str, spec: CheckSpec, nightowl: NightowlDep, request: Request) -> dict[str, Any]:
    _check(nightowl.checks, check_id)
    check = manage.update_check(nightowl.checks, check_id, spec)
    return check_view(nightowl.checks, check, str(request.base_url))


@router.delete("/{check_id}", status_code=204, summary="Delete a check and its history", dependencies=WRITE)
async def delete_check(check_id: str, nightowl: NightowlDep) -> Response:
    _check(nightowl.checks, check_id)
    manage.delete_check(nightowl.checks, check_id)
    return Response(status_code=204)


@router.post("/{check_id}/run", summary="Run a check now and record its result", dependencies=WRITE)
async def run_check(check_id: str, nightowl: NightowlDep) -> dict[str, Any]:
    check = _check(nightowl.checks, check_id)
    if check.spec.type == "heartbeat":
        raise InvalidInput("a heartbeat is not run by Nightowl: it is pinged at its ping URL", field="id")
    result = await nightowl.checks.run_now(check_id)
    return {"result": asdict(result), "state": asdict(nightowl.checks.state_of(check_id))}


@router.get("/{check_id}/transitions", summary="Changes of state, newest first", dependencies=READ)
async def list_transitions(
    check_id: str, nightowl: NightowlDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    _check(nightowl.checks, check_id)
    rows = store.recent_transitions(nightowl.engine, check_id, limit)
    return {"transitions": [asdict(r) for r in rows]}


@router.get(
    "/{check_id}/uptime",
    summary="Uptime % over 24h, 7d, 30d and 1y from the state log, maintenance left out",
    dependencies=READ,
)
async def check_uptime(check_id: str, nightowl: NightowlDep) -> dict[str, Any]:
    check = _check(nightowl.checks, check_id)
    return {"uptime": nightowl.overview.check_uptime(check, nightowl.clock.now())}


@router.get("/{check_id}/pings", summary="A heartbeat's latest pings, newest first", dependencies=READ)
async def list_pings(
    check_id: str, nightowl: NightowlDep, limit: Annotated[int, Query(ge=1, le=store.PINGS_KEPT)] = 50
) -> dict[str, Any]:
    check = _check(nightowl.checks, check_id)
    if check.spec.type != "heartbeat":
        raise InvalidInput(f"check {check.spec.name!r} is not a heartbeat", field="id")
    return {"pings": [asdict(p) for p in store.recent_pings(nightowl.engine, check_id, limit)]}
