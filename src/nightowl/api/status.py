"""Nightowl's own observability: /health, /ready, /status and /metrics."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from nightowl import __version__
from nightowl.api.deps import get_nightowl
from nightowl.core import selfcheck
from nightowl.runtime import Nightowl

router = APIRouter(tags=["status"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]


def _health_report(nightowl: Nightowl) -> tuple[str, list[selfcheck.Component]]:
    components = nightowl.health()
    return selfcheck.overall(components), components


@router.get("/health", summary="Health of Nightowl and its components")
async def health(nightowl: NightowlDep) -> JSONResponse:
    """`healthy` and `degraded` answer 200 (still serving); `unhealthy` answers 503."""
    state, components = await run_in_threadpool(_health_report, nightowl)
    body: dict[str, Any] = {
        "status": state,
        "version": __version__,
        "timestamp": nightowl.clock.now(),
        "uptime_seconds": round(nightowl.clock.monotonic() - nightowl.started_monotonic, 3),
        "components": [
            {"name": c.name, "status": c.status, "detail": c.detail, "latency_ms": c.latency_ms} for c in components
        ],
    }
    return JSONResponse(body, status_code=503 if state == "unhealthy" else 200)


@router.get("/ready", summary="Ready to serve: migrations applied and the scheduler running")
async def ready(nightowl: NightowlDep) -> JSONResponse:
    reasons = []
    if not nightowl.migrated:
        reasons.append("database migrations not applied")
    if not nightowl.scheduler.running:
        reasons.append("scheduler not running")
    if reasons:
        return JSONResponse({"ready": False, "reasons": reasons}, status_code=503)
    return JSONResponse({"ready": True})


@router.get("/status", summary="Liveness: a constant answer while the process serves")
async def status(nightowl: NightowlDep) -> dict[str, Any]:
    return {"status": "ok", "timestamp": nightowl.clock.now(), "version": __version__}


@router.get("/metrics", summary="Nightowl's own metrics in the Prometheus text format", response_class=Response)
async def metrics(nightowl: NightowlDep) -> Response:
    return Response(generate_latest(nightowl.telemetry.registry), media_type=CONTENT_TYPE_LATEST)
