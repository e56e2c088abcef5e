"""Prometheus-compatible ingest and bulk I/O under /prometheus/api/v1: import (text, OpenMetrics, JSON
lines), export, delete_series, and remote write."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from nightowl.api.deps import get_nightowl, requires
from nightowl.core.errors import InvalidInput, NightowlError
from nightowl.ingest.encoding import decode_content_encoding, snappy_block
from nightowl.ingest.errors import InvalidSeries, MalformedPayload, UnsupportedMediaType
from nightowl.ingest.exposition import parse_exposition
from nightowl.ingest.jsonlines import export_lines, parse_json_lines
from nightowl.ingest.remote_write import RemoteWrite, decode_v1, decode_v2
from nightowl.ingest.selector import parse_selector
from nightowl.metrics.model import Labels, Matcher, SampleBatch, Series
from nightowl.runtime import Nightowl

router = APIRouter(prefix="/prometheus/api/v1", tags=["prometheus ingest"])
NightowlDep = Annotated[Nightowl, Depends(get_nightowl)]
MIN_TIME_MS = -(2**62)
MAX_TIME_MS = 2**62
OPENMETRICS_MEDIA_TYPE = "application/openmetrics-text"


def raw_body(*media_types: str, binary: bool = False) -> dict[str, object]:
    """OpenAPI for a route that reads its body itself (text or protobuf), so /docs shows what to send."""
    schema = {"type": "string", "format": "binary"} if binary else {"type": "string"}
    return {"requestBody": {"required": True, "content": {media: {"schema": schema} for media in media_types}}}


def parse_time(value: str, field: str) -> int:
    """A Prometheus API time (Unix seconds, fractional allowed, or RFC 3339) -> milliseconds."""
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            raise InvalidInput(f"cannot parse {value!r} as a time: use Unix seconds or RFC 3339", field=field) from None
    if not math.isfinite(seconds):
        raise InvalidInput(f"time {value!r} is not finite", field=field)
    return max(MIN_TIME_MS, min(MAX_TIME_MS, round(max(-9.3e18, min(9.3e18, seconds * 1000)))))


async def _params(request: Request, *, read_form: bool = True) -> dict[str, list[str]]:
    """Query string and, for form posts, the form body, as Prometheus reads `match[]`, `start`, `end`.

    Routes whose body is data (imports) pass `read_form=False`: `curl --data-binary @file` labels any body
    `application/x-www-form-urlencoded`, and that body is the payload, not parameters."""
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    if read_form and request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        form = await request.form()
        for key, item in form.multi_items():
            if isinstance(item, str):
                params.setdefault(key, []).append(item)
    return params


def _window(params: dict[str, list[str]]) -> tuple[int | None, int | None]:
    start = parse_time(params["start"][-1], "start") if params.get("start") else None
    end = parse_time(params["end"][-1], "end") if params.get("end") else None
    if start is not None and end is not None and end < start:
        raise InvalidInput("end must not be before start", field="end")
    return start, end


def _matcher_sets(params: dict[str, list[str]]) -> list[list[Matcher]]:
    selectors = params.get("match[]", [])
    if not selectors:
        raise InvalidInput("at least one match[] series selector is required", field="match[]")
    return [parse_selector(selector) for selector in selectors]


async def _body(request: Request, nightowl: Nightowl) -> bytes:
    raw = await request.body()
    limit = nightowl.settings.ingest_max_decompressed_bytes
    return await run_in_threadpool(decode_content_encoding, raw, request.headers.get("content-encoding"), limit)


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedPayload(f"the body is not UTF-8: {exc}", field="body") from None


def _import_text(nightowl: Nightowl, body: bytes, openmetrics: bool, default_ms: int) -> None:
    batch = parse_exposition(_text(body), default_ms, openmetrics=openmetrics, limits=nightowl.ingestor.limits)
    nightowl.ingestor.append(batch, "import_prometheus")


def _import_json(nightowl: Nightowl, body: bytes) -> None:
    batch: SampleBatch = parse_json_lines(body)
    nightowl.ingestor.append(batch, "import_json")


@router.post(
    "/import/prometheus",
    status_code=204,
    response_class=Response,
    summary="Import Prometheus text or OpenMetrics, with or without timestamps (backfill)",
    openapi_extra=raw_body("text/plain", OPENMETRICS_MEDIA_TYPE),
    dependencies=[Depends(requires("ingest"))],
)
async def import_prometheus(request: Request, nightowl: NightowlDep) -> Response:
    """Prometheus text timestamps are milliseconds, OpenMetrics ones seconds; samples without one are
    stamped now. The value `stale` stores a staleness marker. `timestamp` (ms) overrides "now"."""
    params = await _params(request, read_form=False)
    default_ms = round(nightowl.clock.now() * 1000)
    if params.get("timestamp"):
        try:
            default_ms = int(params["timestamp"][-1])
        except ValueError:
            raise InvalidInput("timestamp must be integer milliseconds", field="timestamp") from None
    openmetrics = request.headers.get("content-type", "").startswith(OPENMETRICS_MEDIA_TYPE)
    with nightowl.ingestor.admit("import_prometheus"):
        body = await _body(request, nightowl)
        await run_in_threadpool(_import_text, nightowl, body, openmetrics, default_ms)
    return Response(status_code=204)


@router.post(
    "/import",
    status_code=204,
    response_class=Response,
    summary="Import JSON lines as /export writes them",
    openapi_extra=raw_body("application/x-ndjson"),
    dependencies=[Depends(requires("ingest"))],
)
async def import_json_lines(request: Request, nightowl: NightowlDep) -> Response:
    with nightowl.ingestor.admit("import_json"):
        body = await _body(request, nightowl)
        await run_in_threadpool(_import_json, nightowl, body)
    return Response(status_code=204)


def _select_union(nightowl: Nightowl, matcher_sets: list[list[Matcher]], start: int, end: int) -> list[Series]:
    found: dict[Labels, Series] = {}
    for matchers in matcher_sets:
        for series in nightowl.storage.select(matchers, start, end):
            found.setdefault(series.labels, series)
    return [found[labels] for labels in sorted(found)]


@router.get(
    "/export",
    summary="Export matching series as JSON lines (one series per line)",
    response_class=StreamingResponse,
    dependencies=[Depends(requires("read"))],
)
@router.post(
    "/export",
    summary="Export matching series as JSON lines (selectors in a form body)",
    response_class=StreamingResponse,
    dependencies=[Depends(requires("read"))],
)
async def export(request: Request, nightowl: NightowlDep) -> StreamingResponse:
    """`match[]` (repeatable) selects series; `start`/`end` (Unix seconds or RFC 3339) bound the samples,
    by default everything up to now."""
    params = await _params(request)
    matcher_sets = _matcher_sets(params)
    start, end = _window(params)
    lo = MIN_TIME_MS if start is None else start
    hi = round(nightowl.clock.now() * 1000) if end is None else end
    series = await run_in_threadpool(_select_union, nightowl, matcher_sets, lo, hi)
    return StreamingResponse(export_lines(series), media_type="application/x-ndjson")


@router.post(
    "/admin/tsdb/delete_series",
    status_code=204,
    response_class=Response,
    summary="Delete matching series, or only their samples between start and end",
    dependencies=[Depends(requires("admin"))],
)
@router.put(
    "/admin/tsdb/delete_series",
    status_code=204,
    response_class=Response,
    summary="Delete matching series (PUT, as Prometheus also accepts)",
    dependencies=[Depends(requires("admin"))],
)
async def delete_series(request: Request, nightowl: NightowlDep) -> Response:
    """Delete by `match[]`, as Prometheus's admin API does."""
    params = await _params(request)
    matcher_sets = _matcher_sets(params)
    start, end = _window(params)

    def delete() -> None:
        for matchers in matcher_sets:
            nightowl.storage.delete_series(matchers, start, end)

    await run_in_threadpool(delete)
    return Response(status_code=204)


