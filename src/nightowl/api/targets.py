"""Scrape targets: `/api/v1/targets` manages targets at run time (stored, survive restarts);
`/prometheus/api/v1/targets` shows every target the way Prometheus's API does (for Grafana, tools)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import InvalidInput
from nightowl.runtime import Nightowl
from nightowl.scrape import managed
from nightowl.scrape.config import format_duration
from nightowl.scrape.scraper import TargetState

router = APIRouter(tags=["targets"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]


class TargetIn(BaseModel):
    """A target to scrape: `job` groups it (an existing scrape job's settings and relabeling apply)."""

    model_config = ConfigDict(extra="forbid")
    job: str = Field(min_length=1, max_length=200, examples=["payments"])
    address: str = Field(min_length=3, max_length=500, examples=["10.0.0.5:9100"])
    labels: dict[str, str] = Field(default_factory=dict, examples=[{"env": "prod"}])
    scheme: Literal["http", "https"] = "http"
    metrics_path: str = Field("/metrics", max_length=500)
    scrape_interval: str | None = Field(None, description="A duration such as `15s`; unset: the job's interval.")


def _status(nightowl: Nightowl, target: managed.ManagedTarget) -> dict[str, Any]:
    pool = nightowl.scraper.pools.get(target.job)
    source = f"api/{target.id}"
    if pool is not None:
        for state in pool.targets.values():
            if state.target.source == source:
                return {
                    "health": state.health,
                    "last_error": state.last_error,
                    "scrape_url": state.target.url,
                    "last_scrape": state.last_scrape,
                    "labels": dict(state.target.labels),
                }
        for dropped in pool.dropped:
            if dropped.discovered.get("__address__") == target.address:
                return {"health": "dropped", "last_error": dropped.reason}
    return {"health": "unknown", "last_error": ""}


def _out(nightowl: Nightowl, target: managed.ManagedTarget) -> dict[str, Any]:
    return {
        "id": target.id,
        "job": target.job,
        "address": target.address,
        "labels": target.labels,
        "scheme": target.scheme,
        "metrics_path": target.metrics_path,
        "scrape_interval": format_duration(target.scrape_interval) if target.scrape_interval else None,
        "created_at": target.created_at,
        "updated_at": target.updated_at,
        "status": _status(nightowl, target),
        "credentials_withheld": _job_has_credentials(nightowl, target.job),
    }


def _job_has_credentials(nightowl: Nightowl, job: str) -> bool:
    """API targets are never sent the job's basic_auth, authorization or TLS client certificate."""
    pool = nightowl.scraper.pools.get(job)
    if pool is None:
        return False
    config = pool.config
    tls = config.tls_config
    return bool(config.basic_auth or config.authorization or (tls is not None and tls.cert_file))


def _build(nightowl: Nightowl, body: TargetIn, target_id: str, created_at: float | None) -> managed.ManagedTarget:
    interval = managed.validate(
        body.job, body.address, body.labels, body.scheme, body.metrics_path, body.scrape_interval
    )
    now = nightowl.clock.now()
    return managed.ManagedTarget(
        target_id,
        body.job,
        body.address,
        body.labels,
        body.scheme,
        body.metrics_path,
        interval,
        created_at if created_at is not None else now,
        now,
    )


async def _reload(nightowl: Nightowl) -> None:
    targets = await run_in_threadpool(managed.list_targets, nightowl.engine)
    nightowl.scraper.set_extra_groups(managed.groups_by_job(targets))


@router.get(
    "/api/v1/targets",
    summary="Targets added through the API, with their scrape status",
    dependencies=[Depends(requires("read"))],
)
async def list_targets(nightowl: NightowlDep) -> dict[str, Any]:
    targets = await run_in_threadpool(managed.list_targets, nightowl.engine)
    return {"targets": [_out(nightowl, t) for t in targets]}


@router.post(
    "/api/v1/targets", status_code=201, summary="Add a target to scrape", dependencies=[Depends(requires("write"))]
)
async def create_target(body: TargetIn, nightowl: NightowlDep) -> dict[str, Any]:
    target = _build(nightowl, body, managed.create_id(), None)
    await run_in_threadpool(managed.save_target, nightowl.engine, target, new=True)
    await _reload(nightowl)
    return _out(nightowl, target)


@router.get("/api/v1/targets/{target_id}", summary="One API-managed target", dependencies=[Depends(requires("read"))])
async def get_target(target_id: str, nightowl: NightowlDep) -> dict[str, Any]:
    return _out(nightowl, await run_in_threadpool(managed.get_target, nightowl.engine, target_id))


@router.put(
    "/api/v1/targets/{target_id}", summary="Replace an API-managed target", dependencies=[Depends(requires("write"))]
)
async def replace_target(target_id: str, body: TargetIn, nightowl: NightowlDep) -> dict[str, Any]:
    existing = await run_in_threadpool(managed.get_target, nightowl.engine, target_id)
    target = _build(nightowl, body, target_id, existing.created_at)
    await run_in_threadpool(managed.save_target, nightowl.engine, target, new=False)
    await _reload(nightowl)
    return _out(nightowl, target)


@router.delete(
    "/api/v1/targets/{target_id}",
    status_code=204,
    summary="Stop scraping an API-managed target",
    dependencies=[Depends(requires("write"))],
)
async def delete_target(target_id: str, nightowl: NightowlDep) -> Response:
    await run_in_threadpool(managed.delete_target, nightowl.engine, target_id)
    await _reload(nightowl)
    return Response(status_code=204)


def _rfc3339(seconds: float | None) -> str:
    if seconds is None:
        return "0001-01-01T00:00:00Z"
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _active(job: str, state: TargetState) -> dict[str, Any]:
    target = state.target
    return {
        "discoveredLabels": target.discovered,
        "labels": dict(target.labels),
        "scrapePool": job,
        "scrapeUrl": target.url,
        "globalUrl": target.url,
        "lastError": state.last_error,
        "lastScrape": _rfc3339(state.last_scrape),
        "lastScrapeDuration": state.last_duration,
        "health": state.health,
        "scrapeInterval": format_duration(target.interval),
        "scrapeTimeout": format_duration(target.timeout),
    }


@router.get(
    "/prometheus/api/v1/targets",
    summary="Every scrape target, as Prometheus's /api/v1/targets",
    dependencies=[Depends(requires("read"))],
)
async def prometheus_targets(
    nightowl: NightowlDep,
    state: Annotated[str, Query(description="active, dropped or any")] = "any",
    scrape_pool: Annotated[str | None, Query(alias="scrapePool")] = None,
) -> dict[str, Any]:
    if state not in ("active", "dropped", "any"):
        raise InvalidInput(f"state {state!r} must be active, dropped or any", field="state")
    active: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for job, pool in sorted(nightowl.scraper.pools.items()):
        if scrape_pool is not None and job != scrape_pool:
            continue
        if state in ("active", "any"):
            active.extend(_active(job, s) for s in pool.targets.values())
        if state in ("dropped", "any"):
            dropped.extend({"discoveredLabels": d.discovered} for d in pool.dropped)
    data: dict[str, Any] = {}
    if state in ("active", "any"):
        data["activeTargets"] = active
    if state in ("dropped", "any"):
        data["droppedTargets"] = dropped
    return {"status": "success", "data": data}


@router.get(
    "/prometheus/api/v1/scrape_pools",
    summary="Names of the scrape pools (jobs), as Prometheus's /api/v1/scrape_pools",
    dependencies=[Depends(requires("read"))],
)
async def prometheus_scrape_pools(nightowl: NightowlDep) -> dict[str, Any]:
    return {"status": "success", "data": {"scrapePools": sorted(nightowl.scraper.pools)}}
