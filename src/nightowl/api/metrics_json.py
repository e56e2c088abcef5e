"""The native JSON metrics API (`/api/v1/metrics`): write points, read them back raw or aggregated."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import InvalidInput
from nightowl.ingest.native import (
    SOURCE_LABEL,
    Aggregation,
    Point,
    aggregate,
    describe,
    live_points,
    points_batch,
    series_labels,
)
from nightowl.metrics.model import METRIC_NAME, Matcher
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/api/v1/metrics", tags=["metrics"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
PROTOCOL = "native_json"
MIN_TIME_MS = -(2**62)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?\Z")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_increments = threading.Lock()


class MetricIn(BaseModel):
    name: str = Field(min_length=1, description="Metric name, e.g. `payment_success_total`.")
    value: float = Field(allow_inf_nan=False)
    labels: dict[str, str] = Field(default_factory=dict)
    source: str | None = Field(None, description="Where the value comes from; stored as the `source` label.")
    timestamp: datetime | None = Field(None, description="ISO 8601 or Unix seconds; default now.")


class BulkIn(BaseModel):
    metrics: list[MetricIn] = Field(min_length=1)


class IncrementIn(BaseModel):
    by: float = Field(1.0, allow_inf_nan=False, description="Amount added to the latest value.")
    labels: dict[str, str] = Field(default_factory=dict)
    source: str | None = None
    timestamp: datetime | None = None


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(moment: datetime | None, nightowl: Nightowl) -> int:
    if moment is None:
        return round(nightowl.clock.now() * 1000)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return round(moment.timestamp() * 1000)


def parse_duration(text: str, field: str) -> int:
    """`300`, `30s`, `5m`, `1h`, `1d` -> milliseconds (a bare number is seconds)."""
    match = _DURATION.match(text.strip())
    if match is None or float(match.group(1)) <= 0:
        raise InvalidInput(f"invalid duration {text!r}: use e.g. 30s, 5m, 1h or seconds", field=field)
    return round(float(match.group(1)) * _UNIT_MS[match.group(2) or "s"])


def _point(item: MetricIn, nightowl: Nightowl) -> Point:
    return Point(item.name, item.value, _ms(item.timestamp, nightowl), item.labels, item.source)


def _stored(item: Point) -> dict[str, Any]:
    return {
        "name": item.name,
        "value": item.value,
        "labels": item.labels,
        "source": item.source,
        "timestamp": _iso(item.timestamp_ms),
    }


def _label_matchers(request: Request) -> list[Matcher]:
    """`label=key:value` query parameters (repeatable) as equality matchers."""
    matchers = []
    for raw in request.query_params.getlist("label"):
        key, sep, value = raw.partition(":")
        if not sep or not key:
            raise InvalidInput(f"label filter {raw!r} must be key:value", field="label")
        matchers.append(Matcher(key, "=", value))
    return matchers


def _write(nightowl: Nightowl, points: list[Point]) -> int:
    return nightowl.ingestor.append(points_batch(points), PROTOCOL).accepted


@router.post("", status_code=201, summary="Record one metric value", dependencies=[Depends(requires("ingest"))])
async def create_metric(body: MetricIn, nightowl: NightowlDep) -> dict[str, Any]:
    point = _point(body, nightowl)
    with nightowl.ingestor.admit(PROTOCOL):
        await run_in_threadpool(_write, nightowl, [point])
    return _stored(point)


@router.post("/bulk", status_code=201, summary="Record many metric values", dependencies=[Depends(requires("ingest"))])
async def create_metrics(body: BulkIn, nightowl: NightowlDep) -> dict[str, Any]:
    points = [_point(item, nightowl) for item in body.metrics]
    with nightowl.ingestor.admit(PROTOCOL):
        accepted = await run_in_threadpool(_write, nightowl, points)
    return {"accepted": accepted}


@router.get("", summary="Query a metric, raw or aggregated per interval", dependencies=[Depends(requires("read"))])
async def query_metrics(
    request: Request,
    nightowl: NightowlDep,
    name: Annotated[str, Query(min_length=1)],
    source: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
    aggregation: Aggregation | None = None,
    interval: str = "5m",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> dict[str, Any]:
    """Without `aggregation`: every sample in [start, end] (default: the last hour). With it: one value
    per `interval` bucket and series. Filter with `source=` and `label=key:value` (repeatable)."""
    end_ms = _ms(end, nightowl)
    start_ms = _ms(start, nightowl) if start is not None else end_ms - 3_600_000
    if start_ms > end_ms:
        raise InvalidInput("start must not be after end", field="start")
    interval_ms = parse_duration(interval, "interval")
    matchers = [Matcher(METRIC_NAME, "=", name), *_label_matchers(request)]
    if source:
        matchers.append(Matcher(SOURCE_LABEL, "=", source))
    found = await run_in_threadpool(nightowl.storage.select, matchers, start_ms, end_ms)
    series = []
    for one in found[:limit]:
        _, labels, series_source = describe(one.labels)
        stamps, values = live_points(one)
        if aggregation is None:
            pairs = list(zip(stamps.tolist(), values.tolist(), strict=True))
        else:
            pairs = aggregate(stamps, values, start_ms, interval_ms, aggregation)
        series.append(
            {
                "labels": labels,
                "source": series_source,
                "points": [{"timestamp": _iso(t), "value": v} for t, v in pairs],
            }
        )
    return {
        "name": name,
        "start": _iso(start_ms),
        "end": _iso(end_ms),
        "aggregation": aggregation,
        "interval_seconds": interval_ms / 1000 if aggregation else None,
        "series": series,
    }


@router.get("/latest", summary="The latest value of each series", dependencies=[Depends(requires("read"))])
async def latest(
    request: Request,
    nightowl: NightowlDep,
    name: str | None = None,
    source: str | None = None,
    window: str = "1d",
) -> dict[str, Any]:
    """Series with a sample within `window` before now, optionally filtered by name, source and labels."""
    now_ms = _ms(None, nightowl)
    matchers = [Matcher(METRIC_NAME, "=", name) if name else Matcher(METRIC_NAME, "=~", ".+")]
    matchers += _label_matchers(request)
    if source:
        matchers.append(Matcher(SOURCE_LABEL, "=", source))
    found = await run_in_threadpool(
        nightowl.storage.select, matchers, now_ms - parse_duration(window, "window"), now_ms
    )
    metrics = []
    for one in found:
        stamps, values = live_points(one)
        if len(stamps):
            metric_name, labels, series_source = describe(one.labels)
            metrics.append(
                {
                    "name": metric_name,
                    "labels": labels,
                    "source": series_source,
                    "value": float(values[-1]),
                    "timestamp": _iso(int(stamps[-1])),
                }
            )
    return {"metrics": metrics}


@router.get("/names", summary="Metric names", dependencies=[Depends(requires("read"))])
async def names(nightowl: NightowlDep) -> dict[str, list[str]]:
    now_ms = _ms(None, nightowl)
    found = await run_in_threadpool(nightowl.storage.label_values, METRIC_NAME, [], MIN_TIME_MS, now_ms)
    return {"names": found}


@router.get("/sources", summary="Metric sources", dependencies=[Depends(requires("read"))])
async def sources(nightowl: NightowlDep) -> dict[str, list[str]]:
    now_ms = _ms(None, nightowl)
    found = await run_in_threadpool(nightowl.storage.label_values, SOURCE_LABEL, [], MIN_TIME_MS, now_ms)
    return {"sources": found}


def _counter_values(counter: Any) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for family in counter.collect():
        for sample in family.samples:
            if sample.name.endswith("_total"):
                key = sample.labels.get("reason", "")
                out.setdefault(sample.labels["protocol"], {})[key] = sample.value
    return out


@router.get(
    "/stats", summary="Counts of series, names, sources and ingested samples", dependencies=[Depends(requires("read"))]
)
async def stats(nightowl: NightowlDep) -> dict[str, Any]:
    now_ms = _ms(None, nightowl)
    storage = nightowl.storage
    series = await run_in_threadpool(storage.series, [[Matcher(METRIC_NAME, "=~", ".+")]], MIN_TIME_MS, now_ms)
    metrics = nightowl.ingestor.metrics
    ingested = {protocol: values[""] for protocol, values in _counter_values(metrics.samples).items()}
    return {
        "series": len(series),
        "names": len({dict(labels).get(METRIC_NAME) for labels in series}),
        "sources": len({dict(labels)[SOURCE_LABEL] for labels in series if SOURCE_LABEL in dict(labels)}),
        "samples_ingested": ingested,
        "samples_rejected": _counter_values(metrics.rejected),
    }


def _increment(nightowl: Nightowl, name: str, body: IncrementIn) -> Point:
    labels = series_labels(name, body.labels, body.source)
    now_ms = _ms(body.timestamp, nightowl)
    matchers = [Matcher(k, "=", v) for k, v in labels]
    with _increments:
        found = [s for s in nightowl.storage.select(matchers, MIN_TIME_MS, now_ms) if s.labels == labels]
        current = 0.0
        if found:
            _, values = live_points(found[0])
            current = float(values[-1]) if len(values) else 0.0
        point = Point(name, current + body.by, now_ms, body.labels, body.source)
        nightowl.ingestor.append(points_batch([point]), PROTOCOL)
    return point


@router.post(
    "/increment/{name}",
    summary="Add to a counter (its latest value + `by`, default 1)",
    dependencies=[Depends(requires("ingest"))],
)
async def increment(name: str, nightowl: NightowlDep, body: IncrementIn | None = None) -> dict[str, Any]:
    """Serialized within this process; concurrent increments through several instances may race."""
    with nightowl.ingestor.admit(PROTOCOL):
        point = await run_in_threadpool(_increment, nightowl, name, body or IncrementIn())
    return _stored(point)


@router.delete(
    "/{name}",
    status_code=204,
    response_class=Response,
    summary="Delete a metric's series (all, or those matching source/labels), optionally only in a window",
    dependencies=[Depends(requires("admin"))],
)
async def delete_metric(
    name: str,
    request: Request,
    nightowl: NightowlDep,
    source: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Response:
    matchers = [Matcher(METRIC_NAME, "=", name), *_label_matchers(request)]
    if source:
        matchers.append(Matcher(SOURCE_LABEL, "=", source))
    start_ms = _ms(start, nightowl) if start is not None else None
    end_ms = _ms(end, nightowl) if end is not None else None
    await run_in_threadpool(nightowl.storage.delete_series, matchers, start_ms, end_ms)
    return Response(status_code=204)