RW_V1 = "prometheus.WriteRequest"
RW_V2 = "io.prometheus.write.v2.Request"


def remote_write_message(content_type: str | None) -> str:
    """Which remote write message the Content-Type announces; 415 for anything else."""
    if not content_type:
        return RW_V1
    media, *params = [part.strip() for part in content_type.split(";")]
    if media.lower() != "application/x-protobuf":
        raise UnsupportedMediaType(f"remote write takes application/x-protobuf, not {media!r}", field="Content-Type")
    for param in params:
        key, _, value = param.partition("=")
        if key.strip().lower() == "proto":
            proto = value.strip().strip('"')
            if proto not in (RW_V1, RW_V2):
                raise UnsupportedMediaType(
                    f"unsupported remote write message {proto!r}; supported: {RW_V1}, {RW_V2}", field="Content-Type"
                )
            return proto
    return RW_V1


def _written_headers(samples: int, histograms: int = 0, exemplars: int = 0) -> dict[str, str]:
    return {
        "X-Prometheus-Remote-Write-Samples-Written": str(samples),
        "X-Prometheus-Remote-Write-Histograms-Written": str(histograms),
        "X-Prometheus-Remote-Write-Exemplars-Written": str(exemplars),
    }


def _remote_write(nightowl: Nightowl, raw: bytes, message: str) -> dict[str, str]:
    """Decode, store, and say what was written (remote write 2.0 response headers)."""
    protocol = "remote_write_v2" if message == RW_V2 else "remote_write"
    v2 = message == RW_V2
    try:
        payload = snappy_block(raw, nightowl.settings.ingest_max_decompressed_bytes)
        limits = nightowl.ingestor.limits
        decoded: RemoteWrite = decode_v2(payload, limits) if v2 else decode_v1(payload, limits)
        result = nightowl.ingestor.append(decoded.batch, protocol)
    except NightowlError as exc:
        if v2:
            written = exc.extra.get("written", 0)
            exc.headers.update(_written_headers(written if isinstance(written, int) else 0))
        raise
    headers = _written_headers(result.accepted) if v2 else {}
    if decoded.histograms:
        nightowl.ingestor.reject(protocol, "native_histogram", decoded.histograms)
        raise InvalidSeries(
            f"{decoded.histograms} native histogram samples were not stored: Nightowl stores float samples only "
            f"(send classic histograms); {result.accepted} float samples were written",
            field="histograms",
            headers=headers,
            extra={"reason": "native_histogram"},
        )
    return headers


@router.post(
    "/write",
    status_code=204,
    response_class=Response,
    summary="Prometheus remote write 1.0 and 2.0 (snappy-compressed protobuf)",
    openapi_extra=raw_body("application/x-protobuf", binary=True),
    dependencies=[Depends(requires("ingest"))],
)
async def remote_write(request: Request, nightowl: NightowlDep) -> Response:
    """Content-Type `application/x-protobuf` (1.0) or `application/x-protobuf;proto=io.prometheus.write.v2.Request`
    (2.0), Content-Encoding `snappy`. 204 when every sample is stored; 400 for bad data (do not retry);
    429/503 with Retry-After when overloaded (retry later)."""
    content_type = request.headers.get("content-type") or ""
    protocol = "remote_write_v2" if RW_V2 in content_type else "remote_write"
    with nightowl.ingestor.admit(protocol):
        message = remote_write_message(content_type)
        encoding = (request.headers.get("content-encoding") or "snappy").strip().lower()
        if encoding != "snappy":
            raise UnsupportedMediaType(
                f"remote write bodies must be snappy-compressed, not {encoding!r}", field="Content-Encoding"
            )
        raw = await request.body()
        headers = await run_in_threadpool(_remote_write, nightowl, raw, message)
    return Response(status_code=204, headers=headers)


@router.post(
    "/admin/tsdb/flush",
    status_code=204,
    response_class=Response,
    summary="Write everything buffered in memory to disk (before a backup or a disk-size measurement)",
    # Flushing loses nothing and changes no data: whoever may write samples may ask for it.
    dependencies=[Depends(requires("ingest"))],
)
async def flush(nightowl: NightowlDep) -> Response:
    await run_in_threadpool(nightowl.storage.flush)
    return Response(status_code=204)
